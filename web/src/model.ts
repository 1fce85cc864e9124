/**
 * The fields of a view document (graph JSON `tensorviews.graph/1` with its `dot`, see
 * docs/contracts.md) that the client reads, as TypeScript types, and a parser that turns
 * untrusted JSON from a kernel or a debugger into them. The picture itself is the `dot` the
 * Python cores drew; these fields only serve the interactivity around it (which node is which,
 * what shares memory, tooltips, details) and the notes under it. A malformed document fails
 * here, once, with a clear message.
 */

export const GRAPH_SCHEMA = 'tensorviews.graph/1';
export const GRAPH_MIME = 'application/vnd.tensorviews.graph+json';

export interface StorageNode {
  id: string;
  device: string;
  nbytes: number | null;
  pinned: boolean;
  libraries: string[];
  /** False for meta and fake tensors' storages: a size with no memory behind it. */
  allocated: boolean;
  /** Id of the tensor it is named after ("storage of acts"), when drawn. */
  owner: string | null;
}

export interface TensorNode {
  id: string;
  names: string[];
  library: string;
  type: string;
  storage: string | null;
  shape: number[];
  stride: number[] | null;
  offset: number | null;
  byteOffset: number | null;
  dtype: string;
  itemsize: number | null;
  device: string;
  layout: string;
  base: string | null;
  requiresGrad: boolean;
  isParameter: boolean;
  /** A parameter the model holds at two places (weight tying). */
  tied: boolean;
  selfOverlap: boolean;
  logicalNbytes: number | null;
}

export interface OverlapEdge {
  a: string;
  b: string;
  /** False: the kernel's work bound was reached, so the pair only *may* overlap. */
  exact: boolean;
}

/** One row of a group's breakdown: its members under one path (`model.layers.*.linear1.weight`). */
export interface GroupPart {
  label: string;
  count: number;
  nbytes: number | null;
}

/**
 * Tensors folded into one node of the drawing: repeated structure (`model.layers.0..11.*`,
 * with a category and parts) or the node cap's "N more" (`model.layers.3.*`).
 */
export interface GroupNode {
  id: string;
  /** Access-path prefix, e.g. `model.layers.0..11.*` or `model.layers.3.*`. */
  label: string;
  device: string;
  count: number;
  nbytes: number | null;
  /** `parameters`, `gradients`, `optimizer state`... when the members share one, else ''. */
  category: string;
  /** Access paths of the folded tensors (the first 500; `count` says how many in all). */
  members: string[];
  /** The group broken down by the rest of the path, biggest first. */
  parts: GroupPart[];
}

/** A node the view highlights, and why (`new`, `new sharing`, `pinned by small views`). */
export interface Mark {
  id: string;
  why: string;
}

export interface StorageGraph {
  schema: string;
  storages: StorageNode[];
  tensors: TensorNode[];
  overlaps: OverlapEdge[];
  groups: GroupNode[];
  /** Insight lines: memory pinned by small views, changes since the last cell, what was left out. */
  notes: string[];
  marks: Mark[];
  problems: string[];
  truncated: string[];
  /** The DOT the cores drew; null when the document came from an older kernel without it. */
  dot: string | null;
}

export class GraphFormatError extends Error {
  override name = 'GraphFormatError';
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown, fallback: string): string {
  return typeof value === 'string' ? value : fallback;
}

