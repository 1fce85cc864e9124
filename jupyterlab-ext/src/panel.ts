/**
 * The docked Storage Graph panel (right sidebar): follows the active notebook's kernel and
 * asks the server extension's REST API for its graph after each executed cell (and when the
 * notebook, its kernel or the panel's visibility changes). The drawing is the shared web
 * package's; around it the panel lists the drawn tensors folded by module prefix (filtered by the
 * drawing's search box), shows the memory totals when the view document carries them, and a
 * click on a list entry selects the tensor in the drawing, zooms to it and shows its facts.
 *
 * Everything from the kernel reaches the DOM through textContent.
 */

import { formatBytes, tensorTitle } from '@tensorviews/web/format';
import { GraphView } from '@tensorviews/web/graphView';
import { type StorageGraph, parseGraph } from '@tensorviews/web/model';
import { Widget } from '@lumino/widgets';
import { type GraphRequestResult, fetchKernelGraph } from './api';

export const PANEL_ID = 'tensorviews-storage-graph';

/** What the panel follows: the active notebook's kernel, or nothing. */
export interface KernelTarget {
  kernelId: string;
  label: string;
}

/** A module prefix of a tensor's name: `model.layers.0.weight` -> `model.layers.0`, `cache['k']` -> `cache`. */
export function modulePrefix(name: string): string {
  const dot = name.lastIndexOf('.');
  if (dot > 0) return name.slice(0, dot);
  const bracket = name.indexOf('[');
  if (bracket > 0) return name.slice(0, bracket);
  return '';
}

/** The `totals` of a view document in one line per row, whatever of its known forms it takes. */
export function totalsLines(raw: unknown): string[] {
  if (typeof raw === 'string') return [raw];
  if (!Array.isArray(raw)) return [];
  const lines: string[] = [];
  for (const row of raw) {
    if (typeof row !== 'object' || row === null) continue;
    const r = row as Record<string, unknown>;
    const device = typeof r.device === 'string' ? r.device : '?';
    const category = typeof r.category === 'string' ? r.category : 'memory';
    const nbytes = typeof r.nbytes === 'number' ? r.nbytes : null;
    const tensors = typeof r.tensors === 'number' ? ` in ${r.tensors} tensor${r.tensors === 1 ? '' : 's'}` : '';
    lines.push(`${device} · ${category}: ${formatBytes(nbytes)}${tensors}`);
  }
  return lines;
}

/** One line of the panel's list: a drawn tensor or a folded group. */
interface ListEntry {
  id: string;
  name: string;
  facts: string;
  /** The tensor's storage (its bytes count once per prefix); null for a folded group. */
  storage: string | null;
  /** Bytes of a folded group (0 for tensors, counted through their storage). */
  nbytes: number;
}

export class StorageGraphPanel extends Widget {
  private readonly status: HTMLElement;
  private readonly totals: HTMLElement;
  private readonly list: HTMLElement;
  private readonly view: GraphView;
  private target: KernelTarget | null = null;
  private graph: StorageGraph | null = null;
  private query = '';
  private serial = 0;
  private stale = true;
  private retry: number | undefined;
  /** Prefixes the user folded; kept across updates. */
  private readonly folded = new Set<string>();

  constructor(private readonly baseUrl: () => string) {
    super();
    this.id = PANEL_ID;
    this.addClass('jp-TensorViews');
    this.addClass('jp-TensorViews-panel');
    this.title.caption = 'Tensor Views: Storage Graph';
    this.status = document.createElement('div');
    this.status.className = 'jp-TensorViews-status';
    this.totals = document.createElement('div');
    this.totals.className = 'jp-TensorViews-totals';
    const host = document.createElement('div');
    host.className = 'jp-TensorViews-graph';
    this.list = document.createElement('div');
    this.list.className = 'jp-TensorViews-list';
    this.node.append(this.status, this.totals, host, this.list);
    this.view = new GraphView(host, {
      wheelZoom: 'always',
      onSearch: (query) => {
        this.query = query;
        this.renderList();
      },
      onSelect: (id) => this.markListSelection(id),
    });
    this.view.showMessage('Open a notebook and run a cell: its kernel\'s storage graph shows here.');
  }

  /** Follows another kernel (or none); refreshes now if the panel is visible. */
  follow(target: KernelTarget | null): void {
    if (this.target?.kernelId === target?.kernelId && this.target?.label === target?.label) return;
    this.target = target;
    this.graph = null;
    this.update();
    this.refresh();
  }

  /** Asks for the followed kernel's graph again (after a cell ran). */
  refresh(): void {
    window.clearTimeout(this.retry);
    if (!this.isVisible) {
      this.stale = true;
      return;
    }
    this.stale = false;
    const target = this.target;
    const serial = ++this.serial;
    if (target === null) {
      this.setStatus('No notebook kernel to follow.');
      this.view.showMessage('Open a notebook with a running kernel: its storage graph shows here.');
      this.totals.replaceChildren();
      this.list.replaceChildren();
      return;
    }
    this.setStatus(`${target.label}: asking the kernel…`);
    void fetchKernelGraph(this.baseUrl(), target.kernelId).then((result) => {
      if (serial === this.serial) this.apply(target, result);
    });
  }

