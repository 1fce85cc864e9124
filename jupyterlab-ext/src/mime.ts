/**
 * MIME renderer for `application/vnd.tensorviews.graph+json` (the `%tensorgraph` output, a view
 * document: the graph JSON with the `dot` the cores drew): the same interactive drawing as
 * VS Code, from the shared web package. It ranks above `image/svg+xml`, which the bundle keeps
 * for GitHub and nbviewer.
 */

import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Widget } from '@lumino/widgets';
import { GraphView } from '@tensorviews/web/graphView';
import { GRAPH_MIME, parseGraph } from '@tensorviews/web/model';

/** A notebook output's box grows with its drawing up to this height, then the drawing is fitted. */
export const MAX_OUTPUT_HEIGHT = 600;

export class GraphOutput extends Widget implements IRenderMime.IRenderer {
  private readonly view: GraphView;

  constructor(private readonly mimeType: string) {
    super();
    this.addClass('jp-TensorViews');
    this.addClass('jp-TensorViews-output');
    const host = document.createElement('div');
    host.className = 'tv-notebook';
    this.node.append(host);
    // Wheel zoom needs Ctrl/Cmd so the notebook still scrolls under the pointer.
    this.view = new GraphView(host, { wheelZoom: 'modifier', sizeToDrawing: { maxHeight: MAX_OUTPUT_HEIGHT } });
  }

  renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    try {
      return this.view.show(parseGraph(model.data[this.mimeType]));
    } catch (error) {
      this.view.showMessage(`Tensor Views: this output is not a storage graph: ${(error as Error).message}`, true);
      return Promise.resolve();
    }
  }
}

export const rendererFactory: IRenderMime.IRendererFactory = {
  safe: true,
  mimeTypes: [GRAPH_MIME],
  defaultRank: 0,
  createRenderer: (options) => new GraphOutput(options.mimeType),
};

const extension: IRenderMime.IExtension = {
  id: 'tensorviews:graph-renderer',
  description: 'Draws Tensor Views storage graphs interactively.',
  rendererFactory,
  rank: 0,
  dataType: 'json',
};

export default extension;
