/**
 * The interactive storage graph in a browser (the panel's webview and the notebook renderer):
 * draws the document's `dot`, the DOT the Python cores made, with graphviz compiled to
 * WebAssembly, then puts tooltips, click-to-highlight of everything sharing a tensor's memory,
 * a details pane and pan/zoom on the SVG's nodes (graphviz titles each node with its DOT name,
 * which is the document's id). The view's notes, marks and "not drawn" lines go under the
 * picture. A search box highlights the tensors whose names contain the text (Enter selects
 * the first match). A folded group opens in place on click (or Enter when it has the focus):
 * its members are drawn beside it (see expand.ts), and a second click folds it back.
 *
 * Kernel strings reach the DOM only through textContent (tooltips, details, caption, notes) or
 * as text that graphviz itself XML-escaped into the SVG (labels the cores escaped).
 */

import { instance, type Viz } from '@viz-js/viz';
import { type EdgeRef, type NodeRef, edgeRef, markClasses, nodeRef } from './drawing';
import { canExpand, expandedDot, expansionCaption, memberRef } from './expand';
import { formatBytes, groupDetails, markLine, storageDetails, storageTitle, tensorDetails, tensorTitle } from './format';
import type { GroupNode, StorageGraph } from './model';
import { aliasedTensorCount, sharingSet } from './sharing';
import { PanZoom } from './panZoom';
import { sanitizeSvg } from './svgSafety';

let vizPromise: Promise<Viz> | undefined;

function viz(): Promise<Viz> {
  vizPromise ??= instance();
  return vizPromise;
}

export const NO_DOT_MESSAGE =
  'This storage graph has no drawing: update tensorviews in the kernel (pip install -U tensorviews), then run the cell again.';

export interface GraphViewOptions {
  /** 'always' in the panel; 'modifier' (Ctrl/Cmd + wheel) inside notebooks, which must scroll. */
  wheelZoom: 'always' | 'modifier';
  /**
   * Notebook outputs: the box takes the drawing's height (at the scale that fits its width),
   * at most `maxHeight` px; beyond that the drawing is fitted and can be zoomed and panned.
   * Without it the viewport fills the space the page gives it (the panel).
   */
  sizeToDrawing?: { maxHeight: number };
  onSelect?: (tensorId: string | null) => void;
  /** Called with the search box's text whenever the search changes (the Lab panel filters its list). */
  onSearch?: (query: string) => void;
}

const HIGHLIGHT_CLASSES = ['tv-selected', 'tv-shares-elements', 'tv-shares-storage', 'tv-highlight-edge'];
const MIN_BOX_HEIGHT = 80;
/** Room kept around the drawing when fitting (PanZoom.fit keeps 8 px each side). */
const FIT_MARGIN = 16;

interface Drawing {
  graph: StorageGraph;
  svg: SVGSVGElement;
  nodes: Map<string, Element>;
  storageEdges: Map<string, Element[]>;
  baseEdges: Map<string, Element[]>;
  overlapEdges: Map<number, Element[]>;
}

function push<K>(map: Map<K, Element[]>, key: K, element: Element): void {
  const list = map.get(key);
  if (list) list.push(element);
  else map.set(key, [element]);
}

