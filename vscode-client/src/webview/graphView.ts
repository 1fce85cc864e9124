/**
 * The interactive storage graph in a browser (the panel's webview and the notebook renderer):
 * renders the DOT with graphviz compiled to WebAssembly, then adds tooltips, click-to-highlight
 * of everything sharing a tensor's memory, a details pane, and pan/zoom.
 *
 * Kernel strings reach the DOM only through textContent (tooltips, details, caption) or as
 * text that graphviz itself XML-escaped into the SVG (labels, after `escapeDotText`).
 */

import { instance, type Viz } from '@viz-js/viz';
import { storageDetails, tensorDetails, tensorTitle } from '../graph/format';
import type { StorageGraph } from '../graph/model';
import { aliasedTensorCount, sharingSet } from '../graph/sharing';
import { type DotGraph, graphToDot } from '../graph/toDot';
import { PanZoom } from './panZoom';

let vizPromise: Promise<Viz> | undefined;

function viz(): Promise<Viz> {
  vizPromise ??= instance();
  return vizPromise;
}

export interface GraphViewOptions {
  /** 'always' in the panel; 'modifier' (Ctrl/Cmd + wheel) inside notebooks, which must scroll. */
  wheelZoom: 'always' | 'modifier';
  onSelect?: (tensorId: string | null) => void;
}

const HIGHLIGHT_CLASSES = ['tv-selected', 'tv-shares-elements', 'tv-shares-storage', 'tv-highlight-edge'];

export class GraphView {
  private readonly doc: Document;
  private readonly caption: HTMLElement;
  private readonly summary: HTMLElement;
  private readonly viewport: HTMLElement;
  private readonly canvas: HTMLElement;
  private readonly details: HTMLElement;
  private readonly problems: HTMLElement;
  private readonly panZoom: PanZoom;
  private graph: StorageGraph | null = null;
  private dot: DotGraph | null = null;
  private svg: SVGSVGElement | null = null;
  private renderSerial = 0;

  constructor(
    readonly root: HTMLElement,
    private readonly options: GraphViewOptions,
  ) {
    this.doc = root.ownerDocument;
    root.classList.add('tv-graph-view');
    const toolbar = this.el('div', 'tv-toolbar');
    this.caption = this.el('span', 'tv-caption');
    this.summary = this.el('span', 'tv-summary');
    const fit = this.el('button', 'tv-fit');
    fit.textContent = 'Fit';
    fit.title = 'Fit the graph to the view (double-click the background does the same)';
    toolbar.append(this.caption, this.summary, fit);
    this.viewport = this.el('div', 'tv-viewport');
    this.canvas = this.el('div', 'tv-canvas');
    this.viewport.append(this.canvas);
    this.details = this.el('div', 'tv-details');
    this.details.hidden = true;
    this.problems = this.el('div', 'tv-problems');
    root.replaceChildren(toolbar, this.viewport, this.details, this.problems);
    this.panZoom = new PanZoom(this.viewport, this.canvas, options.wheelZoom);
    fit.addEventListener('click', () => this.panZoom.fit());
    this.viewport.addEventListener('click', (event) => this.onClick(event));
  }

  private el<K extends keyof HTMLElementTagNameMap>(tag: K, className: string): HTMLElementTagNameMap[K] {
    const element = this.doc.createElement(tag);
    element.className = className;
    return element;
  }

  /** Shows a message instead of a graph (no graph yet, or an error). */
  showMessage(text: string, isError = false): void {
    this.renderSerial += 1;
    this.graph = null;
    this.dot = null;
    this.svg = null;
    this.caption.textContent = '';
    this.summary.textContent = '';
    const message = this.el('div', isError ? 'tv-message tv-error' : 'tv-message');
    message.textContent = text;
    this.canvas.replaceChildren(message);
    this.details.hidden = true;
    this.problems.replaceChildren();
    this.panZoom.reset();
  }

  async show(graph: StorageGraph, caption = ''): Promise<void> {
    const serial = ++this.renderSerial;
    const dot = graphToDot(graph);
    let svg: SVGSVGElement;
    try {
      svg = (await viz()).renderSVGElement(dot.dot);
    } catch (error) {
      if (serial === this.renderSerial) this.showMessage(`Could not draw the graph: ${(error as Error).message}`, true);
      return;
    }
    if (serial !== this.renderSerial) return; // a newer graph arrived while this one rendered
    this.graph = graph;
    this.dot = dot;
    this.svg = svg;
    svg.classList.add('tv-svg');
    this.decorate(svg, graph, dot);
    this.caption.textContent = caption;
    const aliased = aliasedTensorCount(graph);
    this.summary.textContent =
      `${graph.tensors.length} tensor${graph.tensors.length === 1 ? '' : 's'} · ` +
      `${graph.storages.length} storage${graph.storages.length === 1 ? '' : 's'} · ` +
      `${aliased} sharing memory`;
    this.canvas.replaceChildren(svg);
    this.details.hidden = true;
    this.details.replaceChildren();
    this.showProblems(graph);
    this.panZoom.fit();
  }

