/**
 * The storage graph as DOT for graphviz: one cluster per device, a box per storage (with its
 * size), a node per tensor or array (shape, stride, offset), edges from views to their storage,
 * dashed edges to the tensor they are a view of, and red edges between overlapping views.
 * Tooltips are not part of the DOT: the view sets them from the graph as DOM text.
 *
 * DOT node ids are generated (`t0`, `s0`, ...) and mapped back through `DotGraph.nodes`, so a
 * kernel string never becomes a DOT id or an SVG id: names only appear in escaped labels.
 */

import { dotId, dotLabel } from './dotEscape';
import { formatBytes, formatTuple, tensorTitle } from './format';
import type { StorageGraph, TensorNode } from './model';

export interface DotNodeRef {
  kind: 'tensor' | 'storage';
  /** The graph's own id of the tensor or storage. */
  id: string;
}

export interface DotGraph {
  dot: string;
  /** DOT/SVG element id -> what it stands for (nodes only). */
  nodes: Map<string, DotNodeRef>;
  tensorDotId: Map<string, string>;
  storageDotId: Map<string, string>;
  /** SVG id of each overlap edge, index-aligned with `graph.overlaps`. */
  overlapEdgeIds: string[];
}

const MAX_NAMES_IN_LABEL = 3;

function tensorLabel(tensor: TensorNode): string[] {
  const shown = tensor.names.slice(0, MAX_NAMES_IN_LABEL);
  const lines = shown.length ? [...shown] : [tensorTitle(tensor)];
  if (tensor.names.length > MAX_NAMES_IN_LABEL) lines.push(`+${tensor.names.length - MAX_NAMES_IN_LABEL} more names`);
  lines.push(`${tensor.library} ${tensor.dtype} ${formatTuple(tensor.shape)}`);
  lines.push(`stride ${formatTuple(tensor.stride)} offset ${tensor.offset ?? '?'}`);
  return lines;
}

export function overlappingTensorIds(graph: StorageGraph): Set<string> {
  const ids = new Set<string>();
  for (const edge of graph.overlaps) {
    ids.add(edge.a);
    ids.add(edge.b);
  }
  return ids;
}

export function graphToDot(graph: StorageGraph): DotGraph {
  const nodes = new Map<string, DotNodeRef>();
  const tensorDotId = new Map<string, string>();
  const storageDotId = new Map<string, string>();
  graph.storages.forEach((s, i) => {
    storageDotId.set(s.id, `s${i}`);
    nodes.set(`s${i}`, { kind: 'storage', id: s.id });
  });
  graph.tensors.forEach((t, i) => {
    tensorDotId.set(t.id, `t${i}`);
    nodes.set(`t${i}`, { kind: 'tensor', id: t.id });
  });
  const overlapping = overlappingTensorIds(graph);

  // Devices in first-seen order: storages first, then tensors without a storage.
  const devices: string[] = [];
  const byDevice = new Map<string, string[]>();
  const place = (device: string, line: string): void => {
    if (!byDevice.has(device)) {
      devices.push(device);
      byDevice.set(device, []);
    }
    byDevice.get(device)!.push(line);
  };

  for (const s of graph.storages) {
    const id = dotId(storageDotId.get(s.id)!);
    const label = dotLabel([`storage ${formatBytes(s.nbytes)}`, `${s.device}${s.pinned ? ' pinned' : ''} · ${s.libraries.join(' + ') || '?'}`]);
    place(s.device, `${id} [id="${id}", class="tv-storage", shape=box3d, style=filled, fillcolor="#e8eef7", label=${label}];`);
  }
  for (const t of graph.tensors) {
    const id = dotId(tensorDotId.get(t.id)!);
    const storage = t.storage === null ? undefined : graph.storages.find((s) => s.id === t.storage);
    const classes = ['tv-tensor', overlapping.has(t.id) ? 'tv-overlapping' : '', t.selfOverlap ? 'tv-self-overlap' : '']
      .filter(Boolean)
      .join(' ');
    const fill = overlapping.has(t.id) ? '#fde2e1' : '#ffffff';
    const color = overlapping.has(t.id) ? '#c62828' : '#455a64';
    place(
      storage?.device ?? t.device,
      `${id} [id="${id}", class="${classes}", shape=box, style="rounded,filled", color="${color}", fillcolor="${fill}", label=${dotLabel(tensorLabel(t))}];`,
    );
  }

  const lines: string[] = [
    'digraph tensorviews {',
    '  graph [rankdir=LR, fontname="Helvetica", fontsize=11, nodesep=0.25, ranksep=0.6, bgcolor="transparent"];',
    '  node [fontname="Helvetica", fontsize=10, margin="0.12,0.06"];',
    '  edge [fontname="Helvetica", fontsize=9, color="#78909c"];',
  ];
  devices.forEach((device, i) => {
    lines.push(`  subgraph cluster_d${i} {`);
    lines.push(`    id="cluster_d${i}"; class="tv-device"; label=${dotLabel([device])}; style="rounded,dashed"; color="#90a4ae";`);
    for (const line of byDevice.get(device)!) lines.push(`    ${line}`);
    lines.push('  }');
  });
  for (const t of graph.tensors) {
    const from = tensorDotId.get(t.id)!;
    const to = t.storage === null ? undefined : storageDotId.get(t.storage);
    if (to !== undefined) lines.push(`  ${from} -> ${to} [id="e_${from}_${to}", class="tv-storage-edge", arrowhead=none];`);
    const base = t.base === null ? undefined : tensorDotId.get(t.base);
    if (base !== undefined) {
      lines.push(`  ${from} -> ${base} [id="b_${from}_${base}", class="tv-base-edge", style=dashed, arrowhead=empty, constraint=false];`);
    }
  }
  const overlapEdgeIds: string[] = [];
  graph.overlaps.forEach((edge, i) => {
    const a = tensorDotId.get(edge.a)!;
    const b = tensorDotId.get(edge.b)!;
    const id = `o${i}`;
    overlapEdgeIds.push(id);
    const style = edge.exact ? 'bold' : 'dashed';
    lines.push(`  ${a} -> ${b} [id="${id}", class="tv-overlap-edge", dir=none, color="#c62828", penwidth=2, style=${style}, constraint=false];`);
  });
  if (graph.tensors.length === 0) {
    lines.push('  empty [shape=plaintext, label="no tensors or arrays in this namespace"];');
  }
  lines.push('}');
  return { dot: lines.join('\n'), nodes, tensorDotId, storageDotId, overlapEdgeIds };
}
