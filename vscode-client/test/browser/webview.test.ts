import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { CLIENT_ROOT, fixture } from '../unit/fixtures';
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

async function panelWith(name: 'swap' | 'mixed' | 'hostile'): Promise<Page> {
  const page = await rig.newPage('panel.html');
  await page.waitForFunction(() => (window as unknown as { __posted: unknown[] }).__posted.length > 0);
  await page.evaluate(
    ([graph, label]) => window.postMessage({ type: 'graph', graph, source: { kind: 'kernel', label } }, '*'),
    [fixture(name), `${name}.ipynb (kernel 1234)`] as const,
  );
  await page.waitForSelector('svg.tv-svg g.node');
  return page;
}

const classesOf = (page: Page, id: string): Promise<string[]> =>
  page.$eval(`g[id="${id}"]`, (g) => Array.from(g.classList));

describe('Storage Graph panel webview (headless Chromium, strict CSP)', { timeout: 90000 }, () => {
  it('says it is ready, waits with a message, then draws the graph it is sent', async () => {
    const page = await rig.newPage('panel.html');
    await page.waitForFunction(() => (window as unknown as { __posted: unknown[] }).__posted.length > 0);
    assert.deepEqual((await facts(page)).posted, [{ type: 'ready' }]);
    assert.match(await page.textContent('.tv-message') ?? '', /No storage graph yet/);
    await page.close();

    const drawn = await panelWith('swap');
    assert.equal(await drawn.locator('g.node.tv-tensor').count(), 5);
    assert.equal(await drawn.locator('g.node.tv-storage').count(), 2);
    assert.equal(await drawn.locator('g.edge.tv-overlap-edge').count(), 3);
    assert.equal(await drawn.textContent('.tv-caption'), 'swap.ipynb (kernel 1234)');
    assert.equal(await drawn.textContent('.tv-summary'), '5 tensors · 2 storages · 5 sharing memory');
    const texts = await drawn.$$eval('svg text', (nodes) => nodes.map((n) => n.textContent));
    assert.ok(texts.includes('row_a') && texts.includes('storage 16 B') && texts.includes('stride (1,) offset 0'), JSON.stringify(texts));
    const f = await facts(drawn);
    assert.deepEqual(f.csp, [], 'no Content-Security-Policy violations (wasm compiled under wasm-unsafe-eval)');
    await drawn.screenshot({ path: join(artifacts(), 'panel-swap.png') });
    await drawn.close();
  });

  it('clicking a tensor highlights what shares its memory; the background clears it', async () => {
    const page = await panelWith('swap');
    await page.locator('g[id="t2"]').click();
    assert.ok((await classesOf(page, 't2')).includes('tv-selected'));
    assert.ok((await classesOf(page, 't0')).includes('tv-shares-elements'), 'a shares elements with row_a');
    assert.ok((await classesOf(page, 't4')).includes('tv-shares-storage'), 'other_row: same storage, other elements');
    assert.ok((await classesOf(page, 's0')).includes('tv-shares-storage'));
    assert.ok((await classesOf(page, 'o0')).includes('tv-highlight-edge'));
    for (const id of ['t1', 't3', 's1']) {
      const cls = await classesOf(page, id);
      assert.ok(!cls.some((c) => ['tv-selected', 'tv-shares-elements', 'tv-shares-storage'].includes(c)), `${id} is not highlighted: ${cls}`);
    }
    const details = await page.textContent('.tv-details');
    assert.match(details ?? '', /shares elements with: a\b/);
    assert.match(details ?? '', /same storage, disjoint elements: other_row/);
    assert.deepEqual((await facts(page)).posted.at(-1), { type: 'selected', tensor: 't2' });
    await page.screenshot({ path: join(artifacts(), 'panel-swap-selected.png') });

    const box = (await page.locator('.tv-viewport').boundingBox())!;
    await page.mouse.click(box.x + 4, box.y + 4); // empty corner of the viewport
    assert.equal(await page.locator('.tv-selected').count(), 0);
    assert.equal(await page.isHidden('.tv-details'), true);
    await page.close();
  });

  it('draws devices as clusters and puts full details in tooltips', async () => {
    const page = await panelWith('mixed');
    const clusters = await page.$$eval('g.cluster > text', (nodes) => nodes.map((n) => n.textContent));
    assert.deepEqual(clusters, ['cpu', 'meta']);
    const tooltip = await page.$eval('g[id="t1"] > title', (t) => t.textContent);
    assert.match(tooltip ?? '', /names: xt\n/);
    assert.match(tooltip ?? '', /stride: \(1, 4\) elements/);
    assert.match(tooltip ?? '', /offset: 0 elements \(0 B\)/);
    assert.match(await page.$eval('g[id="o0"] > title', (t) => t.textContent) ?? '', /^x and xt share memory$/);
    await page.screenshot({ path: join(artifacts(), 'panel-mixed.png') });
    await page.close();
  });

  it('keeps injected kernel names as text: no element, no script, no DOT injection', async () => {
    const page = await panelWith('hostile');
    assert.equal(await page.locator('img').count(), 0);
    const texts = await page.$$eval('svg text', (nodes) => nodes.map((n) => n.textContent));
    for (const name of ['<img src=x onerror=alert(1)>', 'q"uote\\N\\G"];x->y[label="pwned', '&lt;b&gt;entity&amp;']) {
      assert.ok(texts.includes(name), `${name} drawn as text: ${JSON.stringify(texts)}`);
    }
    assert.equal(await page.locator('g.node').count(), 5);
    await page.locator('g[id="t0"]').click();
    assert.equal(await page.textContent('.tv-details-title'), '<img src=x onerror=alert(1)>');
    assert.equal(await page.locator('img').count(), 0);
    const f = await facts(page);
    assert.equal(f.dialogs, 0);
    assert.deepEqual(f.csp, []);
    await page.close();
  });

  it('pans with a drag, zooms with the wheel around the pointer, and fits back', async () => {
    const page = await panelWith('mixed');
    const transform = (): Promise<string> => page.$eval('.tv-canvas', (c) => (c as HTMLElement).style.transform);
    const scale = async (): Promise<number> => Number(/scale\(([\d.]+)\)/.exec(await transform())![1]);
    const fitted = await transform();
    const before = await scale();
    await page.mouse.move(500, 400);
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
    await page.click('.tv-fit');
    assert.equal(await transform(), fitted);
    await page.close();
  });

  it('shows an error for a graph it cannot read', async () => {
    const page = await rig.newPage('panel.html');
    await page.waitForFunction(() => (window as unknown as { __posted: unknown[] }).__posted.length > 0);
    await page.evaluate(() => window.postMessage({ type: 'graph', graph: { schema: 'nope/9' } }, '*'));
    assert.match(await page.textContent('.tv-error') ?? '', /unsupported graph schema "nope\/9"/);
    await page.close();
  });
});