  private apply(target: KernelTarget, result: GraphRequestResult): void {
    if (result.kind === 'busy') {
      this.setStatus(`${target.label}: the kernel is busy; trying again in ${result.retryAfter} s`);
      this.retry = window.setTimeout(() => this.refresh(), result.retryAfter * 1000);
      return;
    }
    if (result.kind === 'error') {
      this.setStatus(`${target.label}: ${result.message}`, true);
      return;
    }
    let graph: StorageGraph;
    try {
      graph = parseGraph(result.document);
    } catch (error) {
      this.setStatus(`${target.label}: the graph could not be read: ${(error as Error).message}`, true);
      return;
    }
    this.graph = graph;
    this.setStatus(`${target.label} · updated ${new Date().toLocaleTimeString()}`);
    const lines = totalsLines((result.document as Record<string, unknown>).totals);
    this.totals.replaceChildren(
      ...lines.map((line) => {
        const item = document.createElement('div');
        item.textContent = line;
        return item;
      }),
    );
    void this.view.show(graph, target.label);
    this.renderList();
  }

  private setStatus(text: string, isError = false): void {
    this.status.textContent = text;
    this.status.classList.toggle('jp-TensorViews-error', isError);
  }

  /** The drawn tensors (and folded groups), folded by module prefix, filtered by the search. */
  private renderList(): void {
    const graph = this.graph;
    if (!graph) {
      this.list.replaceChildren();
      return;
    }
    const needle = this.query.trim().toLowerCase();
    // Bytes are counted per storage, once: views of one storage do not add up (a row of a
    // matrix costs nothing beyond the matrix).
    const storageBytes = new Map(graph.storages.map((s) => [s.id, s.nbytes ?? 0]));
    const byPrefix = new Map<string, ListEntry[]>();
    for (const tensor of graph.tensors) {
      const names = tensor.names.length ? tensor.names : [tensorTitle(tensor)];
      if (needle && !names.some((n) => n.toLowerCase().includes(needle))) continue;
      const name = names[0]!;
      const entry = {
        id: tensor.id,
        name,
        facts: `${tensor.dtype} (${tensor.shape.join(', ')}) ${tensor.device} · ${tensor.storage ?? 'no storage'}`,
        storage: tensor.storage,
        nbytes: 0,
      };
      const prefix = modulePrefix(name);
      const items = byPrefix.get(prefix);
      if (items) items.push(entry);
      else byPrefix.set(prefix, [entry]);
    }
    for (const group of graph.groups) {
      if (needle && !group.label.toLowerCase().includes(needle)) continue;
      const prefix = modulePrefix(group.label.replace(/\.\*$/, '.x'));
      const entry = { id: group.id, name: `${group.label} (${group.count} folded)`, facts: group.device, storage: null, nbytes: group.nbytes ?? 0 };
      const items = byPrefix.get(prefix);
      if (items) items.push(entry);
      else byPrefix.set(prefix, [entry]);
    }
    const sections = Array.from(byPrefix.keys())
      .sort()
      .map((prefix) => {
        const items = byPrefix.get(prefix)!;
        const section = document.createElement('details');
        section.className = 'jp-TensorViews-prefix';
        section.open = !this.folded.has(prefix);
        section.addEventListener('toggle', () => {
          if (section.open) this.folded.delete(prefix);
          else this.folded.add(prefix);
        });
        const summary = document.createElement('summary');
        const storages = new Set(items.flatMap((i) => (i.storage === null ? [] : [i.storage])));
        const total =
          Array.from(storages).reduce((n, id) => n + (storageBytes.get(id) ?? 0), 0) + items.reduce((n, i) => n + i.nbytes, 0);
        summary.textContent = `${prefix || '(top level)'} · ${items.length} · ${formatBytes(total)}`;
        summary.title = `${items.length} drawn; ${formatBytes(total)} of memory, each storage counted once`;
        section.append(summary);
        for (const item of items) {
          const button = document.createElement('button');
          button.className = 'jp-TensorViews-item';
          button.dataset.tvId = item.id;
          button.title = item.facts;
          const name = document.createElement('span');
          name.className = 'jp-TensorViews-name';
          name.textContent = item.name;
          const facts = document.createElement('span');
          facts.className = 'jp-TensorViews-facts';
          facts.textContent = item.facts;
          button.append(name, facts);
          button.addEventListener('click', () => this.view.reveal(item.id));
          section.append(button);
        }
        return section;
      });
    const heading = document.createElement('div');
    heading.className = 'jp-TensorViews-list-heading';
    heading.textContent = needle ? `Tensors matching "${this.query.trim()}"` : 'Tensors by module prefix';
    this.list.replaceChildren(heading, ...sections);
  }

  private markListSelection(id: string | null): void {
    for (const button of Array.from(this.list.querySelectorAll('.jp-TensorViews-item'))) {
      button.classList.toggle('jp-mod-selected', id !== null && (button as HTMLElement).dataset.tvId === id);
    }
  }

  protected override onAfterShow(): void {
    if (this.stale) this.refresh();
  }
}
