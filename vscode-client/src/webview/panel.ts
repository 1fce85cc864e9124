/**
 * Entry point of the Storage Graph panel's webview: shows what the extension host sends and
 * tells it when it is ready (so no message is lost before the script runs).
 */

import '@tensorviews/web/graph.css';
import { parseHostMessage, type WebviewMessage } from '../graph/messages';
import { GraphView } from '@tensorviews/web/graphView';

interface VsCodeApi {
  postMessage(message: WebviewMessage): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const root = document.getElementById('tensorviews-root')!;
const view = new GraphView(root, {
  wheelZoom: 'always',
  onSelect: (tensor) => vscode.postMessage({ type: 'selected', tensor }),
});
view.showMessage(
  'No storage graph yet.\n\nRun a cell in a notebook whose kernel has loaded the extension (%load_ext tensorviews), ' +
    'or pause the debugger and run "Tensor Views: Show Storage Graph of Current Frame".',
);

window.addEventListener('message', (event: MessageEvent) => {
  let message;
  try {
    message = parseHostMessage(event.data);
  } catch (error) {
    view.showMessage(`The graph could not be read: ${(error as Error).message}`, true);
    return;
  }
  if (message === null) return;
  if (message.type === 'graph') void view.show(message.graph, message.source.label);
  else if (message.type === 'empty') view.showMessage(message.reason);
  else view.showMessage(message.message, true);
});

vscode.postMessage({ type: 'ready' });