function optStr(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function optInt(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function ints(value: unknown): number[] | null {
  if (!Array.isArray(value)) return null;
  return value.every((v) => typeof v === 'number' && Number.isFinite(v)) ? (value as number[]) : null;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function list(graph: Json, key: string): Json[] {
  const value = graph[key];
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every(isObject)) {
    throw new GraphFormatError(`graph.${key} must be a list of objects`);
  }
  return value;
}

function requireId(item: Json, where: string): string {
  if (typeof item.id !== 'string' || item.id === '') {
    throw new GraphFormatError(`${where} has no string id`);
  }
  return item.id;
}

/** Bytes a tensor's elements take, when a producer left `logical_nbytes` out. */
function logicalSize(shape: number[] | null, itemsize: number | null): number | null {
  return shape === null || itemsize === null ? null : shape.reduce((n, d) => n * d, itemsize);
}

/** Accepts `tensorviews.graph/1` and later minor forms (`/1.x`); extra fields are ignored. */
export function isSupportedSchema(schema: unknown): boolean {
  return typeof schema === 'string' && (schema === GRAPH_SCHEMA || schema.startsWith(`${GRAPH_SCHEMA}.`));
}

/** Validates and normalises a graph; `value` may be the parsed JSON or its text. */
export function parseGraph(value: unknown): StorageGraph {
  let data = value;
  if (typeof value === 'string') {
    try {
      data = JSON.parse(value);
    } catch (error) {
      throw new GraphFormatError(`graph is not valid JSON: ${(error as Error).message}`);
    }
  }
  if (!isObject(data)) throw new GraphFormatError('graph must be a JSON object');
  if (!isSupportedSchema(data.schema)) {
    throw new GraphFormatError(`unsupported graph schema ${JSON.stringify(data.schema)} (expected ${GRAPH_SCHEMA})`);
  }
  const storages = list(data, 'storages').map((s, i): StorageNode => ({
    id: requireId(s, `storages[${i}]`),
    device: str(s.device, '?'),
    nbytes: optInt(s.nbytes),
    pinned: s.pinned === true,
    libraries: strings(s.libraries),
    allocated: s.allocated !== false,
    owner: optStr(s.owner),
  }));
  const tensors = list(data, 'tensors').map((t, i): TensorNode => ({
    id: requireId(t, `tensors[${i}]`),
    names: strings(t.names),
    library: str(t.library, '?'),
    type: str(t.type, ''),
    storage: optStr(t.storage),
    shape: ints(t.shape) ?? [],
    stride: ints(t.stride),
    offset: optInt(t.offset),
    byteOffset: optInt(t.byte_offset),
    dtype: str(t.dtype, '?'),
    itemsize: optInt(t.itemsize),
    device: str(t.device, '?'),
    layout: str(t.layout, 'strided'),
    base: optStr(t.base),
    requiresGrad: t.requires_grad === true,
    isParameter: t.is_parameter === true,
    tied: t.tied === true,
    selfOverlap: t.self_overlap === true,
    logicalNbytes: optInt(t.logical_nbytes) ?? logicalSize(ints(t.shape), optInt(t.itemsize)),
  }));
  const tensorIds = new Set(tensors.map((t) => t.id));
  const overlaps = list(data, 'overlaps')
    .filter((e) => typeof e.a === 'string' && typeof e.b === 'string')
    .map((e): OverlapEdge => ({ a: e.a as string, b: e.b as string, exact: e.exact !== false }))
    // An edge to a tensor that is not in the graph cannot be drawn; drop it rather than fail.
    .filter((e) => tensorIds.has(e.a) && tensorIds.has(e.b));
  const groups = list(data, 'groups').map((g, i): GroupNode => ({
    id: requireId(g, `groups[${i}]`),
    label: str(g.label, '?'),
    device: str(g.device, '?'),
    count: optInt(g.count) ?? 0,
    nbytes: optInt(g.nbytes),
    category: str(g.category, ''),
    members: strings(g.members),
    parts: (Array.isArray(g.parts) ? g.parts : [])
      .filter(isObject)
      .filter((p) => typeof p.label === 'string')
      .map((p): GroupPart => ({ label: p.label as string, count: optInt(p.count) ?? 0, nbytes: optInt(p.nbytes) })),
  }));
  const marks = list(data, 'marks')
    .filter((m) => typeof m.id === 'string' && typeof m.why === 'string')
    .map((m): Mark => ({ id: m.id as string, why: m.why as string }));
  if (data.dot !== undefined && data.dot !== null && typeof data.dot !== 'string') {
    throw new GraphFormatError('graph.dot must be a string');
  }
  return {
    schema: data.schema as string,
    storages,
    tensors,
    overlaps,
    groups,
    notes: strings(data.notes),
    marks,
    problems: strings(data.problems),
    truncated: strings(data.truncated),
    dot: typeof data.dot === 'string' && data.dot.trim() !== '' ? data.dot : null,
  };
}
