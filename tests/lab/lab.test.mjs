/**
 * The JupyterLab face in a real JupyterLab (the repository's .venv: jupyterlab, jupyterlab-lsp,
 * the prebuilt Tensor Views extension, the server extension), driven by headless Chromium
 * (Debian's, through playwright-core). A user's path: open the blog example, run it, see the
 * interactive graph (an SVG in the renderer, not an <img>), click a tensor and see what shares
 * its memory, open the docked panel from the palette and see it follow the next cell, run a
 * small model, and see the TV001 squiggle from the language server jupyter-lsp started.
 *
 * Screenshots go to test-artifacts/lab/.
 */

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '..', '..');
const PYTHON = process.env.TENSORVIEWS_PYTHON ?? join(REPO, '.venv', 'bin', 'python');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = join(REPO, 'test-artifacts', 'lab');
const NOTEBOOK = 'seed_swap.ipynb';
const NOTEBOOK7 = 'seed_swap_nb7.ipynb'; // opened in Notebook 7, served by the same server

/** A free loopback port. */
function freePort() {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });
}

let lab; // { process, url, token, root, log }
let browser;
let page;

async function startLab() {
  const root = mkdtempSync(join(tmpdir(), 'tv-lab-root-'));
  const home = mkdtempSync(join(tmpdir(), 'tv-lab-home-'));
  copyFileSync(join(REPO, 'examples', NOTEBOOK), join(root, NOTEBOOK));
  copyFileSync(join(REPO, 'examples', NOTEBOOK), join(root, NOTEBOOK7));
  // No news or update toasts over the notebook.
  const config = join(home, 'config');
  mkdirSync(join(config, 'labconfig'), { recursive: true });
  writeFileSync(
    join(config, 'labconfig', 'page_config.json'),
    JSON.stringify({ disabledExtensions: { '@jupyterlab/apputils-extension:announcements': true } }),
  );
  const token = randomBytes(16).toString('hex');
  const port = await freePort();
  const env = {
    ...process.env,
    PYTHONPATH: REPO, // kernels, the server and the language server import this checkout
    JUPYTER_CONFIG_DIR: config,
    JUPYTER_RUNTIME_DIR: join(home, 'runtime'),
    JUPYTERLAB_SETTINGS_DIR: join(home, 'settings'),
    JUPYTERLAB_WORKSPACES_DIR: join(home, 'workspaces'),
    HOME: home,
  };
  const child = spawn(
    PYTHON,
    [
      '-m', 'jupyterlab', '--no-browser', '--ServerApp.ip=127.0.0.1', `--ServerApp.port=${port}`,
      '--ServerApp.port_retries=0', `--IdentityProvider.token=${token}`, `--ServerApp.root_dir=${root}`,
      '--allow-root', '--LabApp.extension_manager=readonly', '--LabApp.news_url=', '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate',
    ],
    // Its own process group: the end of the run stops every process it started (kernels,
    // the language server and its workers), so none can hold our pipes open.
    { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  const log = [];
  const keep = (chunk) => {
    log.push(chunk.toString());
    if (log.length > 400) log.splice(0, 100);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 240; i += 1) {
    if (child.exitCode !== null) throw new Error(`jupyter lab exited (${child.exitCode}):\n${log.join('')}`);
    try {
      const response = await fetch(`${url}/api/status?token=${token}`);
      if (response.ok) return { process: child, url, token, root, home, log };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  child.kill('SIGKILL');
  throw new Error(`jupyter lab did not start in 120 s:\n${log.join('')}`);
}

async function api(path) {
  const response = await fetch(`${lab.url}${path}${path.includes('?') ? '&' : '?'}token=${lab.token}`);
  assert.ok(response.ok, `${path}: ${response.status}`);
  return response.json();
}

async function shot(name) {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
}

/** Runs a Lab command from the menu bar: menu label, then item label. */
async function menu(top, item) {
  await page.locator('.lm-MenuBar-itemLabel', { hasText: new RegExp(`^${top}$`) }).click();
  await page.locator('.lm-Menu-itemLabel', { hasText: new RegExp(`^${item}$`) }).first().click();
}

/** Waits until the notebook's kernel is idle (every queued cell has run). */
async function kernelIdle(timeout = 120000) {
  await page.waitForFunction(
    () => {
      const cells = Array.from(document.querySelectorAll('.jp-Notebook .jp-InputPrompt'));
      return cells.length > 0 && cells.every((c) => !c.textContent?.includes('[*]'));
    },
    undefined,
    { timeout },
  );
  await page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]').first().waitFor({ timeout });
}

/** Hides the file browser and drags the right sidebar wider: room for the panel's drawing. */
async function widenRightPanel() {
  const browserTab = page.locator('.jp-SideBar.jp-mod-left .lm-TabBar-tab[data-id="filebrowser"]');
  if (await browserTab.getAttribute('aria-selected') === 'true') await browserTab.click();
  const handle = page.locator('#jp-main-split-panel > .lm-SplitPanel-handle:not(.lm-mod-hidden)').last();
  const box = await handle.boundingBox();
  if (!box) return;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x - 380, box.y + box.height / 2, { steps: 8 });
  await page.mouse.up();
}

/** Appends a code cell at the end of the notebook, types `code` and runs it. */
async function runNewCell(code) {
  await page.locator('.jp-Notebook .jp-Cell').last().click();
  await page.keyboard.press('Escape');
  await page.keyboard.press('b'); // command mode: insert a cell below
  await page.keyboard.press('Enter');
  await page.keyboard.insertText(code);
  await page.keyboard.press('Shift+Enter');
  await kernelIdle();
}

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  lab = await startLab();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const context = await browser.newContext({ viewport: { width: 1500, height: 950 } });
  page = await context.newPage();
  page.setDefaultTimeout(60000);
  await page.goto(`${lab.url}/lab/tree/${NOTEBOOK}?token=${lab.token}`);
  await page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]').first().waitFor({ timeout: 120000 });
});

