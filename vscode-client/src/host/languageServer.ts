/**
 * Starts and restarts `python -m lsp_server` over stdio with vscode-languageclient, for Python
 * files and the Python cells of Jupyter notebooks, and forwards its `tensorviews/graph`
 * notifications to whoever listens.
 */

import * as vscode from 'vscode';
import { LanguageClient, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import {
  GRAPH_NOTIFICATION,
  LATEST_GRAPH_REQUEST,
  type KernelGraphParams,
  parseKernelGraphParams,
} from '../graph/messages';
import { resolvePythonPath } from './pythonInterpreter';
import { checkServerImportable } from './serverCheck';

export class LanguageServerController implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private readonly graphEmitter = new vscode.EventEmitter<KernelGraphParams>();
  /** Kernel graphs pushed by the server, already checked. */
  readonly onGraph = this.graphEmitter.event;

  constructor(private readonly output: vscode.LogOutputChannel) {}

  get running(): boolean {
    return this.client?.isRunning() ?? false;
  }

  async start(): Promise<void> {
    const { python, origin } = await resolvePythonPath();
    this.output.info(`Using Python ${python} (${origin})`);
    const check = await checkServerImportable(python);
    if (!check.ok) {
      this.output.error(`${check.message}\n${check.detail}`);
      const choice = await vscode.window.showErrorMessage(check.message, 'Open Settings', 'Show Log');
      if (choice === 'Open Settings') void vscode.commands.executeCommand('workbench.action.openSettings', 'tensorviews.pythonPath');
      if (choice === 'Show Log') this.output.show();
      return;
    }
    const serverOptions: ServerOptions = { command: python, args: ['-m', 'lsp_server'], options: { env: { ...process.env } } };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [
        { scheme: 'file', language: 'python' },
        { scheme: 'untitled', language: 'python' },
        { notebook: 'jupyter-notebook', language: 'python' },
      ],
      outputChannel: this.output,
      traceOutputChannel: this.output,
    };
    const client = new LanguageClient('tensorviews', 'Tensor Views', serverOptions, clientOptions);
    client.onNotification(GRAPH_NOTIFICATION, (params: unknown) => {
      try {
        const graph = parseKernelGraphParams(params);
        if (graph) this.graphEmitter.fire(graph);
      } catch (error) {
        this.output.warn(`Ignored a malformed ${GRAPH_NOTIFICATION} notification: ${(error as Error).message}`);
      }
    });
    this.client = client;
    try {
      await client.start();
      this.output.info('Tensor Views language server started');
    } catch (error) {
      this.output.error(`The language server did not start: ${(error as Error).message}`);
      void vscode.window.showErrorMessage(`Tensor Views: the language server did not start (${(error as Error).message}).`);
    }
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client?.isRunning()) await client.stop(5000).catch(() => undefined);
  }

  /** The server's latest kernel graph for a notebook (any when `uri` is null); null if none. */
  async latestGraph(uri: string | null): Promise<KernelGraphParams | null> {
    if (!this.client?.isRunning()) return null;
    try {
      return parseKernelGraphParams(await this.client.sendRequest(LATEST_GRAPH_REQUEST, { uri }));
    } catch (error) {
      // A server without the live channel answers MethodNotFound: no graph, not an error.
      this.output.debug(`${LATEST_GRAPH_REQUEST}: ${(error as Error).message}`);
      return null;
    }
  }

  dispose(): void {
    void this.stop();
    this.graphEmitter.dispose();
  }
}
