/**
 * End to end in a real VS Code (code-server from npm, driven by playwright-core): the .vsix
 * installs; a .py file with the seed's swap gets our diagnostic and hover from the language
 * server; the Storage Graph panel draws the graph a live kernel's snapshot delivers through the
 * server (`tensorviews/latestGraph`, then a `tensorviews/graph` push), with the view's
 * pinned-memory note under the picture; a saved notebook's `%tensorgraph` output is drawn by our
 * notebook renderer, note included; paused at a breakpoint in a real script under the real
 * debugpy adapter (test/debugpy-extension registers the `debugpy` type), "Show Storage Graph of
 * Current Frame" draws that frame's graph with its note. Screenshots: test-artifacts/vscode/.
 */

import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import type { Frame, FrameLocator, Locator, Page } from 'playwright-core';
import { CLIENT_ROOT, REPO_ROOT, projectPython } from '../unit/fixtures';
import { type CodeServer, startCodeServer } from './codeServer';

const SEED = 'import torch\na = torch.rand(2, 2)\nb = torch.rand(2, 2)\na[0], b[0] = b[0], a[0]\n';
const ARTIFACTS = join(REPO_ROOT, 'test-artifacts', 'vscode');
/** scripts/make_client_images.sh: where the pictures for the docs go (unset: not drawn). */
const IMAGES = process.env.TENSORVIEWS_CLIENT_IMAGES;
const SHOWCASE = ['encoder', 'llama', 'pinned'];
/** The names the showcase notebooks get in the workspace (what the editor's tab shows). */
const SHOWCASE_FILE: Record<string, string> = { encoder: 'encoder-12-layers-adamw', llama: 'llama-7b-on-meta', pinned: 'pinned-h' };
/** A real script to debug: a function whose locals hold a 4 KiB column of 64 MiB of activations. */
const FRAME_SCRIPT = `import torch

weights = torch.ones(3)  # a module global: in scope in every frame of this module


def summarize():
    acts = torch.zeros(1024, 16384)
    last_col = acts[:, -1]
    del acts
    small = torch.arange(6).view(2, 3)
    row = small[0]
    print(last_col.shape, row.shape)  # breakpoint here


def main():
    caller_only = torch.zeros(5)  # the caller's local: not in scope in summarize()
    summarize()
    print(caller_only.shape)


main()
`;

/** The kernel session of tests/vscode/kernel_session.py: a live IPython kernel we can run cells in. */
class Kernel {
  private readonly lines: Interface;
  private readonly pending: Array<(line: string) => void> = [];
  stderr = '';

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    this.lines = createInterface({ input: child.stdout });
    this.lines.on('line', (line) => this.pending.shift()?.(line));
    child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
  }

  next(timeoutMs: number): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`kernel session silent for ${timeoutMs} ms:\n${this.stderr}`)), timeoutMs);
      this.pending.push((line) => {
        clearTimeout(timer);
        resolve(JSON.parse(line) as Record<string, unknown>);
      });
    });
  }

  async run(code: string): Promise<void> {
    const answer = this.next(60000);
    this.child.stdin.write(`${JSON.stringify(code)}\n`);
    assert.deepEqual(await answer, { ok: true }, code);
  }

  close(): void {
    this.child.stdin.end();
    setTimeout(() => this.child.kill('SIGKILL'), 5000).unref();
  }
}

let base: string;
let kernel: Kernel;
let runtime: string;
let vscode: CodeServer;
let page: Page;

async function shot(name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
}

/**
 * The quick input opened with `key` (F1: the command palette, Control+P: quick open). On a loaded
 * machine a key can land before the workbench took the previous Escape, which then closes the
 * widget again: the key is pressed again until the input shows.
 */
async function quickInput(key: string): Promise<Locator> {
  const input = page.locator('.quick-input-widget input');
  for (let attempt = 1; ; attempt++) {
    await page.keyboard.press(key);
    try {
      await input.waitFor({ timeout: 10000 });
      return input;
    } catch (error) {
      if (attempt === 3) throw error;
    }
  }
}

async function runCommand(title: string): Promise<void> {
  const input = await quickInput('F1');
  await input.fill(`>${title}`);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor();
  await page.keyboard.press('Enter');
}