export class GraphView {
  private readonly doc: Document;
  private readonly caption: HTMLElement;
  private readonly summary: HTMLElement;
  private readonly viewport: HTMLElement;
  private readonly canvas: HTMLElement;
  private readonly details: HTMLElement;
  private readonly notes: HTMLElement;
  private readonly searchBox: HTMLInputElement;
  private readonly searchCount: HTMLElement;
  private readonly panZoom: PanZoom;
  private drawing: Drawing | null = null;
  /** The document shown, and the ids of its groups drawn open. */
  private graph: StorageGraph | null = null;
  private caption_ = '';
  private readonly expanded = new Set<string>();
  private renderSerial = 0;
  private observedWidth = -1;
  private observedHeight = -1;

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
    this.searchBox = this.el('input', 'tv-search');
    this.searchBox.type = 'search';
    this.searchBox.placeholder = 'Search names';
    this.searchBox.setAttribute('aria-label', 'Search tensors by name');
    this.searchBox.addEventListener('input', () => this.search(this.searchBox.value));
    this.searchBox.addEventListener('keydown', (event) => {
      if (event.key !== 'Enter') return;
      const first = this.search(this.searchBox.value)[0];
      if (first !== undefined) this.selectNode(first);
    });
    this.searchCount = this.el('span', 'tv-search-count');
    toolbar.append(this.caption, this.summary, this.searchBox, this.searchCount, fit);
    this.viewport = this.el('div', 'tv-viewport');
    this.canvas = this.el('div', 'tv-canvas');
    this.viewport.append(this.canvas);
    this.details = this.el('div', 'tv-details');
    this.details.hidden = true;
    this.notes = this.el('div', 'tv-notes');
    root.replaceChildren(toolbar, this.viewport, this.details, this.notes);
    this.panZoom = new PanZoom(this.viewport, this.canvas, options.wheelZoom);
    fit.addEventListener('click', () => this.panZoom.fit());
    this.viewport.addEventListener('click', (event) => this.onClick(event));
    this.viewport.addEventListener('keydown', (event) => this.onKey(event));
    // Re-fit when the editor or the panel is resized, unless the user has zoomed or panned.
    const view = this.doc.defaultView;
    if (view && 'ResizeObserver' in view) {
      new view.ResizeObserver(() => this.onResize()).observe(root);
    }
  }

  private el<K extends keyof HTMLElementTagNameMap>(tag: K, className: string): HTMLElementTagNameMap[K] {
    const element = this.doc.createElement(tag);
    element.className = className;
    return element;
  }

  /** Shows a message instead of a graph (no graph yet, or an error). */
  showMessage(text: string, isError = false): void {
    this.renderSerial += 1;
    this.drawing = null;
    this.graph = null;
    this.caption.textContent = '';
    this.summary.textContent = '';
    const message = this.el('div', isError ? 'tv-message tv-error' : 'tv-message');
    message.textContent = text;
    this.canvas.replaceChildren(message);
    this.details.hidden = true;
    this.notes.replaceChildren();
    this.viewport.style.height = '';
    this.panZoom.reset();
  }

  async show(graph: StorageGraph, caption = ''): Promise<void> {
    // A group the user opened stays open when the next document folds the same label.
    // (Parameters and gradients share a label: the category tells them apart.)
    const key = (g: GroupNode): string => `${g.device}\n${g.category}\n${g.label}`;
    const open = new Set((this.graph?.groups ?? []).filter((g) => this.expanded.has(g.id)).map(key));
    this.expanded.clear();
    for (const g of graph.groups) if (open.has(key(g)) && canExpand(g)) this.expanded.add(g.id);
    await this.draw(graph, caption, true);
  }

  /**
   * Opens a folded group in place (its members drawn beside it), or folds it back; selects it
   * and shows what it holds. A group whose members the document does not list only shows its
   * details.
   */
  async toggleGroup(groupId: string): Promise<void> {
    const graph = this.graph;
    const group = graph?.groups.find((g) => g.id === groupId);
    if (!graph || !group) return;
    if (!canExpand(group)) {
      this.selectGroup(groupId);
      return;
    }
    if (this.expanded.has(groupId)) this.expanded.delete(groupId);
    else this.expanded.add(groupId);
    await this.draw(graph, this.caption_, false);
    this.selectGroup(groupId);
    this.refocus(groupId);
  }

  /**
   * Gives the keyboard focus to a group's new folder (the drawing was replaced). Only at once:
   * a VS Code notebook moves the focus out of an output whose height changed, a moment later,
   * and taking it back then could as well take it from what the user opened meanwhile (Quick
   * Open, the editor): the view never takes the focus from anything else.
   */
  private refocus(groupId: string): void {
    const node = this.drawing?.nodes.get(groupId);
    if (node instanceof SVGElement || node instanceof HTMLElement) node.focus({ preventScroll: true });
  }

  private async draw(graph: StorageGraph, caption: string, fresh: boolean): Promise<void> {
    const serial = ++this.renderSerial;
    this.graph = graph;
    this.caption_ = caption;
    if (graph.dot === null) {
      this.showMessage(NO_DOT_MESSAGE, true);
      this.caption.textContent = caption;
      return;
    }
    let svg: SVGSVGElement;
    try {
      svg = (await viz()).renderSVGElement(expandedDot(graph.dot, graph, this.expanded));
    } catch (error) {
      if (serial === this.renderSerial) this.showMessage(`Could not draw the graph: ${(error as Error).message}`, true);
      return;
    }
    if (serial !== this.renderSerial) return; // a newer graph arrived while this one rendered
    sanitizeSvg(svg);
    svg.classList.add('tv-svg');
    this.drawing = this.index(svg, graph);
    this.caption.textContent = caption;
    const aliased = aliasedTensorCount(graph);
    const folded = graph.groups.reduce((n, g) => n + g.count, 0);
    const opened = graph.groups.filter((g) => this.expanded.has(g.id)).reduce((n, g) => n + g.members.length, 0);
    const groups = graph.groups.length;
    // Everything folded (`--all` on a model): say what the groups hold, not "0 tensors".
    this.summary.textContent =
      graph.tensors.length === 0 && folded
        ? `${folded} tensor${folded === 1 ? '' : 's'} folded into ${groups} group${groups === 1 ? '' : 's'}` +
          (opened ? ` (${opened} listed open)` : '')
        : `${graph.tensors.length} tensor${graph.tensors.length === 1 ? '' : 's'} · ` +
          `${graph.storages.length} storage${graph.storages.length === 1 ? '' : 's'} · ` +
          `${aliased} sharing memory` +
          (folded ? ` · ${folded} more folded` : '') +
          (opened ? ` (${opened} listed open)` : '');
    this.canvas.replaceChildren(svg);
    this.details.hidden = true;
    this.details.replaceChildren();
    if (fresh) this.showNotes(graph);
    this.search(this.searchBox.value);
    this.layout(true);
  }

  /**
   * Highlights the drawn tensors one of whose names contains `query` (case-insensitive) and
   * returns their ids; an empty query clears the search.
   */
  search(query: string): string[] {
    if (this.searchBox.value !== query) this.searchBox.value = query;
    const drawing = this.drawing;
    if (!drawing) return [];
    this.options.onSearch?.(query);
    const needle = query.trim().toLowerCase();
    for (const el of Array.from(drawing.svg.querySelectorAll('.tv-search-hit'))) el.classList.remove('tv-search-hit');
    drawing.svg.classList.toggle('tv-searching', needle !== '');
    if (needle === '') {
      this.searchCount.textContent = '';
      return [];
    }
    const hits = drawing.graph.tensors
      .filter((t) => t.names.some((name) => name.toLowerCase().includes(needle)) && drawing.nodes.has(t.id))
      .map((t) => t.id);
    // A folded group matches when one of its members does (the folder lights up).
    hits.push(
      ...drawing.graph.groups
        .filter((g) => drawing.nodes.has(g.id) && (g.label.toLowerCase().includes(needle) || g.members.some((m) => m.toLowerCase().includes(needle))))
        .map((g) => g.id),
    );
    for (const id of hits) drawing.nodes.get(id)?.classList.add('tv-search-hit');
    this.searchCount.textContent = `${hits.length} match${hits.length === 1 ? '' : 'es'}`;
    return hits;
  }

  /** Finds what each node and edge of the drawing stands for; sets classes and tooltips as text. */
  private index(svg: SVGSVGElement, graph: StorageGraph): Drawing {
    const drawing: Drawing = { graph, svg, nodes: new Map(), storageEdges: new Map(), baseEdges: new Map(), overlapEdges: new Map() };
    const views = new Map<string, number>();
    for (const t of graph.tensors) if (t.storage) views.set(t.storage, (views.get(t.storage) ?? 0) + 1);
    const names = new Map(graph.tensors.map((t) => [t.id, tensorTitle(t)]));
    for (const group of Array.from(svg.querySelectorAll('g.node'))) {
      const title = this.titleOf(group);
      const opened = memberRef(graph, title);
      if (opened !== null) {
        // The box of an opened group: clicking it selects the group.
        group.setAttribute('data-tv-group', opened);
        group.classList.add('tv-member');
        this.setTitle(group, [expansionCaption(graph.groups.find((g) => g.id === opened)!), 'click the folder (or Enter on it) to fold it']);
        continue;
      }
      const ref = nodeRef(graph, title);
      if (ref === null) continue;
      drawing.nodes.set(ref.id, group);
      group.setAttribute('data-tv-id', ref.id);
      group.classList.add(`tv-${ref.kind}`, ...markClasses(graph, ref.id));
      this.setTitle(group, this.nodeDetails(graph, ref, views));
      if (ref.kind === 'group') this.makeToggle(group, graph.groups.find((g) => g.id === ref.id)!);
    }
    // A device cluster's tooltip is its label (graphviz titles it with its DOT name).
    for (const cluster of Array.from(svg.querySelectorAll('g.cluster'))) {
      this.setTitle(cluster, [cluster.querySelector(':scope > text')?.textContent ?? '']);
    }
    for (const group of Array.from(svg.querySelectorAll('g.edge'))) {
      const labels = Array.from(group.querySelectorAll('text'), (t) => t.textContent ?? '');
      const ref: EdgeRef = edgeRef(graph, this.titleOf(group), labels);
      if (ref.kind === 'storage') {
        group.classList.add('tv-storage-edge');
        push(drawing.storageEdges, `${ref.tensor}->${ref.storage}`, group);
        const storage = graph.storages.find((st) => st.id === ref.storage);
        const title = storage ? storageTitle(storage, graph) : `storage ${ref.storage}`;
        this.setTitle(group, [`${names.get(ref.tensor)} is a view of ${title}`]);
      } else if (ref.kind === 'base') {
        group.classList.add('tv-base-edge');
        push(drawing.baseEdges, `${ref.tensor}->${ref.base}`, group);
        this.setTitle(group, [`${names.get(ref.tensor)} is a view of ${names.get(ref.base)}`]);
      } else if (ref.kind === 'overlap') {
        group.classList.add('tv-overlap-edge');
        push(drawing.overlapEdges, ref.index, group);
        const how = graph.overlaps[ref.index]!.exact ? 'share memory' : 'may share memory (not decided exactly)';
        this.setTitle(group, [`${names.get(ref.a)} and ${names.get(ref.b)} ${how}`]);
      }
    }
    return drawing;
  }

  private titleOf(group: Element): string {
    return group.querySelector(':scope > title')?.textContent ?? '';
  }

  /** The node's tooltip: its `<title>` (graphviz wrote the DOT name there) becomes the details. */
  private setTitle(group: Element, lines: string[]): void {
    let title = group.querySelector(':scope > title');
    if (!title) {
      title = this.doc.createElementNS('http://www.w3.org/2000/svg', 'title');
      group.prepend(title);
    }
    title.textContent = lines.join('\n');
  }

  private nodeDetails(graph: StorageGraph, ref: NodeRef, views: Map<string, number>): string[] {
    const marks = graph.marks.filter((m) => m.id === ref.id).map((m) => `marked: ${m.why}`);
    if (ref.kind === 'tensor') return [...tensorDetails(graph.tensors.find((t) => t.id === ref.id)!, graph), ...marks];
    if (ref.kind === 'storage') return [...storageDetails(graph.storages.find((s) => s.id === ref.id)!, views.get(ref.id) ?? 0, graph), ...marks];
    const group = graph.groups.find((g) => g.id === ref.id)!;
    return [...groupDetails(group, this.expandState(group.id), false), ...marks];
  }

  /** Open, folded, or null for a group that cannot be opened (no members listed). */
  private expandState(groupId: string): boolean | null {
    const group = this.graph?.groups.find((g) => g.id === groupId);
    return group && canExpand(group) ? this.expanded.has(groupId) : null;
  }

  /** A folded group's node as a button: focusable, with its state for screen readers. */
  private makeToggle(node: Element, group: GroupNode): void {
    node.setAttribute('tabindex', '0');
    node.setAttribute('role', 'button');
    const state = this.expandState(group.id);
    if (state !== null) node.setAttribute('aria-expanded', String(state));
    node.classList.toggle('tv-expanded', state === true);
    node.setAttribute(
      'aria-label',
      `${group.label}: ${group.count} tensors, ${formatBytes(group.nbytes)}` +
        (state === null ? '' : state ? ' (expanded; Enter folds it)' : ' (folded; Enter expands it)'),
    );
  }

  /** Notes, marks, and the lines about what was not drawn, under the picture. */
  private showNotes(graph: StorageGraph): void {
    const line = (className: string, text: string): HTMLElement => {
      const item = this.el('div', className);
      item.textContent = text;
      return item;
    };
    const marks = graph.marks.map((mark) => {
      const item = line('tv-note tv-mark-note', markLine(graph, mark));
      item.tabIndex = 0;
      item.setAttribute('role', 'button');
      item.title = 'Show this node';
      const pick = (): void => this.selectNode(mark.id);
      item.addEventListener('click', pick);
      item.addEventListener('keydown', (event) => {
        if (event.key === 'Enter' || event.key === ' ') pick();
      });
      return item;
    });
    this.notes.replaceChildren(
      ...graph.notes.map((n) => line('tv-note', n)),
      ...marks,
      ...graph.truncated.map((t) => line('tv-note tv-problem', `cut short: ${t}`)),
      ...graph.problems.map((p) => line('tv-note tv-problem', `could not read: ${p}`)),
    );
  }

  /** Sizes a notebook output's box to the drawing, then fits the drawing (when `refit`). */
  private layout(refit: boolean): void {
    const sizing = this.options.sizeToDrawing;
    const svg = this.drawing?.svg;
    if (sizing && svg) {
      const natural = this.naturalSize(svg);
      const width = this.viewport.clientWidth;
      if (natural && width > 0) {
        const k = Math.min(1, (width - FIT_MARGIN) / Math.max(1, natural.width));
        const height = Math.min(sizing.maxHeight, Math.max(MIN_BOX_HEIGHT, Math.ceil(natural.height * k + FIT_MARGIN)));
        this.viewport.style.height = `${height}px`;
      }
    }
    if (refit) this.panZoom.fit();
    this.observedWidth = this.root.clientWidth;
    this.observedHeight = this.viewport.clientHeight;
  }

  /** The drawing's size at scale 1, in CSS px. */
  private naturalSize(svg: SVGSVGElement): { width: number; height: number } | null {
    const box = svg.getBoundingClientRect();
    const scale = this.panZoom.scale;
    if (box.width === 0 || scale <= 0) return null;
    return { width: box.width / scale, height: box.height / scale };
  }

  private onResize(): void {
    if (!this.drawing) return;
    const width = this.root.clientWidth;
    const height = this.viewport.clientHeight;
    // Only a new width re-sizes a notebook box (its own height change must not loop).
    const changed = this.options.sizeToDrawing ? width !== this.observedWidth : width !== this.observedWidth || height !== this.observedHeight;
    if (!changed) return;
    this.layout(!this.panZoom.movedByUser);
  }

  private onClick(event: MouseEvent): void {
    if (this.panZoom.consumedClick()) return;
    const element = event.target instanceof Element ? event.target : null;
    const target = element?.closest('g.node');
    const id = target?.getAttribute('data-tv-id');
    if (target?.classList.contains('tv-group') && id) void this.toggleGroup(id);
    else if (id) this.selectNode(id);
    else {
      // The box of an opened group selects the group.
      const opened = element?.closest('g.tv-member')?.getAttribute('data-tv-group');
      if (opened) this.selectNode(opened);
      else this.select(null);
    }
  }

  /** Enter or Space on a focused group opens or folds it (keyboard users). */
  private onKey(event: KeyboardEvent): void {
    if (event.key !== 'Enter' && event.key !== ' ') return;
    const target = event.target instanceof Element ? event.target.closest('g.node.tv-group') : null;
    const id = target?.getAttribute('data-tv-id');
    if (!id) return;
    event.preventDefault();
    void this.toggleGroup(id);
  }

  /** Selects a tensor, storage or group by its document id. */
  selectNode(id: string): void {
    const graph = this.drawing?.graph;
    if (!graph) return;
    const ref = nodeRef(graph, id);
    if (ref?.kind === 'tensor') this.select(ref.id);
    else if (ref?.kind === 'storage') this.selectStorage(ref.id);
    else if (ref?.kind === 'group') this.selectGroup(ref.id);
    else this.select(null);
  }

  /** Selects a node and brings it into view at a readable scale (the Lab panel's list). */
  reveal(id: string): void {
    this.selectNode(id);
    const node = this.drawing?.nodes.get(id);
    if (node) this.panZoom.reveal(node.getBoundingClientRect());
  }

  private clearHighlight(svg: SVGSVGElement): void {
    svg.classList.remove('tv-has-selection');
    for (const cls of HIGHLIGHT_CLASSES) {
      for (const el of Array.from(svg.querySelectorAll(`.${cls}`))) el.classList.remove(cls);
    }
  }

  private mark(elements: Iterable<Element> | undefined, cls: string): void {
    for (const element of elements ?? []) element.classList.add(cls);
  }

  /** Highlights `tensorId`, the tensors sharing elements with it and its storage; null clears. */
  select(tensorId: string | null): void {
    const drawing = this.drawing;
    if (!drawing) return;
    const { graph, svg, nodes } = drawing;
    this.clearHighlight(svg);
    if (tensorId === null) {
      this.details.hidden = true;
      this.options.onSelect?.(null);
      return;
    }
    const sharing = sharingSet(graph, tensorId);
    svg.classList.add('tv-has-selection');
    nodes.get(tensorId)?.classList.add('tv-selected');
    for (const id of sharing.overlapping) nodes.get(id)?.classList.add('tv-shares-elements');
    for (const id of sharing.sameStorage) nodes.get(id)?.classList.add('tv-shares-storage');
    const involved = [tensorId, ...sharing.overlapping, ...sharing.sameStorage];
    if (sharing.storage !== null) {
      nodes.get(sharing.storage)?.classList.add('tv-shares-storage');
      for (const id of involved) this.mark(drawing.storageEdges.get(`${id}->${sharing.storage}`), 'tv-highlight-edge');
    }
    for (const a of involved) for (const b of involved) this.mark(drawing.baseEdges.get(`${a}->${b}`), 'tv-highlight-edge');
    for (const i of sharing.overlapEdges) this.mark(drawing.overlapEdges.get(i), 'tv-highlight-edge');

    const tensor = graph.tensors.find((t) => t.id === tensorId)!;
    const names = (ids: Set<string>): string =>
      ids.size ? Array.from(ids, (id) => tensorTitle(graph.tensors.find((t) => t.id === id)!)).join(', ') : 'none';
    this.showDetails(tensorTitle(tensor), [
      ...tensorDetails(tensor, graph),
      ...graph.marks.filter((m) => m.id === tensorId).map((m) => `marked: ${m.why}`),
      `shares elements with: ${names(sharing.overlapping)}`,
      `same storage, disjoint elements: ${names(sharing.sameStorage)}`,
    ]);
    this.options.onSelect?.(tensorId);
  }

  private selectStorage(storageId: string): void {
    const drawing = this.drawing;
    if (!drawing) return;
    const { graph, svg, nodes } = drawing;
    this.clearHighlight(svg);
    svg.classList.add('tv-has-selection');
    nodes.get(storageId)?.classList.add('tv-selected');
    const views = graph.tensors.filter((t) => t.storage === storageId);
    for (const t of views) {
      nodes.get(t.id)?.classList.add('tv-shares-storage');
      this.mark(drawing.storageEdges.get(`${t.id}->${storageId}`), 'tv-highlight-edge');
    }
    const storage = graph.storages.find((s) => s.id === storageId)!;
    this.showDetails(storageTitle(storage, graph), [
      ...storageDetails(storage, views.length, graph),
      ...graph.marks.filter((m) => m.id === storageId).map((m) => `marked: ${m.why}`),
      `viewed by: ${views.map(tensorTitle).join(', ') || 'none'}`,
    ]);
  }

  private selectGroup(groupId: string): void {
    const drawing = this.drawing;
    if (!drawing) return;
    this.clearHighlight(drawing.svg);
    drawing.svg.classList.add('tv-has-selection');
    drawing.nodes.get(groupId)?.classList.add('tv-selected');
    const group = drawing.graph.groups.find((g) => g.id === groupId)!;
    for (const el of Array.from(drawing.svg.querySelectorAll(`g.tv-member[data-tv-group="${CSS.escape(groupId)}"]`))) {
      el.classList.add('tv-selected');
    }
    this.showDetails(group.label, groupDetails(group, this.expandState(groupId)));
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
