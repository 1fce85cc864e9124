/**
 * A throwaway code-server (VS Code in a browser, from npm; see scripts/setup-vscode.sh) with
 * every directory it writes inside one temp folder, the packaged .vsix installed, and headless
 * Chromium attached through playwright-core.
 */

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CODE_SERVER_VERSION = '4.100.3';

export function codeServerBin(): string {
  const cache = process.env.TENSORVIEWS_CACHE ?? join(homedir(), '.cache', 'tensorviews');
  const bin = join(cache, `code-server-${CODE_SERVER_VERSION}`, 'node_modules', '.bin', 'code-server');
  if (!existsSync(bin)) throw new Error(`code-server not installed at ${bin}: run scripts/setup-vscode.sh`);
  return bin;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env, timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${cmd} ${args.join(' ')} failed: ${error.message}\n${stderr}`));
      else resolve(stdout + stderr);
    });
  });
}

export interface CodeServer {
  url: string;
  workspace: string;
  root: string;
  extensionsDir: string;
  userDataDir: string;
  /** `code-server --list-extensions --show-versions` after installing the .vsix. */
  listedExtensions: string[];
  context: BrowserContext;
  page: Page;
  log(): string;
  close(): Promise<void>;
}

export async function startCodeServer(options: {
  vsix: string;
  /** More .vsix files to install before it (test-only helpers such as the debugpy type). */
  extraVsix?: string[];
  settings: Record<string, unknown>;
  env: Record<string, string>;
  /** The folder to open (already populated by the caller). */
  workspace: string;
}): Promise<CodeServer> {
  const root = mkdtempSync(join(tmpdir(), 'tv-code-server-'));
  const dirs = Object.fromEntries(
    ['user-data', 'extensions', 'xdg-config', 'xdg-data', 'xdg-cache', 'tmp', 'chromium'].map((d) => {
      mkdirSync(join(root, d), { recursive: true });
      return [d, join(root, d)];
    }),
  ) as Record<string, string>;
  // code-server is a remote setup: settings scoped to the machine (tensorviews.pythonPath is
  // machine-overridable) count only in the remote's Machine settings; VS Code drops them from
  // the User settings once its configuration is fully loaded (e.g. when a debug session starts).
  for (const scope of ['User', 'Machine']) {
    mkdirSync(join(dirs['user-data']!, scope), { recursive: true });
    writeFileSync(join(dirs['user-data']!, scope, 'settings.json'), JSON.stringify(options.settings, null, 2));
  }
  const config = join(root, 'config.yaml');
  writeFileSync(config, 'auth: none\n');
  dirs.workspace = options.workspace;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...options.env,
    XDG_CONFIG_HOME: dirs['xdg-config'],
    XDG_DATA_HOME: dirs['xdg-data'],
    XDG_CACHE_HOME: dirs['xdg-cache'],
    TMPDIR: dirs.tmp,
  };
  const bin = codeServerBin();
  const common = ['--user-data-dir', dirs['user-data']!, '--extensions-dir', dirs.extensions!, '--config', config];
  for (const vsix of [...(options.extraVsix ?? []), options.vsix]) {
    await run(bin, [...common, '--install-extension', vsix], env, 60000);
  }
  const installed = readdirSync(dirs.extensions!).filter((d) => d.startsWith('tensorviews.tensorviews-'));
  if (installed.length !== 1) throw new Error(`the .vsix did not install: ${readdirSync(dirs.extensions!)}`);
  const listed = (await run(bin, [...common, '--list-extensions', '--show-versions'], env, 60000)).split('\n').map((l) => l.trim()).filter(Boolean);

  const port = await freePort();
  let output = '';
  const child: ChildProcess = spawn(
    bin,
    ['--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', ...common, dirs.workspace!],
    { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60000;
  for (;;) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`code-server did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 300));
  }
  const context = await chromium.launchPersistentContext(dirs.chromium!, {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1400, height: 900 },
    timeout: 60000,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  context.setDefaultTimeout(30000);
  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto(`${url}/?folder=${encodeURIComponent(dirs.workspace!)}`);
  await page.waitForSelector('.monaco-workbench', { timeout: 60000 });
  return {
    url,
    workspace: dirs.workspace!,
    root,
    extensionsDir: dirs.extensions!,
    userDataDir: dirs['user-data']!,
    listedExtensions: listed,
    context,
    page,
    log: () => output,
    async close() {
      await context.close().catch(() => undefined);
      // code-server runs its server and extension host as children: end the whole group.
      if (child.pid !== undefined && child.exitCode === null) {
        try {
          process.kill(-child.pid, 'SIGTERM');
        } catch {
          // already gone
        }
        await new Promise((r) => setTimeout(r, 500));
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      if (!process.env.TENSORVIEWS_KEEP_E2E) rmSync(root, { recursive: true, force: true });
    },
  };
}
