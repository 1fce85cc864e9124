import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GraphFormatError, parseGraph } from '../../src/graph/model';
import { fixture, fixtureText } from './fixtures';

describe('parseGraph', () => {
  it('reads a real kernel_ext snapshot, field for field', () => {
    const graph = parseGraph(fixture('swap'));
    assert.equal(graph.schema, 'tensorviews.graph/1');
    assert.deepEqual(graph.storages.map((s) => [s.id, s.device, s.nbytes]), [['s0', 'cpu', 16], ['s1', 'cpu', 16]]);
    const rowA = graph.tensors.find((t) => t.names.includes('row_a'))!;
    assert.deepEqual(
      { storage: rowA.storage, shape: rowA.shape, stride: rowA.stride, offset: rowA.offset, base: rowA.base, dtype: rowA.dtype },
      { storage: 's0', shape: [2], stride: [1], offset: 0, base: 't0', dtype: 'float32' },
    );
    assert.equal(graph.overlaps.length, 3);
  });

  it('accepts the JSON text as well as the parsed value', () => {
    assert.deepEqual(parseGraph(fixtureText('mixed')), parseGraph(fixture('mixed')));
  });

  it('rejects other schemas, non-objects and broken lists with a GraphFormatError', () => {
    for (const bad of [null, 3, '[1]', '{nope', { schema: 'other/1' }, { schema: 'tensorviews.graph/2' }, { schema: 'tensorviews.graph/1', tensors: 'x' }]) {
      assert.throws(() => parseGraph(bad), GraphFormatError, JSON.stringify(bad));
    }
  });

  it('requires ids, defaults missing facts, drops overlaps to unknown tensors', () => {
    assert.throws(() => parseGraph({ schema: 'tensorviews.graph/1', tensors: [{ names: ['a'] }] }), /no string id/);
    const graph = parseGraph({
      schema: 'tensorviews.graph/1',
      storages: [{ id: 's0' }],
      tensors: [{ id: 't0', storage: 's0', shape: [2, 'x'] }],
      overlaps: [{ a: 't0', b: 't9' }, { a: 't0', b: 't0', exact: false }],
    });
    assert.deepEqual(graph.tensors[0]!.shape, []);
    const sized = parseGraph({ schema: 'tensorviews.graph/1', tensors: [{ id: 't0', shape: [3, 4], itemsize: 2 }] });
    assert.equal(sized.tensors[0]!.logicalNbytes, 24, 'computed when the producer left it out');
    assert.equal(graph.tensors[0]!.stride, null);
    assert.equal(graph.storages[0]!.nbytes, null);
    assert.deepEqual(graph.overlaps, [{ a: 't0', b: 't0', exact: false }]);
  });
});
