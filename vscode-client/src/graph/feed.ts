/**
 * The kernel graphs the language server has pushed, and which one the panel should show: the
 * graph of the active notebook when there is one, else the most recent graph of any kernel.
 */

import type { KernelGraphParams } from './messages';

export interface ActiveNotebook {
  uri: string;
  /** File system path of the notebook, when it is a file. */
  path: string | null;
}

function samePath(a: string, b: string): boolean {
  // Kernels report paths as Jupyter sees them (maybe relative to its root): match on suffix.
  const norm = (p: string): string => p.replace(/\\/g, '/');
  const x = norm(a);
  const y = norm(b);
  return x === y || x.endsWith(`/${y}`) || y.endsWith(`/${x}`);
}

export class GraphFeed {
  private readonly byKey = new Map<string, KernelGraphParams>();
  private latest: KernelGraphParams | null = null;

  update(params: KernelGraphParams): void {
    this.byKey.set(params.uri ?? params.notebookPath ?? `kernel:${params.kernelId}`, params);
    this.latest = params;
  }

  /** The graph for `active` (matched by URI or path), else the most recent one. */
  pick(active: ActiveNotebook | null): KernelGraphParams | null {
    if (active !== null) {
      for (const params of this.byKey.values()) {
        if (params.uri === active.uri) return params;
        if (params.notebookPath && active.path && samePath(params.notebookPath, active.path)) return params;
      }
    }
    return this.latest;
  }

  /** Whether a notification should replace what the panel shows now. */
  isRelevant(params: KernelGraphParams, active: ActiveNotebook | null): boolean {
    return this.pick(active) === params;
  }
}
