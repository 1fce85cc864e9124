/**
 * The graph JSON contract `tensorviews.graph/1` (design.md) as TypeScript types, and a parser
 * that turns untrusted JSON from a kernel or a debugger into them. Everything else in the
 * client works on these types only, so a malformed graph fails here, once, with a clear message.
 */

export const GRAPH_SCHEMA = 'tensorviews.graph/1';
export const GRAPH_MIME = 'application/vnd.tensorviews.graph+json';

export interface StorageNode {
  id: string;
  device: string;
  nbytes: number | null;
  pinned: boolean;
  libraries: string[];
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

export interface StorageGraph {
  schema: string;
  storages: StorageNode[];
  tensors: TensorNode[];
  overlaps: OverlapEdge[];
  problems: string[];
  truncated: string[];
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
  return {
    schema: data.schema as string,
    storages,
    tensors,
    overlaps,
    problems: strings(data.problems),
    truncated: strings(data.truncated),
  };
}
