/** "Show Storage Graph of Current Frame": the paused frame's graph, taken through the debugger. */

import * as vscode from 'vscode';
import { FrameGraphError, frameGraph, topFrameId } from '../graph/debugFrame';
import type { StorageGraphPanel } from './storageGraphPanel';

function selectedFrame(): { session: vscode.DebugSession; frameId?: number; threadId?: number } | undefined {
  const item = vscode.debug.activeStackItem;
  if (item instanceof vscode.DebugStackFrame) return { session: item.session, frameId: item.frameId, threadId: item.threadId };
  if (item instanceof vscode.DebugThread) return { session: item.session, threadId: item.threadId };
  const session = vscode.debug.activeDebugSession;
  return session ? { session } : undefined;
}

export async function showFrameStorageGraph(panel: StorageGraphPanel): Promise<void> {
  const selected = selectedFrame();
  if (!selected) {
    void vscode.window.showInformationMessage('Tensor Views: start debugging and pause in a Python frame first.');
    return;
  }
  panel.reveal();
  try {
    const frameId = selected.frameId ?? (await topFrameId(selected.session, selected.threadId));
    const graph = await frameGraph(selected.session, frameId);
    panel.showGraph(graph, { kind: 'debug', label: `debugger: ${selected.session.name}, frame ${frameId}` });
  } catch (error) {
    const message = error instanceof FrameGraphError ? error.message : `Tensor Views: ${(error as Error).message}`;
    panel.showError(message);
    void vscode.window.showErrorMessage(message);
  }
}