async function openFile(name: string): Promise<void> {
  const input = await quickInput('Control+P');
  await input.fill(name);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().waitFor();
  await page.keyboard.press('Enter');
}

/** Screen centre of the first `word` on the editor line containing `lineText`, found with a DOM Range. */
async function wordCentre(lineText: string, word: string): Promise<{ x: number; y: number }> {
  const point = await page.evaluate(
    ([lineText, word]) => {
      const norm = (s: string): string => s.replace(/\u00a0/g, ' ');
      for (const line of Array.from(document.querySelectorAll('.monaco-editor .view-line'))) {
        const text = norm(line.textContent ?? '');
        const lineAt = text.indexOf(lineText);
        if (lineAt < 0) continue;
        let target = text.indexOf(word, lineAt);
        const walker = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
          const length = node.textContent!.length;
          if (target < length) {
            const range = document.createRange();
            range.setStart(node, target);
            range.setEnd(node, Math.min(length, target + word.length));
            const rect = range.getBoundingClientRect();
            return { x: rect.left + rect.width / 2, y: rect.top + rect.height / 2 };
          }
          target -= length;
        }
      }
      return null;
    },
    [lineText, word] as const,
  );
  assert.ok(point, `"${word}" on the line "${lineText}" is on screen`);
  return point;
}

function panelFrame(): FrameLocator {
  return page.frameLocator('iframe.webview').frameLocator('#active-frame');
}

async function frameWith(selector: string, timeoutMs: number): Promise<Frame> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const frame of page.frames()) {
      if (await frame.$(selector).catch(() => null)) return frame;
    }
    await page.waitForTimeout(500);
  }
  throw new Error(`no frame has ${selector}`);
}

/** The frame (of any webview) whose `selector` element's text matches `text`. */
async function frameWithText(selector: string, text: RegExp, timeoutMs: number): Promise<Frame> {
  const deadline = Date.now() + timeoutMs;
  let seen: string[] = [];
  while (Date.now() < deadline) {
    seen = [];
    for (const frame of page.frames()) {
      const found = await frame.$(selector).catch(() => null);
      if (!found) continue;
      const content = ((await found.textContent().catch(() => null)) ?? '').trim();
      if (text.test(content)) return frame;
      seen.push(content);
    }
    await page.waitForTimeout(500);
  }
  throw new Error(`no frame has ${selector} matching ${text}; seen: ${JSON.stringify(seen)}`);
}

