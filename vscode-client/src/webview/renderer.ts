/**
 * Notebook output renderer for `application/vnd.tensorviews.graph+json`: the same interactive
 * drawing as the panel, inside a notebook output. The box takes the drawing's height up to
 * MAX_OUTPUT_HEIGHT px (then the drawing is fitted; wheel zoom needs Ctrl/Cmd so the page
 * scrolls) and re-fits when the editor is resized.
 */

import type { ActivationFunction, OutputItem } from 'vscode-notebook-renderer';
import css from '@tensorviews/web/graph.css';
import { parseGraph } from '@tensorviews/web/model';
import { GraphView } from '@tensorviews/web/graphView';

export const MAX_OUTPUT_HEIGHT = 600;

function ensureStyles(doc: Document): void {
  if (doc.getElementById('tensorviews-graph-styles')) return;
  const style = doc.createElement('style');
  style.id = 'tensorviews-graph-styles';
  style.textContent = css;
  doc.head.append(style);
}

export function renderGraphOutput(item: Pick<OutputItem, 'json'>, element: HTMLElement): Promise<void> {
  ensureStyles(element.ownerDocument);
  const host = element.ownerDocument.createElement('div');
  host.className = 'tv-notebook';
  element.replaceChildren(host);
  const view = new GraphView(host, { wheelZoom: 'modifier', sizeToDrawing: { maxHeight: MAX_OUTPUT_HEIGHT } });
  try {
    return view.show(parseGraph(item.json()));
  } catch (error) {
    view.showMessage(`Tensor Views: this output is not a storage graph: ${(error as Error).message}`, true);
    return Promise.resolve();
  }
}

export const activate: ActivationFunction = () => ({
  renderOutputItem(item, element) {
    return renderGraphOutput(item, element);
  },
  disposeOutputItem() {
    // Views hold no resources beyond their DOM, which VS Code removes.
  },
});
