/**
 * What to highlight when the user clicks a tensor: the tensors that share at least one element
 * with it (exact overlaps from the kernel), the other views of the same storage (same buffer,
 * possibly disjoint elements), that storage, and the edges that connect them.
 */

import type { StorageGraph } from './model';

export interface SharingSet {
  tensor: string;
  /** Tensors sharing at least one element with `tensor` (from `graph.overlaps`). */
  overlapping: Set<string>;
  /** Other views of the same storage that do not share elements with it. */
  sameStorage: Set<string>;
  storage: string | null;
  /** Indices into `graph.overlaps` of the edges that touch `tensor`. */
  overlapEdges: Set<number>;
}

export function sharingSet(graph: StorageGraph, tensorId: string): SharingSet {
  const tensor = graph.tensors.find((t) => t.id === tensorId);
  if (tensor === undefined) throw new Error(`no tensor ${tensorId} in the graph`);
  const overlapping = new Set<string>();
  const overlapEdges = new Set<number>();
  graph.overlaps.forEach((edge, i) => {
    if (edge.a === tensorId || edge.b === tensorId) {
      const other = edge.a === tensorId ? edge.b : edge.a;
      if (other !== tensorId) overlapping.add(other);
      overlapEdges.add(i);
    }
  });
  const sameStorage = new Set<string>();
  if (tensor.storage !== null) {
    for (const t of graph.tensors) {
      if (t.storage === tensor.storage && t.id !== tensorId && !overlapping.has(t.id)) sameStorage.add(t.id);
    }
  }
  return { tensor: tensorId, overlapping, sameStorage, storage: tensor.storage, overlapEdges };
}

/** Tensors that share memory with anything else: a quick "who is aliased" list for summaries. */
export function aliasedTensorCount(graph: StorageGraph): number {
  const ids = new Set<string>();
  for (const e of graph.overlaps) {
    if (e.a !== e.b) {
      ids.add(e.a);
      ids.add(e.b);
    }
  }
  return ids.size;
}
