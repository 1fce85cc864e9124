import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseGraph } from '@tensorviews/web/model';
import { aliasedTensorCount, sharingSet } from '@tensorviews/web/sharing';
import { fixture } from './fixtures';

const swap = parseGraph(fixture('swap'));
const byName = (name: string): string => swap.tensors.find((t) => t.names.includes(name))!.id;

describe('sharingSet', () => {
  it('a row shares elements with its matrix, and only storage with the other row', () => {
    const set = sharingSet(swap, byName('row_a'));
    assert.deepEqual([...set.overlapping], [byName('a')]);
    assert.deepEqual([...set.sameStorage], [byName('other_row')]);
    assert.equal(set.storage, 's0');
    assert.deepEqual([...set.overlapEdges], [0]);
  });

  it('a matrix shares elements with both of its rows; nothing of the other matrix', () => {
    const set = sharingSet(swap, byName('a'));
    assert.deepEqual([...set.overlapping].sort(), [byName('other_row'), byName('row_a')].sort());
    assert.equal(set.sameStorage.size, 0);
    assert.ok(![...set.overlapping].includes(byName('b')));
  });

  it('numpy arrays and torch views of one buffer are found across libraries', () => {
    const mixed = parseGraph(fixture('mixed'));
    const id = (n: string): string => mixed.tensors.find((t) => t.names.includes(n))!.id;
    const set = sharingSet(mixed, id('x_np'));
    assert.deepEqual([...set.overlapping].sort(), [id('x'), id('xt'), id('col')].sort());
    assert.equal(aliasedTensorCount(mixed), 6, 'x, xt, x_np, col, and head and tail of another buffer');
  });

  it('an unknown tensor is an error, not an empty highlight', () => {
    assert.throws(() => sharingSet(swap, 'nope'), /no tensor nope/);
  });
});
