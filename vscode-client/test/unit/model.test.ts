import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GraphFormatError, parseGraph } from '@tensorviews/web/model';
import { fixture, fixtureText } from './fixtures';

describe('parseGraph', () => {
  it('reads a real view document, field for field', () => {
    const graph = parseGraph(fixture('swap'));
    assert.equal(graph.schema, 'tensorviews.graph/1');
    assert.deepEqual(graph.storages.map((s) => [s.id, s.device, s.nbytes]), [['s0', 'cpu', 16], ['s1', 'cpu', 16]]);
    const rowA = graph.tensors.find((t) => t.names.includes('row_a'))!;
    assert.deepEqual(
      { storage: rowA.storage, shape: rowA.shape, stride: rowA.stride, offset: rowA.offset, base: rowA.base, dtype: rowA.dtype },
      { storage: 's0', shape: [2], stride: [1], offset: 0, base: 't0', dtype: 'float32' },
    );
    assert.equal(graph.overlaps.length, 3);
    assert.match(graph.dot ?? '', /^digraph tensorviews \{/);
    assert.deepEqual([graph.notes, graph.marks, graph.groups], [[], [], []]);
  });

  it('reads the notes, marks and groups the view put in the document', () => {
    const pinned = parseGraph(fixture('pinned'));
    assert.equal(pinned.notes.length, 1);
    assert.match(pinned.notes[0]!, /^h \(4\.0 KiB\) keeps its storage \(64\.0 MiB\) alive/);
    assert.deepEqual(pinned.marks, [{ id: 's0', why: 'pinned by small views' }]);
    const folded = parseGraph(fixture('folded'));
    assert.deepEqual(folded.groups[0], {
      id: 'g0', label: 'model.1.*', device: 'cpu', count: 2, nbytes: 24, category: '', members: ['model.1.weight', 'model.1.bias'], parts: [],
    });
    const encoder = parseGraph(fixture('encoder'));
    assert.deepEqual(encoder.groups[0]!.parts[0], { label: 'model.layers.*.self_attn.in_proj_weight', count: 12, nbytes: encoder.groups[0]!.parts[0]!.nbytes });
    assert.deepEqual(folded.notes, ['6 more tensors/arrays folded into 3 groups']);
  });

  it('accepts the JSON text as well as the parsed value', () => {
    assert.deepEqual(parseGraph(fixtureText('mixed')), parseGraph(fixture('mixed')));
  });

  it('rejects other schemas, non-objects and broken lists with a GraphFormatError', () => {
    for (const bad of [
      null, 3, '[1]', '{nope', { schema: 'other/1' }, { schema: 'tensorviews.graph/2' },
      { schema: 'tensorviews.graph/1', tensors: 'x' }, { schema: 'tensorviews.graph/1', groups: [{ label: 'x' }] },
      { schema: 'tensorviews.graph/1', dot: 42 },
    ]) {
      assert.throws(() => parseGraph(bad), GraphFormatError, JSON.stringify(bad));
    }
  });

  it('a document without dot (an older kernel) parses, with dot null', () => {
    const { dot: _dot, ...old } = fixture('swap') as Record<string, unknown>;
    const graph = parseGraph(old);
    assert.equal(graph.dot, null);
    assert.equal(graph.tensors.length, 5);
  });

  it('requires ids, defaults missing facts, drops overlaps to unknown tensors and odd marks', () => {
    assert.throws(() => parseGraph({ schema: 'tensorviews.graph/1', tensors: [{ names: ['a'] }] }), /no string id/);
    const graph = parseGraph({
      schema: 'tensorviews.graph/1',
      storages: [{ id: 's0' }],
      tensors: [{ id: 't0', storage: 's0', shape: [2, 'x'] }],
      overlaps: [{ a: 't0', b: 't9' }, { a: 't0', b: 't0', exact: false }],
      marks: [{ id: 's0', why: 'new' }, { id: 3, why: 'new' }, { id: 's0' }],
      notes: ['one', 2],
    });
    assert.deepEqual(graph.tensors[0]!.shape, []);
    const sized = parseGraph({ schema: 'tensorviews.graph/1', tensors: [{ id: 't0', shape: [3, 4], itemsize: 2 }] });
    assert.equal(sized.tensors[0]!.logicalNbytes, 24, 'computed when the producer left it out');
    assert.equal(graph.tensors[0]!.stride, null);
    assert.equal(graph.storages[0]!.nbytes, null);
    assert.deepEqual(graph.overlaps, [{ a: 't0', b: 't0', exact: false }]);
    assert.deepEqual(graph.marks, [{ id: 's0', why: 'new' }]);
    assert.deepEqual(graph.notes, ['one']);
  });
});