  /** Replaces graphviz's titles (DOT ids) with full details, set as text. */
  private decorate(svg: SVGSVGElement, graph: StorageGraph, dot: DotGraph): void {
    const views = new Map<string, number>();
    for (const t of graph.tensors) if (t.storage) views.set(t.storage, (views.get(t.storage) ?? 0) + 1);
    const setTitle = (elementId: string, lines: string[]): void => {
      const group = svg.querySelector(`g[id="${elementId}"]`);
      if (!group) return;
      let title = group.querySelector(':scope > title');
      if (!title) {
        title = this.doc.createElementNS('http://www.w3.org/2000/svg', 'title');
        group.prepend(title);
      }
      title.textContent = lines.join('\n');
    };
    for (const t of graph.tensors) setTitle(dot.tensorDotId.get(t.id)!, tensorDetails(t));
    for (const s of graph.storages) setTitle(dot.storageDotId.get(s.id)!, storageDetails(s, views.get(s.id) ?? 0));
    const names = new Map(graph.tensors.map((t) => [t.id, tensorTitle(t)]));
    graph.overlaps.forEach((edge, i) => {
      const how = edge.exact ? 'share memory' : 'may share memory (not decided exactly)';
      setTitle(dot.overlapEdgeIds[i]!, [`${names.get(edge.a)} and ${names.get(edge.b)} ${how}`]);
    });
  }

  private showProblems(graph: StorageGraph): void {
    const lines = [...graph.problems.map((p) => `could not read: ${p}`), ...graph.truncated.map((t) => `cut short: ${t}`)];
    this.problems.replaceChildren(
      ...lines.map((line) => {
        const item = this.el('div', 'tv-problem');
        item.textContent = line;
        return item;
      }),
    );
  }

  private onClick(event: MouseEvent): void {
    if (this.panZoom.consumedClick()) return;
    const target = event.target instanceof Element ? event.target.closest('g.node') : null;
    const ref = target && this.dot ? this.dot.nodes.get(target.id) : undefined;
    if (ref?.kind === 'tensor') this.select(ref.id);
    else if (ref?.kind === 'storage') this.selectStorage(ref.id);
    else this.select(null);
  }

  private node(dotId: string | undefined): Element | null {
    return dotId && this.svg ? this.svg.querySelector(`g[id="${dotId}"]`) : null;
  }

  private clearHighlight(): void {
    if (!this.svg) return;
    this.svg.classList.remove('tv-has-selection');
    for (const cls of HIGHLIGHT_CLASSES) {
      for (const el of Array.from(this.svg.querySelectorAll(`.${cls}`))) el.classList.remove(cls);
    }
  }

  /** Highlights `tensorId`, the tensors sharing elements with it and its storage; null clears. */
  select(tensorId: string | null): void {
    const graph = this.graph;
    const dot = this.dot;
    if (!graph || !dot || !this.svg) return;
    this.clearHighlight();
    if (tensorId === null) {
      this.details.hidden = true;
      this.options.onSelect?.(null);
      return;
    }
    const sharing = sharingSet(graph, tensorId);
    this.svg.classList.add('tv-has-selection');
    this.node(dot.tensorDotId.get(tensorId))?.classList.add('tv-selected');
    for (const id of sharing.overlapping) this.node(dot.tensorDotId.get(id))?.classList.add('tv-shares-elements');
    for (const id of sharing.sameStorage) this.node(dot.tensorDotId.get(id))?.classList.add('tv-shares-storage');
    if (sharing.storage !== null) {
      const storageDot = dot.storageDotId.get(sharing.storage);
      this.node(storageDot)?.classList.add('tv-shares-storage');
      for (const id of [tensorId, ...sharing.overlapping, ...sharing.sameStorage]) {
        this.node(`e_${dot.tensorDotId.get(id)}_${storageDot}`)?.classList.add('tv-highlight-edge');
      }
    }
    for (const i of sharing.overlapEdges) this.node(dot.overlapEdgeIds[i])?.classList.add('tv-highlight-edge');

    const tensor = graph.tensors.find((t) => t.id === tensorId)!;
    const names = (ids: Set<string>): string =>
      ids.size ? Array.from(ids, (id) => tensorTitle(graph.tensors.find((t) => t.id === id)!)).join(', ') : 'none';
    this.showDetails(tensorTitle(tensor), [
      ...tensorDetails(tensor),
      `shares elements with: ${names(sharing.overlapping)}`,
      `same storage, disjoint elements: ${names(sharing.sameStorage)}`,
    ]);
    this.options.onSelect?.(tensorId);
  }

  private selectStorage(storageId: string): void {
    const graph = this.graph;
    const dot = this.dot;
    if (!graph || !dot || !this.svg) return;
    this.clearHighlight();
    this.svg.classList.add('tv-has-selection');
    const storageDot = dot.storageDotId.get(storageId);
    this.node(storageDot)?.classList.add('tv-selected');
    const views = graph.tensors.filter((t) => t.storage === storageId);
    for (const t of views) {
      this.node(dot.tensorDotId.get(t.id))?.classList.add('tv-shares-storage');
      this.node(`e_${dot.tensorDotId.get(t.id)}_${storageDot}`)?.classList.add('tv-highlight-edge');
    }
    const storage = graph.storages.find((s) => s.id === storageId)!;
    this.showDetails(`storage ${storageId}`, [
      ...storageDetails(storage, views.length),
      `viewed by: ${views.map(tensorTitle).join(', ') || 'none'}`,
    ]);
  }

  private showDetails(heading: string, lines: string[]): void {
    const title = this.el('div', 'tv-details-title');
    title.textContent = heading;
    const body = this.el('pre', 'tv-details-body');
    body.textContent = lines.join('\n');
    this.details.replaceChildren(title, body);
    this.details.hidden = false;
  }
}
