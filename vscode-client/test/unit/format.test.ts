import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatBytes, formatTuple, groupDetails, markLine, tensorDetails } from '@tensorviews/web/format';
import { parseGraph } from '@tensorviews/web/model';
import { fixture, runPython } from './fixtures';

describe('format', () => {
  it('formats sizes in binary units', () => {
    const table: Array<[number | null, string]> = [
      [0, '0 B'], [16, '16 B'], [1023, '1023 B'], [1024, '1 KiB'], [1536, '1.5 KiB'],
      [10 * 1024 * 1024, '10 MiB'], [3 * 1024 ** 3 + 1, '3 GiB'], [null, '? B'],
    ];
    for (const [n, text] of table) assert.equal(formatBytes(n), text, String(n));
  });

  it('spells tuples the Python way', () => {
    assert.equal(formatTuple([]), '()');
    assert.equal(formatTuple([3]), '(3,)');
    assert.equal(formatTuple([2, 2]), '(2, 2)');
    assert.equal(formatTuple(null), '?');
  });

  it('lists every fact of a tensor for tooltips', () => {
    const graph = parseGraph(fixture('mixed'));
    const xt = graph.tensors.find((t) => t.names[0] === 'xt')!;
    const details = tensorDetails(xt);
    assert.ok(details.includes('shape: (4, 3)'));
    assert.ok(details.includes('stride: (1, 4) elements'));
    assert.ok(details.includes('offset: 0 elements (0 B)'));
    assert.ok(details.includes('storage: s0'));
    assert.ok(details.includes('size: 48 B'));
  });

  it("names the tensor a view is of by its name, not its id", () => {
    const graph = parseGraph(fixture('swap'));
    const rowA = graph.tensors.find((t) => t.names[0] === 'row_a')!;
    assert.equal(rowA.base, 't0');
    assert.ok(tensorDetails(rowA, graph).includes('view of: a'), tensorDetails(rowA, graph).join('\n'));
    const alone = { ...graph, tensors: graph.tensors.filter((t) => t.id !== 't0') };
    assert.ok(tensorDetails(rowA, alone).includes('view of: a tensor not drawn (t0)'));
  });

  it('describes marks and folded groups in words', () => {
    const pinned = parseGraph(fixture('pinned'));
    assert.equal(markLine(pinned, pinned.marks[0]!), 'storage of h (64 MiB): pinned by small views');
    const folded = parseGraph(fixture('folded'));
    assert.deepEqual(groupDetails(folded.groups[0]!).slice(0, 3), ['2 more tensors/arrays under model.1.*', 'device: cpu', 'size: 24 B']);
  });

  it('says a parameter is tied when the model holds it at two places', () => {
    const out = runPython([
      'import json, torch, kernel_ext',
      'emb = torch.nn.Embedding(10, 4)',
      'head = torch.nn.Linear(4, 10, bias=False)',
      'head.weight = emb.weight',
      'ns = {"model": torch.nn.Sequential(emb, head), "alone": torch.nn.Linear(2, 2)}',
      'print(json.dumps(kernel_ext.snapshot(ns).to_dict()))',
    ].join('\n'));
    const graph = parseGraph(JSON.parse(out));
    const tied = graph.tensors.find((t) => t.names[0] === 'model.0.weight')!;
    assert.deepEqual(tied.names, ['model.0.weight', 'model.1.weight']);
    assert.ok(tensorDetails(tied).includes('parameter: yes, tied (one parameter at two places of the model)'));
    const alone = graph.tensors.find((t) => t.names[0] === 'alone.weight')!;
    assert.ok(tensorDetails(alone).includes('parameter: yes'));
    assert.equal(alone.tied, false);
  });
});