before(async () => {
  base = mkdtempSync(join(tmpdir(), 'tv-e2e-'));
  const workspace = join(base, 'workspace');
  runtime = join(base, 'jupyter-runtime');
  mkdirSync(workspace);
  mkdirSync(runtime, { mode: 0o700 });
  writeFileSync(join(workspace, 'swap.py'), SEED);
  writeFileSync(join(workspace, 'frame.py'), FRAME_SCRIPT);
  const python = projectPython();
  // encoder.ipynb: a small 12-layer encoder after an AdamW step, its `%tensorgraph --all`
  // output saved by a real kernel (its parameters, gradients and optimizer state fold).
  execFileSync(python, [join(REPO_ROOT, 'scripts', 'client_notebooks.py'), workspace, '--small'], {
    cwd: REPO_ROOT, env: { ...process.env, PYTHONPATH: REPO_ROOT }, stdio: 'pipe', timeout: 180000,
  });
  if (IMAGES) {
    // The showcase notebooks at full size, for the pictures in docs/images.
    const notebooks = process.env.TENSORVIEWS_CLIENT_NOTEBOOKS;
    assert.ok(notebooks, 'TENSORVIEWS_CLIENT_NOTEBOOKS: the folder scripts/client_notebooks.py wrote');
    for (const name of SHOWCASE) copyFileSync(join(notebooks, `${name}.ipynb`), join(workspace, `${SHOWCASE_FILE[name]}.ipynb`));
  }
  // VS Code's own debugger runs frame.py through the real debugpy adapter (the test-only
  // extension in test/debugpy-extension registers the `debugpy` type); the debuggee imports
  // tensorviews from this checkout.
  mkdirSync(join(workspace, '.vscode'));
  writeFileSync(
    join(workspace, '.vscode', 'launch.json'),
    JSON.stringify({
      version: '0.2.0',
      configurations: [
        {
          name: 'frame.py',
          type: 'debugpy',
          request: 'launch',
          program: join(workspace, 'frame.py'),
          cwd: workspace,
          console: 'internalConsole',
          python,
          env: { PYTHONPATH: REPO_ROOT },
          justMyCode: true,
        },
      ],
    }, null, 2),
  );
  const debugpyVsix = join(base, 'tensorviews-test-debugpy.vsix');
  execFileSync(
    join(CLIENT_ROOT, 'node_modules', '.bin', 'vsce'),
    ['package', '--no-dependencies', '--allow-missing-repository', '--skip-license', '-o', debugpyVsix],
    { cwd: join(CLIENT_ROOT, 'test', 'debugpy-extension'), stdio: 'pipe', timeout: 120000 },
  );
  kernel = new Kernel(
    spawn(python, [join(REPO_ROOT, 'tests', 'vscode', 'kernel_session.py'), '--runtime-dir', runtime, '--notebook', join(workspace, 'demo.ipynb')], {
      cwd: REPO_ROOT,
      env: { ...process.env, JUPYTER_RUNTIME_DIR: runtime },
    }),
  );
  const ready = await kernel.next(120000);
  assert.equal(ready.ready, true, kernel.stderr);
  vscode = await startCodeServer({
    vsix: join(CLIENT_ROOT, 'tensorviews.vsix'),
    extraVsix: [debugpyVsix],
    workspace,
    env: { JUPYTER_RUNTIME_DIR: runtime },
    settings: {
      'chat.disableAIFeatures': true,
      'tensorviews.pythonPath': python,
      'workbench.startupEditor': 'none',
      'workbench.tips.enabled': false,
      'workbench.enableExperiments': false,
      'extensions.autoCheckUpdates': false,
      'extensions.autoUpdate': false,
      'telemetry.telemetryLevel': 'off',
      'security.workspace.trust.enabled': false,
      'git.enabled': false,
      'editor.hover.delay': 200,
    },
  });
  page = vscode.page;
});

after(async () => {
  await vscode?.close();
  kernel?.close();
  if (base && !process.env.TENSORVIEWS_KEEP_E2E) rmSync(base, { recursive: true, force: true });
});