after(async () => {
  await browser?.close();
  if (lab) {
    const group = (signal) => {
      try {
        process.kill(-lab.process.pid, signal);
      } catch {
        // the group is gone already
      }
    };
    group('SIGTERM');
    await new Promise((r) => {
      const timer = setTimeout(r, 10000);
      lab.process.once('exit', () => {
        clearTimeout(timer);
        r();
      });
    });
    group('SIGKILL');
    lab.process.stdout?.destroy();
    lab.process.stderr?.destroy();
    rmSync(lab.root, { recursive: true, force: true });
    rmSync(lab.home, { recursive: true, force: true });
  }
});

describe('Tensor Views in a real JupyterLab (headless Chromium)', { timeout: 600000 }, () => {
  it('installs as a prebuilt extension: enabled, and the language server spec is found', async () => {
    // `jupyter labextension list` reports on stderr.
    const run = spawnSync(PYTHON, ['-m', 'jupyter', 'labextension', 'list'], {
      encoding: 'utf8', env: { ...process.env, PYTHONPATH: REPO, NO_COLOR: '1' },
    });
    const listing = `${run.stdout}${run.stderr}`.replace(/\x1b\[[0-9;]*m/g, '');
    assert.match(listing, /tensorviews v0\.1\.0 .*enabled.*OK/);
    // jupyter-lsp found the spec through the jupyter_lsp_spec_v1 entry point (it censors argv).
    const status = await api('/lsp/status');
    assert.ok(status.specs.tensorviews, `jupyter-lsp lists the spec: ${Object.keys(status.specs)}`);
    assert.equal(status.specs.tensorviews.display_name, 'Tensor Views');
    assert.deepEqual(status.specs.tensorviews.languages, ['python']);
  });

  it('runs the blog example: the graph is an interactive SVG drawn in the page, not an <img>', async () => {
    await menu('Run', 'Run All Cells');
    await kernelIdle();
    const outputs = page.locator('.jp-OutputArea-output.jp-TensorViews-output');
    await outputs.first().locator('svg.tv-svg').waitFor();
    assert.ok((await outputs.count()) >= 3, 'three %tensorgraph outputs drawn by the renderer');
    // The SVG image of the same bundle is not what Lab shows (it stays in the saved file).
    assert.equal(await page.locator('.jp-OutputArea-output.jp-RenderedSVG img, .jp-RenderedImage img').count(), 0);
    const first = outputs.first();
    assert.ok((await first.locator('g.node.tv-tensor').count()) >= 4, 'a, b, row_a, row_b are nodes');
    const title = await first.locator('g.node.tv-tensor title').first().textContent();
    assert.match(title ?? '', /names: .*\n.*dtype: float32|names: /, 'tooltips carry the facts');
    await first.scrollIntoViewIfNeeded();
    await shot('lab-renderer');
  });

  it('clicking a tensor in the renderer highlights what shares its memory and shows its facts', async () => {
    const first = page.locator('.jp-TensorViews-output').first();
    const rowA = first.locator('g.node.tv-tensor', { has: page.locator('title', { hasText: /^names: row_a/ }) });
    await rowA.click();
    assert.equal(await first.locator('g.tv-selected').count(), 1);
    assert.ok((await first.locator('g.node.tv-shares-elements').count()) >= 1, 'a shares elements with row_a');
    assert.ok((await first.locator('g.edge.tv-highlight-edge').count()) >= 1);
    const details = (await first.locator('.tv-details').textContent()) ?? '';
    assert.match(details, /shares elements with: a\b/);
    assert.match(details, /shape: \(2,\)/);
    await shot('lab-renderer-selected');
    // The search box of the drawing: names containing "row".
    await first.locator('.tv-search').fill('row');
    assert.equal(await first.locator('.tv-search-count').textContent(), '2 matches');
    await first.locator('.tv-search').fill('');
  });

  it('the Storage Graph panel opens from the palette, shows the kernel, and follows the next cell', async () => {
    await page.keyboard.press('Escape');
    await page.keyboard.press('Control+Shift+c');
    await page.locator('.lm-CommandPalette-input').fill('Show Storage Graph');
    await page.keyboard.press('Enter');
    const panel = page.locator('#tensorviews-storage-graph');
    await panel.locator('svg.tv-svg').waitFor();
    await widenRightPanel();
    assert.match((await panel.locator('.jp-TensorViews-status').textContent()) ?? '', new RegExp(NOTEBOOK.replace('.', '\\.')));
    await panel.locator('.jp-TensorViews-item', { hasText: 'x_np' }).first().waitFor();
    assert.equal(await panel.locator('.jp-TensorViews-item', { hasText: 'fresh_view' }).count(), 0);
    await runNewCell('fresh = torch.zeros(4, 4)\nfresh_view = fresh[:, 1]');
    await panel.locator('.jp-TensorViews-item', { hasText: 'fresh_view' }).waitFor();
    // Memory is counted per storage: fresh (64 B) and its view fresh_view add up to 64 B.
    await panel.locator('.tv-search').fill('fresh');
    assert.equal(await panel.locator('.jp-TensorViews-prefix > summary').textContent(), '(top level) · 2 · 64 B');
    await panel.locator('.tv-search').fill('');
    // A click in the list selects the tensor in the drawing and shows its facts.
    await panel.locator('.jp-TensorViews-item', { hasText: 'fresh_view' }).click();
    assert.equal(await panel.locator('g.tv-selected').count(), 1);
    assert.match((await panel.locator('.tv-details').textContent()) ?? '', /stride: \(4,\)/);
    // ...and brings it into view at a readable scale (1:1), centred in the panel's viewport.
    const scale = await panel.locator('.tv-canvas').evaluate((el) => Number(/scale\(([\d.]+)\)/.exec(el.style.transform)?.[1]));
    assert.ok(scale >= 1, `zoomed to ${scale}`);
    const node = await panel.locator('g.tv-selected').boundingBox();
    const viewport = await panel.locator('.tv-viewport').boundingBox();
    assert.ok(Math.abs(node.x + node.width / 2 - (viewport.x + viewport.width / 2)) < 4, 'centred horizontally');
    assert.ok(Math.abs(node.y + node.height / 2 - (viewport.y + viewport.height / 2)) < 4, 'centred vertically');
    await shot('lab-panel');
  });

  it('a small model: parameters fold by module prefix in the panel, and the renderer draws them', async () => {
    await runNewCell(
      'model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))\n' +
        'w0 = model[0].weight\n%tensorgraph model w0',
    );
    const last = page.locator('.jp-TensorViews-output').last();
    await last.locator('svg.tv-svg').waitFor();
    assert.ok((await last.locator('g.node.tv-tensor').count()) >= 4, 'the weights and biases are drawn');
    const panel = page.locator('#tensorviews-storage-graph');
    const prefix = panel.locator('.jp-TensorViews-prefix > summary', { hasText: /^model\.0 · 2 · 160 B$/ });
    await prefix.waitFor();
    await prefix.click(); // fold model.0
    assert.equal(await panel.locator('.jp-TensorViews-prefix:not([open]) > summary', { hasText: /^model\.0 / }).count(), 1);
    await panel.locator('.tv-search').fill('model.2');
    assert.equal(await panel.locator('.jp-TensorViews-item').count(), 2, 'the filter keeps model.2.weight and model.2.bias');
    await shot('lab-model');
    await panel.locator('.tv-search').fill('');
  });

  it('a 12-layer encoder with AdamW under %tensorgraph --all: a click opens a folded group in place, a second folds it back', async () => {
    await runNewCell(
      'from torch import nn\n' +
        'enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 2, 32), 12, enable_nested_tensor=False)\n' +
        'opt = torch.optim.AdamW(enc.parameters())\nenc(torch.rand(3, 2, 16)).sum().backward()\nopt.step()\n' +
        '%tensorgraph --all enc opt',
    );
    const out = page.locator('.jp-TensorViews-output').last();
    await out.locator('svg.tv-svg').waitFor();
    // Parameters, gradients and optimizer state: three folders, none open.
    assert.equal(await out.locator('g.node.tv-group').count(), 3);
    const params = out.locator('g.node.tv-group', { has: page.locator('title', { hasText: /^parameters: 144 tensors\/arrays folded under enc\.layers\.0\.\.11\.\*/ }) });
    assert.equal(await params.getAttribute('aria-expanded'), 'false');
    const members = out.locator('g.node.tv-member');
    assert.equal(await members.count(), 0);
    await params.click();
    await members.first().waitFor();
    assert.equal(await members.count(), 1, 'one box beside the folder');
    const texts = await members.locator('text').allTextContents();
    assert.deepEqual(texts.filter((t) => /^enc\.layers\.\d+\.\*$/.test(t)), Array.from({ length: 12 }, (_, i) => `enc.layers.${i}.*`), 'one cell per layer');
    assert.equal(texts.filter((t) => t === 'linear1.weight').length, 12);
    assert.equal(await params.getAttribute('aria-expanded'), 'true');
    const details = (await out.locator('.tv-details').textContent()) ?? '';
    assert.match(details, /enc\.layers\.\*\.linear1\.weight ×12 · 24 KiB/);
    assert.match(details, /\n {2}enc\.layers\.11\.norm2\.bias/);
    await out.scrollIntoViewIfNeeded();
    await shot('lab-group-expanded');
    await params.click();
    await page.waitForFunction(() => document.querySelectorAll('.jp-TensorViews-output g.node.tv-member').length === 0);
    assert.equal(await params.getAttribute('aria-expanded'), 'false');
    // Keyboard users: Enter on the focused optimizer-state folder opens it.
    const state = out.locator('g.node.tv-group', { has: page.locator('title', { hasText: /^optimizer state: 432/ }) });
    await state.focus();
    await page.keyboard.press('Enter');
    await members.first().waitFor();
    assert.ok((await members.locator('text').allTextContents()).includes('opt.state[enc.layers.0.*][*]'));
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelectorAll('.jp-TensorViews-output g.node.tv-member').length === 0);
  });

  it('jupyterlab-lsp runs the language server: a TV001 squiggle on the swap of views, with its message', async () => {
    const swapCell = page.locator('.jp-CodeCell', { hasText: 'a[0], b[0] = b[0], a[0]' }).first();
    await swapCell.scrollIntoViewIfNeeded();
    await swapCell.locator('.cm-content').click();
    // `a` and `b` are torch tensors (statically known): TV001 at error severity.
    const squiggle = swapCell.locator('.cm-lintRange-error').first();
    await squiggle.waitFor({ timeout: 120000 });
    assert.equal(await squiggle.textContent(), 'a[0], b[0] = b[0], a[0]');
    await squiggle.hover();
    const tooltip = page.locator('.cm-tooltip-lint .cm-diagnostic').first();
    await tooltip.waitFor({ timeout: 30000 });
    const message = (await tooltip.textContent()) ?? '';
    assert.match(message, /^swap of views: `a\[0\]` is a view that the earlier store into `a\[0\]` overwrites/);
    assert.match(message, /fix: a\[0\], b\[0\] = b\[0\], a\[0\]\.clone\(\)/);
    assert.match(message, /tensorviews$/, 'the source is the Tensor Views server');
    await shot('lab-lsp-tv001');
    // The hover (Ctrl + pointer in jupyterlab-lsp) explains the evaluation order with the names.
    await page.mouse.move(0, 0);
    const target = swapCell.locator('.cm-line').first();
    const line = (await target.boundingBox());
    await page.keyboard.down('Control');
    await page.mouse.move(line.x + 12, line.y + line.height / 2, { steps: 4 });
    const hover = page.locator('.lsp-hover').first();
    await hover.waitFor({ timeout: 30000 });
    await page.keyboard.up('Control');
    assert.match((await hover.textContent()) ?? '', /a\[0\]/);
    await shot('lab-lsp-hover');
    const sessions = (await api('/lsp/status')).sessions;
    assert.equal(sessions.tensorviews?.status, 'started', 'jupyter-lsp started python -m lsp_server');
  });

  it("the launcher's Tensor Views Kernels Page card opens the server extension's /tensorviews/ page", async () => {
    await page.keyboard.press('Escape');
    await menu('File', 'New Launcher');
    const card = page.locator('.jp-LauncherCard', { hasText: 'Tensor Views Kernels Page' });
    await card.waitFor();
    const [opened] = await Promise.all([page.context().waitForEvent('page'), card.click()]);
    await opened.waitForLoadState();
    assert.match(opened.url(), /\/tensorviews\/$/);
    await opened.locator('#kernels', { hasText: NOTEBOOK }).waitFor(); // it lists the notebook's kernel
    await opened.close();
  });

  it('works in Notebook 7 too: the same renderer draws the graph, the panel command is there', async () => {
    const nb7 = await page.context().newPage();
    await nb7.goto(`${lab.url}/notebooks/${NOTEBOOK7}?token=${lab.token}`);
    await nb7.locator('.jp-Notebook .jp-Cell').first().waitFor({ timeout: 120000 });
    await nb7.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"], .jp-KernelStatus-success, .jp-Notebook').first().waitFor();
    await nb7.waitForTimeout(1000);
    await nb7.locator('.lm-MenuBar-itemLabel', { hasText: /^Run$/ }).click();
    await nb7.locator('.lm-Menu-itemLabel', { hasText: /^Run All Cells$/ }).first().click();
    const output = nb7.locator('.jp-OutputArea-output.jp-TensorViews-output').first();
    await output.locator('svg.tv-svg').waitFor({ timeout: 120000 });
    const rowA = output.locator('g.node.tv-tensor', { has: nb7.locator('title', { hasText: /^names: row_a/ }) });
    await rowA.click();
    assert.match((await output.locator('.tv-details').textContent()) ?? '', /shares elements with: a\b/);
    await nb7.keyboard.press('Escape');
    await nb7.keyboard.press('Control+Shift+c');
    await nb7.locator('.lm-CommandPalette-input').fill('Show Storage Graph');
    await nb7.keyboard.press('Enter');
    await nb7.locator('#tensorviews-storage-graph svg.tv-svg').waitFor({ timeout: 60000 });
    await nb7.screenshot({ path: join(ARTIFACTS, 'notebook7.png') });
    await nb7.close();
  });

  // scripts/make_client_images.sh: the showcase notebooks (scripts/client_notebooks.py, run by a
  // real kernel) as JupyterLab draws them, each cell cropped to its input and output.
  const IMAGES = process.env.TENSORVIEWS_CLIENT_IMAGES;
  it('pictures for the docs: the showcase notebooks in JupyterLab', { skip: !IMAGES && 'TENSORVIEWS_CLIENT_IMAGES not set' }, async () => {
    const notebooks = process.env.TENSORVIEWS_CLIENT_NOTEBOOKS;
    assert.ok(notebooks, 'TENSORVIEWS_CLIENT_NOTEBOOKS: the folder scripts/client_notebooks.py wrote');
    mkdirSync(IMAGES, { recursive: true });
    const pictures = await browser.newPage({ viewport: { width: 1280, height: 1500 } });
    // The names the notebooks get in Lab (what the tab shows).
    const files = { encoder: 'encoder-12-layers-adamw', llama: 'llama-7b-on-meta', pinned: 'pinned-h' };
    for (const [name, file] of Object.entries(files)) {
      copyFileSync(join(notebooks, `${name}.ipynb`), join(lab.root, `${file}.ipynb`));
      // A workspace of its own, reset: only this notebook open.
      await pictures.goto(`${lab.url}/lab/workspaces/pictures/tree/${file}.ipynb?reset&token=${lab.token}`);
      const output = pictures.locator('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output.jp-TensorViews-output').last();
      await output.locator('svg.tv-svg').waitFor({ timeout: 120000 });
      // The file browser closed: the notebook takes the width.
      const browserTab = pictures.locator('.jp-SideBar.jp-mod-left .lm-TabBar-tab[data-id="filebrowser"]');
      if (await browserTab.getAttribute('aria-selected') === 'true') await browserTab.click();
      await pictures.waitForTimeout(500);
      const cell = pictures.locator('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell').last(); // %tensorgraph
      await cell.scrollIntoViewIfNeeded();
      await cell.screenshot({ path: join(IMAGES, `jupyterlab-${name}.png`) });
      if (name === 'encoder') {
        await output.locator('g.node.tv-group').first().click();
        await output.locator('g.node.tv-member').first().waitFor();
        // A click on the background closes the details: the opened box is what the picture shows.
        await output.locator('.tv-viewport').click({ position: { x: 4, y: 4 } });
        await pictures.waitForTimeout(300);
        await cell.screenshot({ path: join(IMAGES, `jupyterlab-${name}-expanded.png`) });
      }
    }
    await pictures.close();
  });
});
