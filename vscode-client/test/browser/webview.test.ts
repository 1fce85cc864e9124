import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { CLIENT_ROOT, type FixtureName, fixture, runPython } from '../unit/fixtures';
import { type Rig, startRig } from './harness';

let rig: Rig;
before(async () => {
  rig = await startRig(join(CLIENT_ROOT, 'dist'));
});
after(async () => {
  await rig?.close();
});

interface PageFacts {
  posted: unknown[];
  csp: string[];
  dialogs: number;
}

const facts = (page: Page): Promise<PageFacts> =>
  page.evaluate(() => {
    const w = window as unknown as { __posted: unknown[]; __cspViolations: string[]; __dialogs: number };
    return { posted: w.__posted, csp: w.__cspViolations, dialogs: w.__dialogs };
  });

async function panelWithGraph(graph: unknown, label: string): Promise<Page> {
  const page = await rig.newPage('panel.html');
  await page.waitForFunction(() => (window as unknown as { __posted: unknown[] }).__posted.length > 0);
  await page.evaluate(([graph, label]) => window.postMessage({ type: 'graph', graph, source: { kind: 'kernel', label } }, '*'), [graph, label] as const);
  return page;
}

async function panelWith(name: FixtureName): Promise<Page> {
  const page = await panelWithGraph(fixture(name), `${name}.ipynb (kernel 1234)`);
  await page.waitForSelector('svg.tv-svg g.node');
  return page;
}

const node = (id: string): string => `g.node[data-tv-id="${id}"]`;

const classesOf = (page: Page, id: string): Promise<string[]> => page.$eval(node(id), (g) => Array.from(g.classList));

async function renderOutput(page: Page, graph: unknown, id = 'cell-1'): Promise<void> {
  await page.evaluate(
    async ([graph, id]) => {
      const w = window as unknown as { renderer: { renderOutputItem(item: unknown, el: HTMLElement): Promise<void> } };
      await w.renderer.renderOutputItem({ id, mime: 'application/vnd.tensorviews.graph+json', json: () => graph }, document.getElementById('output')!);
    },
    [graph, id] as const,
  );
}

async function rendererPage(): Promise<Page> {
  const page = await rig.newPage('renderer.html');
  await page.waitForFunction(() => (window as unknown as { rendererReady?: boolean }).rendererReady === true);
  return page;
}

/** The drawing's and its box's rectangles, and the canvas scale. */
const geometry = (page: Page): Promise<{ svg: DOMRect; box: DOMRect; inner: number; scale: number }> =>
  page.evaluate(() => {
    const svg = document.querySelector('svg.tv-svg')!.getBoundingClientRect();
    const viewport = document.querySelector('.tv-viewport')!;
    const transform = (document.querySelector('.tv-canvas') as HTMLElement).style.transform;
    return {
      svg: svg.toJSON(),
      box: viewport.getBoundingClientRect().toJSON(),
      inner: viewport.clientHeight,
      scale: Number(/scale\(([\d.]+)\)/.exec(transform)![1]),
    };
  });

function assertInside(inner: DOMRect, outer: DOMRect, what: string): void {
  const ok = inner.left >= outer.left - 0.5 && inner.top >= outer.top - 0.5 && inner.right <= outer.right + 0.5 && inner.bottom <= outer.bottom + 0.5;
  assert.ok(ok, `${what}: ${JSON.stringify(inner)} inside ${JSON.stringify(outer)}`);
}

