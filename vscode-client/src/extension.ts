/**
 * Tensor Views for VS Code: starts the language server, and shows the storage graph of the
 * active notebook's kernel (pushed by the server) or of the paused debugger frame in a panel.
 */

import * as vscode from 'vscode';
import { type ActiveNotebook, GraphFeed } from './graph/feed';
import { type KernelGraphParams, kernelSourceLabel } from './graph/messages';
import { showFrameStorageGraph } from './host/frameGraphCommand';
import { LanguageServerController } from './host/languageServer';
import { onPythonInterpreterChanged } from './host/pythonInterpreter';
import { StorageGraphPanel } from './host/storageGraphPanel';

function activeNotebook(): ActiveNotebook | null {
  const notebook = vscode.window.activeNotebookEditor?.notebook;
  if (!notebook) return null;
  return { uri: notebook.uri.toString(), path: notebook.uri.scheme === 'file' ? notebook.uri.fsPath : null };
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel('Tensor Views', { log: true });
  const server = new LanguageServerController(output);
  const panel = new StorageGraphPanel(context.extensionUri, output);
  const feed = new GraphFeed();
  /** Whether the panel shows kernel graphs (false while it shows a debugger frame). */
  let followKernel = true;

  const showKernelGraph = (params: KernelGraphParams | null): void => {
    if (params) panel.showGraph(params.graph, { kind: 'kernel', label: kernelSourceLabel(params) });
    else panel.showEmpty('No kernel has sent a storage graph yet. Run a cell in a notebook whose kernel loaded %load_ext tensorviews.');
  };

  const refreshFromServer = async (): Promise<void> => {
    const active = activeNotebook();
    const latest = await server.latestGraph(active?.uri ?? null);
    if (latest) feed.update(latest);
    if (followKernel && panel.isOpen) showKernelGraph(feed.pick(active));
  };

  context.subscriptions.push(
    output,
    server,
    panel,
    server.onGraph((params) => {
      feed.update(params);
      if (followKernel && panel.isOpen && feed.isRelevant(params, activeNotebook())) showKernelGraph(params);
    }),
    vscode.window.onDidChangeActiveNotebookEditor(() => {
      if (followKernel && panel.isOpen) void refreshFromServer();
    }),
    panel.onDidClose(() => {
      followKernel = true;
    }),
    vscode.commands.registerCommand('tensorviews.showStorageGraph', async () => {
      followKernel = true;
      panel.reveal();
      await refreshFromServer();
    }),
    vscode.commands.registerCommand('tensorviews.showFrameStorageGraph', async () => {
      followKernel = false;
      await showFrameStorageGraph(panel);
    }),
    vscode.commands.registerCommand('tensorviews.restartServer', () => server.restart()),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('tensorviews.pythonPath')) void server.restart();
    }),
  );
  const interpreterWatch = onPythonInterpreterChanged(() => {
    if (!vscode.workspace.getConfiguration('tensorviews').get<string>('pythonPath')) void server.restart();
  });
  if (interpreterWatch) context.subscriptions.push(interpreterWatch);
  await server.start();
}

export function deactivate(): Promise<void> | undefined {
  return undefined; // disposables (the client included) are stopped by VS Code
}