describe('Tensor Views in a real VS Code (code-server)', { timeout: 300000 }, () => {
  it('installs from the .vsix', () => {
    const version = JSON.parse(readFileSync(join(CLIENT_ROOT, 'package.json'), 'utf8')).version as string;
    assert.ok(vscode.listedExtensions.includes(`tensorviews.tensorviews@${version}`), vscode.listedExtensions.join(', '));
    const folder = join(vscode.extensionsDir, `tensorviews.tensorviews-${version}`);
    for (const file of ['extension.js', 'panel.js', 'panel.css', 'renderer.js']) assert.ok(existsSync(join(folder, 'dist', file)), file);
  });

  it('shows the swap diagnostic and the hover text from the language server', async () => {
    await openFile('swap.py');
    await page.locator('.monaco-editor .view-line', { hasText: 'b[0] = b[0]' }).first().waitFor();
    await page.locator('.monaco-editor [class*="squiggly-error"]').first().waitFor({ timeout: 60000 });
    const point = await wordCentre('a[0], b[0] = b[0], a[0]', 'b[0]');
    await page.mouse.move(point.x, point.y - 30);
    await page.mouse.move(point.x, point.y, { steps: 3 });
    const hover = page.locator('.monaco-hover:visible', { hasText: 'Python evaluates the whole right-hand side first' });
    await hover.first().waitFor({ timeout: 30000 });
    const text = (await hover.first().textContent()) ?? '';
    assert.match(text, /TV001/);
    assert.match(text, /a\[0\], b\[0\] = b\[0\], a\[0\]\.clone\(\)/);
    await shot('e2e-hover');
  });

  it('the Storage Graph panel draws the live kernel graph the server delivers, and follows it', async () => {
    await page.keyboard.press('Escape');
    await runCommand('Tensor Views: Show Storage Graph');
    const frame = panelFrame();
    await frame.locator('svg.tv-svg g.node.tv-tensor').first().waitFor({ timeout: 60000 });
    const texts = await frame.locator('svg text').allTextContents();
    for (const name of ['kernel_a', 'kernel_b', 'row_a', 'last_col']) assert.ok(texts.includes(name), `${name} in ${JSON.stringify(texts)}`);
    // The whole kernel id, as the snapshot file names it (this kernel, started without a
    // Jupyter connection file name, is `pid-<pid>`).
    const files = readdirSync(join(runtime, 'tensorviews')).filter((f) => /^kernel-.*\.json$/.test(f));
    assert.equal(files.length, 1, files.join(', '));
    const kernelId = JSON.parse(readFileSync(join(runtime, 'tensorviews', files[0]!), 'utf8')).kernelId as string;
    assert.equal(await frame.locator('.tv-caption').textContent(), `demo.ipynb (kernel ${kernelId})`);
    // The live view's insight: the 4 KiB column keeps 64 MiB of activations alive.
    const notes = await frame.locator('.tv-notes .tv-note').allTextContents();
    assert.ok(notes.some((n) => /^last_col \(4\.0 KiB\) keeps its storage \(64\.0 MiB\) alive/.test(n)), JSON.stringify(notes));
    assert.ok(notes.some((n) => /^storage of last_col \(64 MiB\): pinned by small views$/.test(n)), JSON.stringify(notes));
    assert.equal(await frame.locator('g.node.tv-storage.tv-mark-pinned').count(), 1);
    await shot('e2e-panel');

    await kernel.run('fresh = kernel_a.t()');
    await frame.locator('g.node.tv-tensor text', { hasText: /^fresh$/ }).waitFor({ timeout: 30000 });
    await frame.locator('g.node.tv-tensor:has(text:text-is("row_a"))').click();
    assert.match((await frame.locator('.tv-details').textContent()) ?? '', /shares elements with: kernel_a/);
    await shot('e2e-panel-pushed');
  });

  it('renders the saved %tensorgraph output with our notebook renderer', async () => {
    await openFile('demo.ipynb');
    // The notebook's outputs live in their own webview; our renderer's root is .tv-notebook.
    const output = await frameWith('.tv-notebook svg.tv-svg g.node.tv-tensor', 60000);
    const texts = await output.$$eval('.tv-notebook svg.tv-svg text', (nodes) => nodes.map((n) => n.textContent));
    // Every tensor of the output's own graph (what the kernel put in the notebook) is drawn.
    const notebook = JSON.parse(readFileSync(join(vscode.workspace, 'demo.ipynb'), 'utf8'));
    const graph = notebook.cells[2].outputs[0].data['application/vnd.tensorviews.graph+json'];
    const names: string[] = graph.tensors.map((t: { names: string[] }) => t.names[0]);
    assert.ok(names.includes('nb_a') && names.includes('row_a') && names.includes('last_col'));
    for (const name of names) assert.ok(texts.includes(name), `${name} in ${JSON.stringify(texts)}`);
    // The view's note, the same words as the kernel's own output, under the picture.
    const pinnedNote = (graph.notes as string[]).find((n) => n.includes('keeps its storage'));
    assert.ok(pinnedNote, JSON.stringify(graph.notes));
    const notes = await output.$$eval('.tv-notebook .tv-notes .tv-note', (nodes) => nodes.map((n) => n.textContent));
    assert.ok(notes.includes(pinnedNote), `${pinnedNote} in ${JSON.stringify(notes)}`);
    assert.equal(await output.locator('.tv-notebook g.node.tv-mark-pinned').count(), 1);
    const box = await output.$eval('.tv-notebook .tv-viewport', (v) => v.clientHeight);
    assert.ok(box > 0 && box <= 600, `the output's box is sized to the drawing, at most 600 px: ${box}`);
    await output.locator('.tv-notebook g.node.tv-tensor:has(text:text-is("row_a"))').click();
    assert.deepEqual(
      await output.$$eval('.tv-notebook g.tv-shares-elements text', (nodes) => nodes.map((n) => n.textContent).filter((t) => t === 'nb_a')),
      ['nb_a'],
    );
    await shot('e2e-notebook');
  });

  it("opens a folded group of a 12-layer encoder's saved --all output on click, and folds it back", async () => {
    await page.keyboard.press('Escape');
    await openFile('encoder.ipynb');
    const output = await frameWith('.tv-notebook svg.tv-svg g.node.tv-group', 60000);
    assert.equal(await output.locator('.tv-notebook g.node.tv-group').count(), 3);
    const params = output.locator('.tv-notebook g.node.tv-group', {
      has: output.locator('title', { hasText: /^parameters: 144 tensors\/arrays folded under model\.layers\.0\.\.11\.\*/ }),
    });
    const members = output.locator('.tv-notebook g.node.tv-member');
    assert.equal(await members.count(), 0);
    await params.click();
    await members.first().waitFor();
    assert.equal(await members.count(), 1, 'one box beside the folder');
    const texts = await members.locator('text').allTextContents();
    assert.deepEqual(texts.filter((t) => /^model\.layers\.\d+\.\*$/.test(t)), Array.from({ length: 12 }, (_, i) => `model.layers.${i}.*`), 'one cell per layer');
    assert.equal(texts.filter((t) => t === 'self_attn.in_proj_weight').length, 12);
    assert.equal(await params.getAttribute('aria-expanded'), 'true');
    const details = (await output.locator('.tv-notebook .tv-details').textContent()) ?? '';
    assert.match(details, /parameters: 144 tensors\/arrays folded under model\.layers\.0\.\.11\.\*/);
    assert.match(details, /\n {2}model\.layers\.0\.linear1\.weight\n/);
    await shot('e2e-group-expanded');
    // VS Code moves the output's webview to its new height a moment later.
    await page.waitForTimeout(1500);
    await params.click();
    await output.waitForFunction(() => document.querySelectorAll('.tv-notebook g.node.tv-member').length === 0);
    assert.equal(await params.getAttribute('aria-expanded'), 'false');
    // Enter on the focused folder opens it too.
    await params.focus();
    await page.keyboard.press('Enter');
    await members.first().waitFor();
    assert.equal(await members.count(), 1);
    // VS Code moves the focus out of an output whose height changed, a moment later; the view
    // does not take it back (it could take it from Quick Open): the folder is focused again.
    await page.waitForTimeout(1500);
    await params.focus();
    await page.keyboard.press('Enter');
    await output.waitForFunction(() => document.querySelectorAll('.tv-notebook g.node.tv-member').length === 0);
  });

  it('pictures for the docs: the showcase notebooks in VS Code', { skip: !IMAGES && 'TENSORVIEWS_CLIENT_IMAGES not set' }, async () => {
    mkdirSync(IMAGES!, { recursive: true });
    await page.keyboard.press('Escape');
    await runCommand('View: Close All Editors');
    await runCommand('View: Close Primary Side Bar');
    // Tall enough for a cell and its output (at most 600 px) to be on screen at once.
    await page.setViewportSize({ width: 1400, height: 1500 });
    for (const name of SHOWCASE) {
      await openFile(`${SHOWCASE_FILE[name]}.ipynb`);
      const output = await frameWithText('.tv-notebook .tv-summary', new RegExp(name === 'pinned' ? 'sharing memory$' : 'folded', ''), 60000);
      await output.locator('.tv-notebook svg.tv-svg').waitFor();
      await page.waitForTimeout(1500);
      // The %tensorgraph cell, its input and its output, across the editor's width.
      const picture = async (file: string): Promise<void> => {
        const editor = (await page.locator('.part.editor').boundingBox())!;
        const cell = (await page.locator('.notebook-editor .monaco-list-row', { hasText: '%tensorgraph' }).last().boundingBox())!;
        const drawn = (await output.locator('.tv-notebook').boundingBox())!;
        const bottom = Math.min(editor.y + editor.height, Math.max(cell.y + cell.height, drawn.y + drawn.height + 8));
        await page.screenshot({ path: join(IMAGES!, file), clip: { x: editor.x, y: cell.y, width: editor.width, height: bottom - cell.y } });
      };
      await picture(`vscode-${name}.png`);
      if (name === 'encoder') {
        await output.locator('.tv-notebook g.node.tv-group').first().click();
        await output.locator('.tv-notebook g.node.tv-member').first().waitFor();
        // A click on the background closes the details: the opened box is what the picture shows.
        await output.locator('.tv-notebook .tv-viewport').click({ position: { x: 4, y: 4 } });
        await page.waitForTimeout(500);
        await picture(`vscode-${name}-expanded.png`);
      }
      await runCommand('View: Close All Editors');
    }
    await page.setViewportSize({ width: 1400, height: 900 });
  });

  it('draws the paused frame of a real debugpy session: its locals, with the pinned-memory note', async () => {
    await page.keyboard.press('Escape');
    await openFile('frame.py');
    const breakpointLine = 'print(last_col.shape, row.shape)';
    await page.locator('.monaco-editor .view-line', { hasText: breakpointLine }).first().waitFor();
    const point = await wordCentre(breakpointLine, 'print');
    await page.mouse.click(point.x, point.y);
    await runCommand('Debug: Toggle Breakpoint');
    await page.locator('.monaco-editor .codicon-debug-breakpoint').first().waitFor({ timeout: 30000 });
    // "Select and Start Debugging" (the palette's `debug ` prefix) with the launch configuration.
    const input = await quickInput('F1');
    await input.fill('debug frame.py');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'frame.py' }).first().waitFor();
    await page.keyboard.press('Enter');
    // Paused at the breakpoint: the editor marks the top stack frame's line.
    await page.locator('.monaco-editor .codicon-debug-stackframe').first().waitFor({ timeout: 120000 }).catch(async (error: Error) => {
      await shot('e2e-debug-not-paused');
      throw new Error(`${error.message}\n${vscode.log().slice(-3000)}`);
    });
    await shot('e2e-debug-paused');

    await runCommand('Tensor Views: Show Storage Graph of Current Frame');
    const frame = await frameWithText('.tv-caption', /^debugger: frame\.py, frame \d+$/, 120000);
    await frame.locator('svg.tv-svg g.node.tv-tensor').first().waitFor({ timeout: 30000 });
    const texts = await frame.locator('svg.tv-svg text').allTextContents();
    for (const name of ['last_col', 'small', 'row']) assert.ok(texts.includes(name), `${name} in ${JSON.stringify(texts)}`);
    // What is in scope in that frame: debugpy evaluates `locals()` in the frame's globals
    // updated with its locals, so the module's global is drawn too, the caller's local is not.
    assert.ok(texts.includes('weights'), JSON.stringify(texts));
    assert.ok(!texts.includes('caller_only'), JSON.stringify(texts));
    const notes = await frame.locator('.tv-notes .tv-note').allTextContents();
    assert.ok(notes.some((n) => /^last_col \(4\.0 KiB\) keeps its storage \(64\.0 MiB\) alive/.test(n)), JSON.stringify(notes));
    assert.equal(await frame.locator('g.node.tv-storage.tv-mark-pinned').count(), 1);
    await frame.locator('g.node.tv-tensor:has(text:text-is("row"))').click();
    assert.match((await frame.locator('.tv-details').textContent()) ?? '', /shares elements with: small/);
    await shot('e2e-debug-frame-graph');
    await page.locator('.debug-toolbar .codicon-debug-stop').click();
    await page.locator('.monaco-editor .codicon-debug-stackframe').first().waitFor({ state: 'detached', timeout: 30000 });
    // Debugging left the language server alone: no failed restart, no error toast.
    assert.equal(await page.locator('.notifications-toasts .notification-toast', { hasText: 'Tensor Views' }).count(), 0);
  });

  it('says which pip command to run when the interpreter lacks the server', async () => {
    // A real Python that cannot see the project (isolated mode, no site-packages).
    const bare = join(base, 'bare python');
    writeFileSync(bare, '#!/bin/sh\nexec /usr/bin/env python3 -I -S "$@"\n');
    chmodSync(bare, 0o755);
    // Workspace settings (the setting is machine-overridable); then a restart picks them up
    // whether or not the configuration-change event already did.
    mkdirSync(join(vscode.workspace, '.vscode'), { recursive: true });
    writeFileSync(join(vscode.workspace, '.vscode', 'settings.json'), JSON.stringify({ 'tensorviews.pythonPath': bare }));
    await page.waitForTimeout(1500);
    await runCommand('Tensor Views: Restart Language Server');
    const toast = page.locator('.notifications-toasts .notification-toast', { hasText: 'cannot be imported' });
    await toast.first().waitFor({ timeout: 60000 }).catch(async (error: Error) => {
      await shot('e2e-missing-server-failed');
      throw error;
    });
    assert.ok(((await toast.first().textContent()) ?? '').includes(`"${bare}" -m pip install 'tensorviews[lsp]'`));
    await shot('e2e-missing-server');
  });
});
