/** Human-readable sizes, tuples, details and one-line summaries of graph nodes, for the DOM. */

import type { GroupNode, Mark, StorageGraph, StorageNode, TensorNode } from './model';

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(n: number | null): string {
  if (n === null) return '? B';
  let value = n;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${value.toFixed(digits).replace(/\.0+$|(\.\d*?)0+$/, '$1')} ${UNITS[unit]}`;
}

/** Python tuple spelling, so shapes read as the user wrote them: `(3,)`, `(2, 2)`, `()`. */
export function formatTuple(values: readonly number[] | null): string {
  if (values === null) return '?';
  return values.length === 1 ? `(${values[0]},)` : `(${values.join(', ')})`;
}

export function tensorTitle(tensor: TensorNode): string {
  return tensor.names[0] ?? `<${tensor.id}>`;
}

/**
 * What a storage is called: after its owner ("storage of acts"), as the cores' drawing titles
 * it; else after a tensor on it; its id only when nothing drawn is on it.
 */
export function storageTitle(storage: StorageNode, graph?: StorageGraph): string {
  const owner =
    graph?.tensors.find((t) => t.id === storage.owner) ??
    graph?.tensors.find((t) => t.storage === storage.id);
  return owner ? `storage of ${tensorTitle(owner)}` : `storage ${storage.id}`;
}

/**
 * Every fact about a tensor, one `key: value` line each (tooltips and the details pane).
 * `graph` names the tensor it is a view of by that tensor's name (not its id) when it is drawn.
 */
export function tensorDetails(tensor: TensorNode, graph?: StorageGraph): string[] {
  const lines = [
    `names: ${tensor.names.length ? tensor.names.join(', ') : '(unnamed)'}`,
    `type: ${tensor.library}${tensor.type ? `.${tensor.type}` : ''}`,
    `dtype: ${tensor.dtype}${tensor.itemsize === null ? '' : ` (${tensor.itemsize} B/elem)`}`,
    `shape: ${formatTuple(tensor.shape)}`,
    `stride: ${formatTuple(tensor.stride)} elements`,
    `offset: ${tensor.offset ?? '?'} elements${tensor.byteOffset === null ? '' : ` (${tensor.byteOffset} B)`}`,
    `device: ${tensor.device}`,
    `layout: ${tensor.layout}`,
    `storage: ${storageName(tensor.storage, graph)}`,
    `size: ${formatBytes(tensor.logicalNbytes)}`,
  ];
  if (tensor.base) {
    const base = graph?.tensors.find((t) => t.id === tensor.base);
    lines.push(`view of: ${base ? tensorTitle(base) : `a tensor not drawn (${tensor.base})`}`);
  }
  if (tensor.requiresGrad) lines.push('requires_grad: True');
  if (tensor.isParameter) {
    lines.push(tensor.tied ? 'parameter: yes, tied (one parameter at two places of the model)' : 'parameter: yes');
  }
  if (tensor.selfOverlap) lines.push('self-overlapping: some of its own elements share memory');
  return lines;
}

function storageName(id: string | null, graph?: StorageGraph): string {
  if (id === null) return '(none)';
  const storage = graph?.storages.find((s) => s.id === id);
  return storage ? storageTitle(storage, graph).replace(/^storage /, '') : id;
}

export function storageDetails(storage: StorageNode, viewCount: number, graph?: StorageGraph): string[] {
  const lines = [
    `storage: ${storageTitle(storage, graph).replace(/^storage /, '')}`,
    `device: ${storage.device}${storage.pinned ? ' (pinned)' : ''}`,
    `size: ${formatBytes(storage.nbytes)}${storage.allocated ? '' : ' (not allocated: meta or fake)'}`,
    `libraries: ${storage.libraries.join(', ') || '?'}`,
    `views: ${viewCount}`,
  ];
  return lines;
}

/**
 * What a folded group holds, for its tooltip and the details pane: kind, count, bytes, the
 * breakdown by the rest of the path, every member listed, and how to open it.
 * `expanded`: null when the document lists no members (nothing to open); tooltips leave the
 * member list out (`listMembers`).
 */
export function groupDetails(group: GroupNode, expanded: boolean | null = null, listMembers = true): string[] {
  const plural = group.count === 1 ? '' : 's';
  const lines = [
    group.category
      ? `${group.category}: ${group.count} tensor${plural}/array${plural} folded under ${group.label}`
      : `${group.count} more tensor${plural}/array${plural} under ${group.label}`,
    `device: ${group.device}`,
    `size: ${formatBytes(group.nbytes)}`,
  ];
  if (group.parts.length) {
    lines.push('by kind:');
    for (const part of group.parts) lines.push(`  ${part.label} ×${part.count} · ${formatBytes(part.nbytes)}`);
  }
  if (expanded === null) {
    lines.push('folded away to keep the drawing readable (%tensorgraph --all lists the members)');
    return lines;
  }
  lines.push(expanded ? 'expanded: click the folder (or Enter) to fold it back' : 'folded: click (or Enter) to draw its members');
  if (!listMembers) return lines;
  const unlisted = group.count - group.members.length;
  lines.push(`members${unlisted > 0 ? ` (the first ${group.members.length}; ${unlisted} more not listed)` : ''}:`);
  for (const member of group.members) lines.push(`  ${member}`);
  return lines;
}

/** What a marked node is called in the line under the picture: a tensor's name, `storage of acts`, a group's label. */
export function markedNodeName(graph: StorageGraph, id: string): string {
  const tensor = graph.tensors.find((t) => t.id === id);
  if (tensor) return tensorTitle(tensor);
  const storage = graph.storages.find((s) => s.id === id);
  if (storage) return `${storageTitle(storage, graph)} (${formatBytes(storage.nbytes)})`;
  const group = graph.groups.find((g) => g.id === id);
  return group ? group.label : id;
}

export function markLine(graph: StorageGraph, mark: Mark): string {
  return `${markedNodeName(graph, mark.id)}: ${mark.why}`;
}
