/**
 * The Storage Graph webview panel: one at a time, revealed by the commands, showing the graph
 * it was last given. The webview asks for the current graph once its script runs ('ready').
 */

import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { StorageGraph } from '@tensorviews/web/model';
import { type GraphSource, type HostMessage, isWebviewMessage } from '../graph/messages';
import { makeNonce, panelHtml } from '../graph/webviewHtml';

export class StorageGraphPanel implements vscode.Disposable {
  static readonly viewType = 'tensorviews.storageGraph';
  private panel: vscode.WebviewPanel | undefined;
  private current: HostMessage = { type: 'empty', reason: 'No storage graph yet.' };
  private readonly disposables: vscode.Disposable[] = [];
  private readonly closedEmitter = new vscode.EventEmitter<void>();
  readonly onDidClose = this.closedEmitter.event;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly output: vscode.LogOutputChannel,
  ) {}

  get isOpen(): boolean {
    return this.panel !== undefined;
  }

  reveal(): void {
    if (this.panel) {
      this.panel.reveal(undefined, true);
      return;
    }
    const dist = vscode.Uri.joinPath(this.extensionUri, 'dist');
    const panel = vscode.window.createWebviewPanel(
      StorageGraphPanel.viewType,
      'Storage Graph',
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      { enableScripts: true, localResourceRoots: [dist], retainContextWhenHidden: true },
    );
    panel.webview.html = panelHtml({
      cspSource: panel.webview.cspSource,
      nonce: makeNonce((n) => randomBytes(n)),
      scriptUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(dist, 'panel.js')).toString(),
      styleUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(dist, 'panel.css')).toString(),
    });
    panel.webview.onDidReceiveMessage(
      (message: unknown) => {
        if (!isWebviewMessage(message)) return;
        if (message.type === 'ready') void panel.webview.postMessage(this.current);
      },
      undefined,
      this.disposables,
    );
    panel.onDidDispose(() => {
      this.panel = undefined;
      this.closedEmitter.fire();
    }, undefined, this.disposables);
    this.panel = panel;
  }

  showGraph(graph: StorageGraph, source: GraphSource): void {
    this.post({ type: 'graph', graph, source });
  }

  showEmpty(reason: string): void {
    this.post({ type: 'empty', reason });
  }

  showError(message: string): void {
    this.post({ type: 'error', message });
  }

  private post(message: HostMessage): void {
    this.current = message;
    this.panel?.webview.postMessage(message).then(undefined, (error: unknown) => this.output.warn(`panel: ${String(error)}`));
  }

  dispose(): void {
    this.panel?.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
    this.closedEmitter.dispose();
  }
}