describe('notebook output renderer (headless Chromium)', { timeout: 90000 }, () => {
  it('renders application/vnd.tensorviews.graph+json outputs interactively', async () => {
    const page = await rig.newPage('renderer.html');
    await page.waitForFunction(() => (window as unknown as { rendererReady?: boolean }).rendererReady === true);
    await page.evaluate(async (graph) => {
      const w = window as unknown as { renderer: { renderOutputItem(item: unknown, el: HTMLElement): Promise<void> } };
      await w.renderer.renderOutputItem({ id: 'cell-1', mime: 'application/vnd.tensorviews.graph+json', json: () => graph }, document.getElementById('output')!);
    }, fixture('mixed'));
    await page.waitForSelector('#output svg.tv-svg');
    assert.equal(await page.locator('#output g.node.tv-tensor').count(), 8);
    await page.locator('g[id="t2"]').click();
    assert.ok((await classesOf(page, 't0')).includes('tv-shares-elements'), 'x_np shares memory with x');
    assert.equal(await page.$eval('#tensorviews-graph-styles', (s) => s.tagName), 'STYLE');
    assert.deepEqual((await facts(page)).csp, []);
    await page.screenshot({ path: join(artifacts(), 'renderer-mixed.png') });

    await page.evaluate(async () => {
      const w = window as unknown as { renderer: { renderOutputItem(item: unknown, el: HTMLElement): Promise<void> } };
      await w.renderer.renderOutputItem({ id: 'cell-2', mime: 'x', json: () => ({ schema: 'other' }) }, document.getElementById('output')!);
    });
    assert.match(await page.textContent('#output .tv-error') ?? '', /not a storage graph/);
    await page.close();
  });
});

function artifacts(): string {
  const dir = join(CLIENT_ROOT, '..', 'test-artifacts', 'vscode');
  require('node:fs').mkdirSync(dir, { recursive: true });
  return dir;
}
