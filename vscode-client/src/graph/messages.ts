/**
 * The messages between the extension host and the Storage Graph webview, and the language
 * server's `tensorviews/graph` notification, with guards that check untrusted values at the
 * boundary (the webview and the server are both outside the host's type system).
 */

import { type StorageGraph, parseGraph } from '@tensorviews/web/model';

/** Where the graph shown in the panel came from; shown in the panel's caption. */
export interface GraphSource {
  kind: 'kernel' | 'debug' | 'none';
  label: string;
}

export type HostMessage =
  | { type: 'graph'; graph: StorageGraph; source: GraphSource }
  | { type: 'empty'; reason: string }
  | { type: 'error'; message: string };

export type WebviewMessage = { type: 'ready' } | { type: 'selected'; tensor: string | null };

/** Params of the server's `tensorviews/graph` notification (and `tensorviews/latestGraph` result). */
export interface KernelGraphParams {
  uri: string | null;
  kernelId: string;
  notebookPath: string | null;
  graph: StorageGraph;
}

export const GRAPH_NOTIFICATION = 'tensorviews/graph';
export const LATEST_GRAPH_REQUEST = 'tensorviews/latestGraph';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

export function isWebviewMessage(value: unknown): value is WebviewMessage {
  if (!isRecord(value)) return false;
  if (value.type === 'ready') return true;
  return value.type === 'selected' && (value.tensor === null || typeof value.tensor === 'string');
}

/**
 * A host message as received by the webview. The graph is re-parsed: the webview trusts
 * nothing it did not check itself.
 */
export function parseHostMessage(value: unknown): HostMessage | null {
  if (!isRecord(value)) return null;
  switch (value.type) {
    case 'graph': {
      const source = isRecord(value.source) ? value.source : {};
      const kind = source.kind === 'kernel' || source.kind === 'debug' ? source.kind : 'none';
      return {
        type: 'graph',
        graph: parseGraph(value.graph),
        source: { kind, label: typeof source.label === 'string' ? source.label : '' },
      };
    }
    case 'empty':
      return { type: 'empty', reason: typeof value.reason === 'string' ? value.reason : '' };
    case 'error':
      return { type: 'error', message: typeof value.message === 'string' ? value.message : 'unknown error' };
    default:
      return null;
  }
}

/** Checks a `tensorviews/graph` notification (or `latestGraph` result); null when unusable. */
export function parseKernelGraphParams(value: unknown): KernelGraphParams | null {
  if (!isRecord(value) || value.graph === undefined || value.graph === null) return null;
  return {
    uri: typeof value.uri === 'string' ? value.uri : null,
    kernelId: typeof value.kernelId === 'string' ? value.kernelId : '?',
    notebookPath: typeof value.notebookPath === 'string' ? value.notebookPath : null,
    graph: parseGraph(value.graph),
  };
}

export function kernelSourceLabel(params: KernelGraphParams): string {
  // The file name is enough in a caption; the full path is in the notification for matching.
  const full = params.notebookPath ?? params.uri ?? 'a kernel';
  const where = full.split(/[\\/]/).pop() || full;
  return `${where} (kernel ${params.kernelId})`;
}
