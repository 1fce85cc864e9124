/**
 * What each element of the cores' drawing stands for. The Python cores write the DOT with the
 * graph's own ids as node names (`t0`, `s0`, `g0`), and graphviz writes each node as
 * `<g class="node"><title>t0</title>...` and each edge as `<g class="edge"><title>t0->s0</title>`.
 * These functions map those titles back to the document's tensors, storages, groups and
 * overlaps, so the webview can put its interactivity on the SVG. Pure: tested without a DOM.
 */

import type { StorageGraph } from './model';

export type NodeKind = 'tensor' | 'storage' | 'group';

export interface NodeRef {
  kind: NodeKind;
  /** The document's id of the tensor, storage or group. */
  id: string;
}

export type EdgeRef =
  | { kind: 'storage'; tensor: string; storage: string }
  | { kind: 'base'; tensor: string; base: string }
  | { kind: 'overlap'; a: string; b: string; index: number }
  | { kind: 'other' };

/** Marks the client styles, by `why`; any other mark still gets the generic `tv-marked`. */
export const MARK_CLASSES: Record<string, string> = {
  'pinned by small views': 'tv-mark-pinned',
  new: 'tv-mark-new',
  'new sharing': 'tv-mark-new-sharing',
};

export function nodeRef(graph: StorageGraph, title: string): NodeRef | null {
  const id = title.trim();
  if (graph.tensors.some((t) => t.id === id)) return { kind: 'tensor', id };
  if (graph.storages.some((s) => s.id === id)) return { kind: 'storage', id };
  if (graph.groups.some((g) => g.id === id)) return { kind: 'group', id };
  return null;
}

/** The two node names of an edge title (`t0->s0`, as the DOM decodes graphviz's `t0&#45;&gt;s0`). */
export function edgeEnds(title: string): [string, string] | null {
  const match = /^\s*(\S+?)\s*->\s*(\S+)\s*$/.exec(title);
  return match ? [match[1]!, match[2]!] : null;
}

/**
 * What an edge is, from its title and the text graphviz drew on it (`view of`, `overlap`,
 * `may overlap`): a view's link to its storage, to the tensor it is a view of, or a red link
 * between overlapping views (index into `graph.overlaps`).
 */
export function edgeRef(graph: StorageGraph, title: string, labels: readonly string[] = []): EdgeRef {
  const ends = edgeEnds(title);
  if (ends === null) return { kind: 'other' };
  const [a, b] = ends;
  const tensor = graph.tensors.find((t) => t.id === a);
  // A view and its base can also overlap partially; the text on the edge tells the links apart.
  const saysOverlap = labels.some((l) => /overlap/.test(l));
  if (tensor && tensor.base === b && !saysOverlap) return { kind: 'base', tensor: a, base: b };
  if (tensor && tensor.storage === b && graph.storages.some((s) => s.id === b)) return { kind: 'storage', tensor: a, storage: b };
  const index = graph.overlaps.findIndex((e) => (e.a === a && e.b === b) || (e.a === b && e.b === a));
  if (index >= 0) return { kind: 'overlap', a, b, index };
  return { kind: 'other' };
}

/** CSS classes for a node's marks: `tv-marked` and one per known reason. */
export function markClasses(graph: StorageGraph, id: string): string[] {
  const whys = graph.marks.filter((m) => m.id === id).map((m) => m.why);
  if (whys.length === 0) return [];
  return ['tv-marked', ...whys.map((why) => MARK_CLASSES[why]).filter((c): c is string => c !== undefined)];
}
