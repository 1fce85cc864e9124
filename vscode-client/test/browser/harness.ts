/**
 * A browser rig for the webview code: a local HTTP server serving the real bundles from dist/
 * under the same strict CSP the extension uses, and headless Debian Chromium via playwright-core.
 */

import { randomBytes } from 'node:crypto';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { makeNonce, panelHtml } from '../../src/graph/webviewHtml';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css', '.html': 'text/html' };

export interface Rig {
  origin: string;
  context: BrowserContext;
  newPage(path: 'panel.html' | 'renderer.html'): Promise<Page>;
  close(): Promise<void>;
}

function rendererHtml(origin: string, nonce: string): string {
  // Notebook output webviews allow inline styles (our renderer injects a <style>); scripts
  // still only by nonce, and no eval beyond WebAssembly compilation.
  const csp = `default-src 'none'; script-src 'nonce-${nonce}' 'wasm-unsafe-eval' ${origin}; style-src 'unsafe-inline'`;
  return `<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="${csp}"></head>
<body><div id="output"></div>
<script type="module" nonce="${nonce}">
import { activate } from '${origin}/dist/renderer.js';
window.renderer = activate({});
window.rendererReady = true;
</script></body></html>`;
}

export async function startRig(distDir: string): Promise<Rig> {
  let origin = '';
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', origin);
    const nonce = makeNonce((n) => randomBytes(n));
    if (url.pathname === '/panel.html') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(panelHtml({ cspSource: origin, nonce, scriptUri: `${origin}/dist/panel.js`, styleUri: `${origin}/dist/panel.css` }));
      return;
    }
    if (url.pathname === '/renderer.html') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(rendererHtml(origin, nonce));
      return;
    }
    const file = normalize(url.pathname).replace(/^\/dist\//, '');
    if (url.pathname.startsWith('/dist/') && !file.includes('..')) {
      try {
        const body = readFileSync(join(distDir, file));
        res.writeHead(200, { 'content-type': TYPES[file.slice(file.lastIndexOf('.'))] ?? 'application/octet-stream' });
        res.end(body);
        return;
      } catch {
        // fall through to 404
      }
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const profile = mkdtempSync(join(tmpdir(), 'tv-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1000, height: 700 },
    timeout: 60000,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  context.setDefaultTimeout(10000);
  await context.addInitScript(() => {
    const w = window as unknown as Record<string, unknown>;
    w.__posted = [];
    w.__cspViolations = [];
    w.__dialogs = 0;
    document.addEventListener('securitypolicyviolation', (e) => (w.__cspViolations as string[]).push(`${e.violatedDirective} ${e.blockedURI}`));
    w.alert = () => {
      (w.__dialogs as number) += 1;
    };
    w.acquireVsCodeApi = () => ({
      postMessage: (m: unknown) => (w.__posted as unknown[]).push(m),
      getState: () => undefined,
      setState: () => undefined,
    });
  });
  return {
    origin,
    context,
    async newPage(path) {
      const page = await context.newPage();
      page.on('dialog', (dialog) => {
        void page.evaluate(() => ((window as unknown as { __dialogs: number }).__dialogs += 1));
        void dialog.dismiss();
      });
      await page.goto(`${origin}/${path}`);
      return page;
    },
    async close() {
      await context.close();
      await new Promise((resolve) => server.close(resolve));
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
