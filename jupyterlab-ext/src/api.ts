/**
 * The server extension's REST API, as the panel uses it: `GET
 * /tensorviews/api/kernels/<id>/graph?format=json` (docs/contracts.md), through JupyterLab's
 * server connection (its auth token and XSRF header).
 */

import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

export type GraphRequestResult =
  | { kind: 'graph'; document: unknown }
  | { kind: 'busy'; retryAfter: number }
  | { kind: 'error'; message: string };

const MAX_RETRY_AFTER_S = 30;

export async function fetchKernelGraph(baseUrl: string, kernelId: string): Promise<GraphRequestResult> {
  const settings = ServerConnection.makeSettings({ baseUrl });
  const url = URLExt.join(settings.baseUrl, 'tensorviews/api/kernels', encodeURIComponent(kernelId), 'graph') + '?format=json';
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, {}, settings);
  } catch (error) {
    return { kind: 'error', message: `the server could not be reached: ${(error as Error).message}` };
  }
  if (response.status === 503) {
    const after = Number(response.headers.get('Retry-After'));
    return { kind: 'busy', retryAfter: Number.isFinite(after) && after > 0 ? Math.min(after, MAX_RETRY_AFTER_S) : 2 };
  }
  if (response.status === 404 && !(await isTensorViewsError(response.clone()))) {
    return { kind: 'error', message: 'the Tensor Views server extension is not enabled in this Jupyter server (pip install tensorviews, then restart it)' };
  }
  if (!response.ok) return { kind: 'error', message: `${response.status}: ${await errorMessage(response)}` };
  try {
    return { kind: 'graph', document: await response.json() };
  } catch (error) {
    return { kind: 'error', message: `the reply is not JSON: ${(error as Error).message}` };
  }
}

async function isTensorViewsError(response: Response): Promise<boolean> {
  try {
    const body = (await response.json()) as Record<string, unknown>;
    return typeof body.message === 'string' || typeof body.error === 'string';
  } catch {
    return false;
  }
}

async function errorMessage(response: Response): Promise<string> {
  const text = await response.text();
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    for (const key of ['message', 'error', 'reason']) {
      if (typeof body[key] === 'string') return (body[key] as string).split('\n')[0]!;
    }
  } catch {
    // not JSON: the first line of the text
  }
  return text.split('\n')[0]?.slice(0, 200) || response.statusText;
}
