/** Loading of the graph fixtures: real view documents, written by tests/vscode/make_fixtures.py. */

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

// Tests run from vscode-client/ (npm scripts); the repository root is one level up.
export const CLIENT_ROOT = resolve(process.cwd());
export const REPO_ROOT = resolve(CLIENT_ROOT, '..');

export type FixtureName = 'swap' | 'mixed' | 'hostile' | 'pinned' | 'folded' | 'tall' | 'encoder';
export const FIXTURE_NAMES: readonly FixtureName[] = ['swap', 'mixed', 'hostile', 'pinned', 'folded', 'tall', 'encoder'];

export function fixtureText(name: FixtureName): string {
  return readFileSync(join(CLIENT_ROOT, 'test', 'fixtures', `${name}.json`), 'utf8');
}

export function fixture(name: FixtureName): unknown {
  return JSON.parse(fixtureText(name));
}

/** The repository's Python (with torch, kernel_ext, lsp_server): $TENSORVIEWS_PYTHON or .venv. */
export function projectPython(): string {
  const fromEnv = process.env.TENSORVIEWS_PYTHON;
  if (fromEnv) return fromEnv;
  const venv = join(REPO_ROOT, '.venv', 'bin', 'python');
  if (existsSync(venv)) return venv;
  throw new Error('no project Python: run scripts/setup.sh or set TENSORVIEWS_PYTHON');
}

/** Runs Python code with the repository on sys.path (unless `flags` isolate it); returns stdout. */
export function runPython(code: string, input?: string, flags: string[] = []): string {
  return execFileSync(projectPython(), [...flags, '-c', code], { cwd: REPO_ROOT, input, encoding: 'utf8', timeout: 60000 });
}