describe('Storage Graph panel webview (headless Chromium, strict CSP)', { timeout: 120000 }, () => {
  it("says it is ready, waits with a message, then draws the cores' dot it is sent", async () => {
    const page = await rig.newPage('panel.html');
    await page.waitForFunction(() => (window as unknown as { __posted: unknown[] }).__posted.length > 0);
    assert.deepEqual((await facts(page)).posted, [{ type: 'ready' }]);
    assert.match((await page.textContent('.tv-message')) ?? '', /No storage graph yet/);
    await page.close();

    const drawn = await panelWith('swap');
    assert.equal(await drawn.locator('g.node.tv-tensor').count(), 5);
    assert.equal(await drawn.locator('g.node.tv-storage').count(), 2);
    assert.equal(await drawn.locator('g.edge.tv-storage-edge').count(), 5);
    assert.equal(await drawn.locator('g.edge.tv-base-edge').count(), 3);
    // Rows lie inside their matrices: expected sharing, which the cores leave unmarked.
    assert.equal(await drawn.locator('g.edge.tv-overlap-edge').count(), 0);
    assert.equal(await drawn.textContent('.tv-caption'), 'swap.ipynb (kernel 1234)');
    assert.equal(await drawn.textContent('.tv-summary'), '5 tensors · 2 storages · 5 sharing memory');
    const texts = await drawn.$$eval('svg text', (nodes) => nodes.map((n) => n.textContent));
    // The labels are the cores' (tensorviews/render/dot.py), not a second drawing.
    for (const text of ['row_a', 'storage of a', '16 B · torch', '3 views', 'stride (1,) · offset 0', 'view of a']) {
      assert.ok(texts.includes(text), `${text} in ${JSON.stringify(texts)}`);
    }
    const f = await facts(drawn);
    assert.deepEqual(f.csp, [], 'no Content-Security-Policy violations (wasm compiled under wasm-unsafe-eval)');
    await drawn.screenshot({ path: join(artifacts(), 'panel-swap.png') });
    await drawn.close();
  });

  it('shows the whole kernel id in the caption, even in a narrow panel', async () => {
    const label = 'demo.ipynb (kernel d26cf329-de51-4ed5-a1a1-eec6d4b84479)';
    const page = await panelWithGraph(fixture('swap'), label);
    await page.waitForSelector('svg.tv-svg g.node');
    await page.setViewportSize({ width: 320, height: 600 });
    assert.equal(await page.textContent('.tv-caption'), label);
    const clipped = await page.$eval('.tv-caption', (c) => c.scrollWidth > c.clientWidth || getComputedStyle(c).textOverflow === 'ellipsis');
    assert.equal(clipped, false, 'the caption wraps instead of cutting the id');
    await page.close();
  });

  it('clicking a tensor highlights what shares its memory; the background clears it', async () => {
    const page = await panelWith('swap');
    await page.locator(node('t2')).click();
    assert.ok((await classesOf(page, 't2')).includes('tv-selected'));
    assert.ok((await classesOf(page, 't0')).includes('tv-shares-elements'), 'a shares elements with row_a');
    assert.ok((await classesOf(page, 't4')).includes('tv-shares-storage'), 'other_row: same storage, other elements');
    assert.ok((await classesOf(page, 's0')).includes('tv-shares-storage'));
    assert.equal(await page.locator('g.edge.tv-storage-edge.tv-highlight-edge').count(), 3, 'row_a, a, other_row to s0');
    assert.equal(await page.locator('g.edge.tv-base-edge.tv-highlight-edge').count(), 2, 'row_a and other_row are views of a');
    for (const id of ['t1', 't3', 's1']) {
      const cls = await classesOf(page, id);
      assert.ok(!cls.some((c) => ['tv-selected', 'tv-shares-elements', 'tv-shares-storage'].includes(c)), `${id} is not highlighted: ${cls}`);
    }
    const details = (await page.textContent('.tv-details')) ?? '';
    assert.match(details, /shares elements with: a\b/);
    assert.match(details, /same storage, disjoint elements: other_row/);
    assert.match(details, /view of: a\n/, 'the base by its name, not its id');
    assert.deepEqual((await facts(page)).posted.at(-1), { type: 'selected', tensor: 't2' });
    await page.screenshot({ path: join(artifacts(), 'panel-swap-selected.png') });

    const box = (await page.locator('.tv-viewport').boundingBox())!;
    await page.mouse.click(box.x + 4, box.y + 4); // empty corner of the viewport
    assert.equal(await page.locator('.tv-selected').count(), 0);
    assert.equal(await page.isHidden('.tv-details'), true);
    await page.close();
  });

  it('searches tensors by name: matches are outlined and counted, Enter selects the first', async () => {
    const page = await panelWith('swap');
    await page.fill('.tv-search', 'ROW');
    assert.equal(await page.textContent('.tv-search-count'), '3 matches');
    for (const id of ['t2', 't3', 't4']) assert.ok((await classesOf(page, id)).includes('tv-search-hit'), id);
    for (const id of ['t0', 't1']) assert.ok(!(await classesOf(page, id)).includes('tv-search-hit'), id);
    await page.fill('.tv-search', 'other');
    await page.press('.tv-search', 'Enter');
    assert.ok((await classesOf(page, 't4')).includes('tv-selected'));
    assert.match((await page.textContent('.tv-details')) ?? '', /same storage, disjoint elements: .*row_a/);
    await page.fill('.tv-search', '');
    assert.equal(await page.locator('.tv-search-hit').count(), 0);
    assert.equal(await page.textContent('.tv-search-count'), '');
    await page.close();
  });

  it('draws devices as clusters, a red link for a partial overlap, and full details in tooltips', async () => {
    const page = await panelWith('mixed');
    const clusters = await page.$$eval('g.cluster > text', (nodes) => nodes.map((n) => n.textContent));
    assert.deepEqual(clusters, ['cpu', 'meta']);
    const tooltip = await page.$eval(`${node('t1')} > title`, (t) => t.textContent);
    assert.match(tooltip ?? '', /names: xt\n/);
    assert.match(tooltip ?? '', /stride: \(1, 4\) elements/);
    assert.match(tooltip ?? '', /offset: 0 elements \(0 B\)/);
    // graphviz's own tooltip (from the DOT) is replaced, not shown next to ours.
    assert.equal(await page.locator('svg.tv-svg [*|title]').count(), 0);
    assert.equal(await page.locator('g.edge.tv-overlap-edge').count(), 1);
    assert.equal(await page.$eval('g.edge.tv-overlap-edge > title', (t) => t.textContent), 'head and tail share memory');
    await page.locator(node('t8')).click();
    assert.ok((await classesOf(page, 't9')).includes('tv-shares-elements'));
    assert.equal(await page.locator('g.edge.tv-overlap-edge.tv-highlight-edge').count(), 1);
    await page.screenshot({ path: join(artifacts(), 'panel-mixed.png') });
    await page.close();
  });

  it('shows the pinned-memory note under the picture and styles the marked storage', async () => {
    const page = await panelWith('pinned');
    const notes = await page.$$eval('.tv-notes .tv-note', (nodes) => nodes.map((n) => n.textContent));
    assert.equal(notes.length, 2, JSON.stringify(notes));
    assert.match(notes[0]!, /^h \(4\.0 KiB\) keeps its storage \(64\.0 MiB\) alive: `h = h\.clone\(\)` frees 64\.0 MiB/);
    assert.equal(notes[1], 'storage of h (64 MiB): pinned by small views');
    // The notes are below the drawing's box.
    const box = (await page.locator('.tv-viewport').boundingBox())!;
    const note = (await page.locator('.tv-notes .tv-note').first().boundingBox())!;
    assert.ok(note.y >= box.y + box.height - 1, `note at ${note.y}, box ends at ${box.y + box.height}`);

    assert.deepEqual(await classesOf(page, 's0'), ['node', 'tv-storage', 'tv-marked', 'tv-mark-pinned']);
    // The cores' storage box: its first polygon (inside the tooltip's <a> when it has one).
    const style = await page.$eval(`${node('s0')} polygon`, (p) => {
      const s = getComputedStyle(p);
      return { stroke: s.stroke, dash: s.strokeDasharray, width: s.strokeWidth };
    });
    assert.deepEqual(style, { stroke: 'rgb(230, 81, 0)', dash: '6px, 3px', width: '2.5px' });
    const unmarked = await page.$eval(`${node('s1')} polygon`, (p) => getComputedStyle(p).strokeDasharray);
    assert.equal(unmarked, 'none');
    assert.match((await page.$eval(`${node('s0')} > title`, (t) => t.textContent)) ?? '', /marked: pinned by small views/);

    await page.locator('.tv-mark-note').click();
    assert.ok((await classesOf(page, 's0')).includes('tv-selected'), 'a mark line selects its node');
    assert.match((await page.textContent('.tv-details')) ?? '', /viewed by: h/);
    await page.screenshot({ path: join(artifacts(), 'panel-pinned.png') });
    await page.close();
  });

  it('draws folded groups of a capped view, with details on click', async () => {
    const page = await panelWith('folded');
    assert.equal(await page.locator('g.node.tv-group').count(), 3);
    assert.match((await page.textContent('.tv-summary')) ?? '', / · 6 more folded$/);
    assert.deepEqual(await page.$$eval('.tv-notes .tv-note', (n) => n.map((x) => x.textContent)), ['6 more tensors/arrays folded into 3 groups']);
    await page.locator(node('g0')).click();
    assert.equal(await page.textContent('.tv-details-title'), 'model.1.*');
    assert.match((await page.textContent('.tv-details')) ?? '', /2 more tensors\/arrays under model\.1\.\*/);
    await page.close();
  });

  it('opens a folded group of the 12-layer encoder on click, folds it back, and does the same with Enter', async () => {
    const page = await panelWith('encoder');
    const members = 'g.node.tv-member';
    assert.equal(await page.locator(members).count(), 0);
    assert.equal(await page.textContent('.tv-summary'), '720 tensors folded into 3 groups');
    assert.equal(await page.getAttribute(node('g0'), 'aria-expanded'), 'false');
    await page.locator(node('g0')).click();
    await page.locator(members).first().waitFor();
    // One box beside the folder, one cell per layer listing that layer's tensors.
    assert.equal(await page.locator(members).count(), 1);
    const layers = await page.locator(`${members} text`).allTextContents();
    assert.deepEqual(layers.filter((t) => /^model\.layers\.\d+\.\*$/.test(t)), Array.from({ length: 12 }, (_, i) => `model.layers.${i}.*`));
    assert.equal(layers.filter((t) => t === 'linear1.weight').length, 12);
    assert.equal(await page.getAttribute(node('g0'), 'aria-expanded'), 'true');
    assert.match((await page.textContent('.tv-summary')) ?? '', /\(144 listed open\)$/);
    const details = (await page.textContent('.tv-details')) ?? '';
    assert.match(details, /parameters: 144 tensors\/arrays folded under model\.layers\.0\.\.11\.\*/);
    assert.match(details, /model\.layers\.\*\.linear1\.weight ×12 · /);
    assert.match(details, /\n {2}model\.layers\.11\.norm2\.bias/);
    await page.screenshot({ path: join(artifacts(), 'panel-group-expanded.png') });
    // The box selects its group.
    await page.locator(members).click({ position: { x: 8, y: 8 } });
    assert.equal(await page.textContent('.tv-details-title'), 'model.layers.0..11.*');
    // The folder again: folded back, as the cores drew it.
    await page.locator(node('g0')).click();
    await page.waitForFunction(() => document.querySelectorAll('g.node.tv-member').length === 0);
    assert.equal(await page.getAttribute(node('g0'), 'aria-expanded'), 'false');
    // Keyboard: focus the optimizer state and press Enter.
    await page.focus(node('g2'));
    await page.keyboard.press('Enter');
    await page.locator(members).first().waitFor();
    assert.ok((await page.locator(`${members} text`).allTextContents()).includes('opt.state[model.layers.0.*][*]'));
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-tv-id')), 'g2', 'the focus stays on the folder');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelectorAll('g.node.tv-member').length === 0);
    // A group opened stays open when the next cell's view folds it again (the gradients, not
    // the parameters that share its label).
    await page.locator(node('g1')).click();
    await page.locator(members).first().waitFor();
    await page.evaluate((graph) => window.postMessage({ type: 'graph', graph, source: { kind: 'kernel', label: 'next cell' } }, '*'), fixture('encoder'));
    await page.waitForFunction(() => document.querySelector('.tv-caption')?.textContent === 'next cell');
    await page.locator(members).first().waitFor();
    assert.equal(await page.getAttribute(node('g1'), 'aria-expanded'), 'true');
    assert.equal(await page.getAttribute(node('g0'), 'aria-expanded'), 'false');
    assert.ok((await page.locator(`${members} text`).allTextContents()).includes('linear1.weight.grad'));
    await page.locator(node('g1')).click();
    await page.waitForFunction(() => document.querySelectorAll('g.node.tv-member').length === 0);
    // Search finds a group by its members' names.
    await page.locator('.tv-search').fill('exp_avg_sq');
    assert.equal(await page.textContent('.tv-search-count'), '1 match');
    assert.ok((await classesOf(page, 'g2')).includes('tv-search-hit'));
    assert.deepEqual((await facts(page)).csp, []);
    await page.close();
  });

  it('keeps injected kernel names as text: in the drawing, the details and the notes', async () => {
    const page = await panelWith('hostile');
    const texts = await page.$$eval('svg text', (nodes) => nodes.map((n) => n.textContent));
    for (const name of ['<img src=x onerror=alert(1)>', 'q"uote\\N\\G"];x->y[label="pwned', '&lt;b&gt;entity&amp;', '<b onmouseover=alert(2)>pin</b>']) {
      assert.ok(texts.includes(name), `${name} drawn as text: ${JSON.stringify(texts)}`);
    }
    assert.equal(await page.locator('g.node').count(), 7);
    await page.locator(node('t0')).click();
    assert.equal(await page.textContent('.tv-details-title'), '<img src=x onerror=alert(1)>');
    const note = await page.textContent('.tv-notes .tv-note');
    assert.match(note ?? '', /^<b onmouseover=alert\(2\)>pin<\/b> \(2\.0 KiB\) keeps its storage \(2\.0 MiB\)/);
    assert.equal(await page.locator('img, b, .tv-notes *:not(.tv-note)').count(), 0, 'no element made from a name');
    await page.hover('.tv-notes .tv-note');
    const f = await facts(page);
    assert.equal(f.dialogs, 0);
    assert.deepEqual(f.csp, []);
    await page.close();
  });

  it('strips links, images and handlers from a drawing, whatever dot it is sent', async () => {
    const graph = fixture('swap') as Record<string, unknown>;
    const dot = [
      'digraph x {',
      't0 [label="a", URL="javascript:alert(3)", target="_top", tooltip="tip"];',
      't1 [label="b", href="https://example.invalid/"];',
      't0 -> t1 [URL="javascript:alert(4)"];',
      '}',
    ].join('\n');
    const page = await panelWithGraph({ ...graph, dot }, 'evil');
    await page.waitForSelector('svg.tv-svg g.node');
    assert.equal(await page.locator('svg.tv-svg [href], svg.tv-svg [*|href], svg.tv-svg image, svg.tv-svg [target]').count(), 0);
    await page.locator(node('t0')).click();
    assert.ok((await classesOf(page, 't0')).includes('tv-selected'));
    const f = await facts(page);
    assert.equal(f.dialogs, 0);
    assert.equal(page.url(), `${rig.origin}/panel.html`);
    await page.close();
  });

  it('pans with a drag, zooms with the wheel around the pointer, and fits back', async () => {
    const page = await panelWith('mixed');
    const transform = (): Promise<string> => page.$eval('.tv-canvas', (c) => (c as HTMLElement).style.transform);
    const scale = async (): Promise<number> => Number(/scale\(([\d.]+)\)/.exec(await transform())![1]);
    const fitted = await transform();
    const before = await scale();
    await page.mouse.move(500, 300);
    await page.mouse.wheel(0, -400);
    await page.waitForFunction((t) => (document.querySelector('.tv-canvas') as HTMLElement).style.transform !== t, fitted);
    assert.ok((await scale()) > before * 1.5, `zoomed in: ${await transform()}`);
    const zoomed = await transform();
    await page.mouse.move(300, 300);
    await page.mouse.down();
    await page.mouse.move(360, 340, { steps: 4 });
    await page.mouse.up();
    const panned = await transform();
    assert.notEqual(panned, zoomed);
    assert.equal(await page.locator('.tv-selected').count(), 0, 'a drag is not a click');
    // A resized panel keeps the user's zoom...
    await page.setViewportSize({ width: 900, height: 650 });
    await page.waitForTimeout(300);
    assert.equal(await transform(), panned);
    await page.click('.tv-fit');
    const refitted = await transform();
    // ...and, once fitted again, re-fits to the new size.
    await page.setViewportSize({ width: 600, height: 500 });
    await page.waitForFunction((t) => (document.querySelector('.tv-canvas') as HTMLElement).style.transform !== t, refitted);
    const g = await geometry(page);
    assertInside(g.svg, g.box, 'fitted after the resize');
    await page.close();
  });

  it('shows an error for a graph it cannot read, and asks to update an old kernel', async () => {
    const page = await rig.newPage('panel.html');
    await page.waitForFunction(() => (window as unknown as { __posted: unknown[] }).__posted.length > 0);
    await page.evaluate(() => window.postMessage({ type: 'graph', graph: { schema: 'nope/9' } }, '*'));
    assert.match((await page.textContent('.tv-error')) ?? '', /unsupported graph schema "nope\/9"/);
    const { dot: _dot, ...old } = fixture('swap') as Record<string, unknown>;
    await page.evaluate((graph) => window.postMessage({ type: 'graph', graph, source: { kind: 'kernel', label: 'old' } }, '*'), old);
    await page.waitForSelector('.tv-error:has-text("update tensorviews")');
    const message = (await page.textContent('.tv-error')) ?? '';
    assert.equal(message.split('\n').length, 1);
    assert.match(message, /update tensorviews in the kernel \(pip install -U tensorviews\)/);
    assert.equal(await page.locator('svg').count(), 0);
    await page.close();
  });
});

