import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatBytes, formatTuple, tensorDetails } from '../../src/graph/format';
import { parseGraph } from '../../src/graph/model';
import { fixture } from './fixtures';

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
});
