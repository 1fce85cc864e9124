/**
 * Taking the storage graph of a paused debugger frame: pick the frame, evaluate
 * `tensorviews.view_json(locals())` there through the Debug Adapter Protocol (the capped view
 * with its notes and the DOT the cores drew, as every face shows it), decode the answer.
 * Works on anything with `customRequest`, so it is tested without VS Code.
 */

import { type StorageGraph, parseGraph } from '@tensorviews/web/model';
import { decodeEvaluateResult } from './pythonRepr';

export const FRAME_SNAPSHOT_EXPRESSION = "__import__('tensorviews').view_json(locals())";

export const MISSING_TENSORVIEWS_MESSAGE =
  'The debugged Python cannot import tensorviews: install Tensor Views there (pip install tensorviews), then pause again.';

export interface DebugRequester {
  customRequest(command: string, args?: unknown): Thenable<unknown> | Promise<unknown>;
}

export class FrameGraphError extends Error {
  override name = 'FrameGraphError';
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

function isMissingTensorviews(message: string): boolean {
  return /No module named '?tensorviews'?|ModuleNotFoundError[^\n]*tensorviews/.test(message);
}

/** The top frame of `threadId`, or of the first thread that has frames. */
export async function topFrameId(session: DebugRequester, threadId?: number): Promise<number> {
  let threads: number[];
  if (threadId !== undefined) {
    threads = [threadId];
  } else {
    const answer = record(await session.customRequest('threads'));
    threads = (Array.isArray(answer.threads) ? answer.threads : [])
      .map((t) => record(t).id)
      .filter((id): id is number => typeof id === 'number');
  }
  for (const thread of threads) {
    try {
      const trace = record(await session.customRequest('stackTrace', { threadId: thread, startFrame: 0, levels: 1 }));
      const frame = Array.isArray(trace.stackFrames) ? record(trace.stackFrames[0]) : {};
      if (typeof frame.id === 'number') return frame.id;
    } catch {
      // A running thread has no stack trace; try the next one.
    }
  }
  throw new FrameGraphError('No paused frame: pause the debugger (e.g. at a breakpoint) first.');
}

/** The graph of the tensors and arrays visible in frame `frameId`. */
export async function frameGraph(session: DebugRequester, frameId: number): Promise<StorageGraph> {
  let answer: Record<string, unknown>;
  try {
    // The clipboard context asks the adapter for the whole value, not a shortened preview.
    answer = record(
      await session.customRequest('evaluate', { expression: FRAME_SNAPSHOT_EXPRESSION, frameId, context: 'clipboard' }),
    );
  } catch (error) {
    const message = (error as Error).message ?? String(error);
    if (isMissingTensorviews(message)) throw new FrameGraphError(MISSING_TENSORVIEWS_MESSAGE);
    throw new FrameGraphError(`Evaluating the snapshot in the paused frame failed: ${message}`);
  }
  const result = typeof answer.result === 'string' ? answer.result : '';
  // Some adapters answer a failed evaluation with the error text as the result.
  if (isMissingTensorviews(result) && !result.includes('tensorviews.graph/')) throw new FrameGraphError(MISSING_TENSORVIEWS_MESSAGE);
  if (/Traceback|Error:/.test(result) && !result.includes('tensorviews.graph/')) {
    throw new FrameGraphError(`Evaluating the snapshot in the paused frame failed: ${result.slice(0, 300)}`);
  }
  try {
    return parseGraph(decodeEvaluateResult(result));
  } catch (error) {
    throw new FrameGraphError(`The debugger's answer is not a storage graph: ${(error as Error).message}`);
  }
}
