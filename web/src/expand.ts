/**
 * A folded group opened in place. The cores' DOT draws a group as one folder node
 * (`model.layers.0..11.*`, its count, bytes and biggest parts); the document lists the group's
 * members (their access paths, `groups[].members`). Expanding adds, beside the folder, a box
 * (one DOT node) holding the members: for repeated structure one cell per index
 * (`model.layers.3.*` listing that layer's tensors), else cells of `CHUNK` members each. The
 * folder stays, so its links and place in the drawing do not move, and clicking it again folds
 * the group back. Only these added statements are written here; every string in them is a
 * member's name from the document, escaped exactly as the cores escape names (`_h` and
 * `_quoted` in tensorviews/render/dot.py), so a name cannot change the drawing's structure.
 * Pure: tested without a DOM.
 */

import type { GroupNode, StorageGraph } from './model';

/** Members per cell when a group has no repeated index to split them by (the node cap's groups). */
export const CHUNK = 12;
/** Member chunks per row of the expanded box (as the cores lay out lone units in rows). */
export const NODES_PER_ROW = 4;

/** One node of an expanded group: a title and the member paths it lists. */
export interface MemberChunk {
  title: string;
  /** Full access paths of the members in this node. */
  members: string[];
  /** What each member's row says: its path after the chunk's common head. */
  rows: string[];
}

/** The repeated index of a group label: `model.layers.0..11.*` → head `model.layers.`. */
function rangeOf(label: string): { head: string; after: string } | null {
  const match = /(\d+)(\.\.|,\.\.,)(\d+)/.exec(label);
  if (match === null) return null;
  return { head: label.slice(0, match.index), after: label.slice(match.index + match[0].length) };
}

/** The group's members split into the nodes its expansion draws. */
export function memberChunks(group: GroupNode): MemberChunk[] {
  const range = rangeOf(group.label);
  if (range !== null) {
    const byIndex = new Map<string, MemberChunk>();
    const rest: string[] = [];
    for (const member of group.members) {
      const index = member.startsWith(range.head) ? /^\d+/.exec(member.slice(range.head.length)) : null;
      if (index === null) {
        rest.push(member);
        continue;
      }
      const cut = range.head.length + index[0].length;
      let chunk = byIndex.get(index[0]);
      if (!chunk) {
        chunk = { title: `${range.head}${index[0]}${range.after}`, members: [], rows: [] };
        byIndex.set(index[0], chunk);
      }
      chunk.members.push(member);
      chunk.rows.push(member.slice(cut).replace(/^\./, '') || member);
    }
    return [...byIndex.values(), ...fixedChunks(rest, `${group.label} (other)`)];
  }
  return fixedChunks(group.members, group.label);
}

function fixedChunks(members: readonly string[], label: string): MemberChunk[] {
  const chunks: MemberChunk[] = [];
  for (let i = 0; i < members.length; i += CHUNK) {
    const slice = members.slice(i, i + CHUNK);
    const span = members.length > CHUNK ? ` (${i + 1}–${i + slice.length})` : '';
    chunks.push({ title: `${label}${span}`, members: slice, rows: slice });
  }
  return chunks;
}

/** The DOT name of the node that draws an opened group's members. */
export function memberNodeId(groupId: string): string {
  return `${groupId}_open`;
}

/** The group whose opened box a node's DOT name is, or null. */
export function memberRef(graph: StorageGraph, title: string): string | null {
  const match = /^\s*(\S+)_open\s*$/.exec(title);
  return match !== null && graph.groups.some((g) => g.id === match[1]) ? match[1]! : null;
}

/** Text in an HTML-like label: as the cores' `_h` (HTML-escaped, backslashes doubled for escString). */
export function htmlLabelText(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#x27;')
    .replace(/\\/g, '\\\\');
}

/** A DOT quoted string: as the cores' `_quoted` (escString stays inert). */
export function dotQuoted(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

function chunkTable(chunk: MemberChunk): string {
  const rows = [
    `<TR><TD ALIGN="LEFT"><B>${htmlLabelText(chunk.title)}</B></TD></TR>`,
    ...chunk.rows.map((row) => `<TR><TD ALIGN="LEFT"><FONT POINT-SIZE="9">${htmlLabelText(row)}</FONT></TD></TR>`),
  ];
  return `<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0">${rows.join('')}</TABLE>`;
}

function formatCount(n: number): string {
  return `${n} tensor${n === 1 ? '' : 's'}/array${n === 1 ? '' : 's'}`;
}

/** What the opened group's box says on top: the group, its count, and what is not listed. */
export function expansionCaption(group: GroupNode): string {
  const unlisted = group.count - group.members.length;
  return `${group.label}: ${formatCount(group.count)}` + (unlisted > 0 ? ` (${unlisted} not listed)` : '');
}

/**
 * The DOT statements that draw `group` expanded: one node, a table of its member chunks in rows
 * of `NODES_PER_ROW` (first chunk top left), linked to the folder. One node, not one per
 * chunk: graphviz gives every node its own rank column, and those columns would be as wide as
 * the folders beside them.
 */
export function expansionStatements(group: GroupNode): string[] {
  const chunks = memberChunks(group);
  if (chunks.length === 0) return [];
  const columns = Math.min(NODES_PER_ROW, chunks.length);
  const rows = [`<TR><TD COLSPAN="${columns}" ALIGN="LEFT"><B>${htmlLabelText(expansionCaption(group))}</B></TD></TR>`];
  for (let i = 0; i < chunks.length; i += NODES_PER_ROW) {
    const cells = chunks
      .slice(i, i + NODES_PER_ROW)
      .map((chunk) => `<TD BORDER="1" COLOR="#b0bec5" BGCOLOR="#ffffff" VALIGN="TOP" ALIGN="LEFT">${chunkTable(chunk)}</TD>`);
    rows.push(`<TR>${cells.join('')}</TR>`);
  }
  const label = `<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="6">${rows.join('')}</TABLE>>`;
  const tooltip = `${expansionCaption(group)}\nclick the folder to fold it`;
  return [
    `  ${memberNodeId(group.id)} [shape=box, style="rounded,filled", fillcolor="#f5f7f8", color="#90a4ae", ` +
      `label=${label}, tooltip=${dotQuoted(tooltip)}];`,
    `  ${group.id} -> ${memberNodeId(group.id)} [style=dashed, color="#90a4ae", arrowhead=none];`,
  ];
}

/**
 * The cores' `dot` with the groups in `expanded` drawn open. Groups without listed members
 * (the per-cell view's node cap lists none) stay folded. The statements go before the graph's
 * closing brace: DOT lets a graph add nodes and clusters anywhere in its body.
 */
export function expandedDot(dot: string, graph: StorageGraph, expanded: ReadonlySet<string>): string {
  const added = graph.groups.filter((g) => expanded.has(g.id)).flatMap(expansionStatements);
  if (added.length === 0) return dot;
  const end = dot.lastIndexOf('}');
  if (end < 0) return dot;
  return `${dot.slice(0, end)}${added.join('\n')}\n${dot.slice(end)}`;
}

/** Whether a group can be expanded: the document lists at least one of its members. */
export function canExpand(group: GroupNode): boolean {
  return group.members.length > 0;
}