describe('notebook output renderer (headless Chromium)', { timeout: 120000 }, () => {
  it('renders application/vnd.tensorviews.graph+json outputs interactively, notes under the picture', async () => {
    const page = await rendererPage();
    await renderOutput(page, fixture('pinned'));
    await page.waitForSelector('#output svg.tv-svg');
    assert.equal(await page.locator('#output g.node.tv-tensor').count(), 4);
    await page.locator(node('t2')).click();
    assert.ok((await classesOf(page, 't1')).includes('tv-shares-elements'), 'x_row shares memory with x');
    assert.match((await page.textContent('#output .tv-details')) ?? '', /view of: x\n/);
    assert.match((await page.textContent('#output .tv-notes')) ?? '', /h \(4\.0 KiB\) keeps its storage \(64\.0 MiB\) alive/);
    assert.ok((await classesOf(page, 's0')).includes('tv-mark-pinned'));
    assert.equal(await page.$eval('#tensorviews-graph-styles', (s) => s.tagName), 'STYLE');
    assert.deepEqual((await facts(page)).csp, []);
    await page.screenshot({ path: join(artifacts(), 'renderer-pinned.png') });

    await page.evaluate(async () => {
      const w = window as unknown as { renderer: { renderOutputItem(item: unknown, el: HTMLElement): Promise<void> } };
      await w.renderer.renderOutputItem({ id: 'cell-2', mime: 'x', json: () => ({ schema: 'other' }) }, document.getElementById('output')!);
    });
    assert.match((await page.textContent('#output .tv-error')) ?? '', /not a storage graph/);
    await page.close();
  });

  it('sizes its box to the drawing, at most 600 px, and re-fits when the editor is resized', async () => {
    const page = await rendererPage();
    // A one-tensor view document, made by the cores.
    const small = JSON.parse(runPython("import torch, tensorviews; print(tensorviews.view_json({'x': torch.ones(3)}))"));
    await renderOutput(page, small);
    await page.waitForSelector('#output svg.tv-svg');
    let g = await geometry(page);
    assert.equal(g.scale, 1, 'a small drawing is shown 1:1');
    assertInside(g.svg, g.box, 'small drawing');
    assert.ok(Math.abs(g.inner - (g.svg.height + 16)) <= 1.5, `the box (${g.inner}) takes the drawing's height (${g.svg.height}) and a margin`);

    await renderOutput(page, fixture('tall'));
    await page.waitForFunction(() => document.querySelectorAll('#output g.node.tv-tensor').length === 30);
    g = await geometry(page);
    assert.equal(g.inner, 600, 'a tall drawing gets the maximum height');
    assert.ok(g.scale < 1, 'and is fitted into it');
    assertInside(g.svg, g.box, 'tall drawing');

    // A wide drawing: its height at the scale that fits the editor's width decides the box.
    await renderOutput(page, fixture('pinned'));
    await page.waitForFunction(() => document.querySelectorAll('#output g.node.tv-tensor').length === 4);
    await page.$eval('#output', (el) => ((el as HTMLElement).style.width = '300px'));
    await page.waitForFunction(() => {
      const svg = document.querySelector('svg.tv-svg')!.getBoundingClientRect();
      return svg.width <= 300;
    });
    const narrow = await geometry(page);
    assertInside(narrow.svg, narrow.box, 'narrow editor');
    assert.ok(narrow.scale < 1);
    assert.ok(narrow.inner < 300, `the box shrinks with the drawing: ${JSON.stringify(narrow)}`);
    assert.ok(Math.abs(narrow.inner - (narrow.svg.height + 16)) <= 1.5, JSON.stringify(narrow));
    await page.$eval('#output', (el) => ((el as HTMLElement).style.width = '900px'));
    await page.waitForFunction((k) => Number(/scale\(([\d.]+)\)/.exec((document.querySelector('.tv-canvas') as HTMLElement).style.transform)![1]) > k, narrow.scale);
    const wide = await geometry(page);
    assertInside(wide.svg, wide.box, 'wide editor');
    assert.ok(wide.inner > narrow.inner, 'and grows again');
    await page.screenshot({ path: join(artifacts(), 'renderer-resized.png') });
    await page.close();
  });
});

function artifacts(): string {
  const dir = join(CLIENT_ROOT, '..', 'test-artifacts', 'vscode');
  mkdirSync(dir, { recursive: true });
  return dir;
}
