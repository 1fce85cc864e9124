/**
 * `vsce package` from a clean copy: the checkout's files (git's view: tracked and not ignored,
 * so no dist/, out/ or .vsix), with node_modules as `npm ci` leaves them. vsce must build the
 * bundles itself (`vscode:prepublish`) and pack them.
 */

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CLIENT_ROOT, REPO_ROOT, projectPython } from '../unit/fixtures';

const copyRoot = mkdtempSync(join(tmpdir(), 'tv-clean-copy-'));

after(() => rmSync(copyRoot, { recursive: true, force: true }));

describe('packaging', { timeout: 240000 }, () => {
  it('vsce package from a clean copy builds the bundles and packs them', () => {
    const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: REPO_ROOT, encoding: 'utf8' })
      .split('\0')
      .filter((f) => f && existsSync(join(REPO_ROOT, f)));
    for (const file of files) {
      mkdirSync(dirname(join(copyRoot, file)), { recursive: true });
      cpSync(join(REPO_ROOT, file), join(copyRoot, file));
    }
    const client = join(copyRoot, 'vscode-client');
    assert.ok(existsSync(join(client, 'package.json')));
    for (const built of ['dist', 'out', 'tensorviews.vsix']) assert.ok(!existsSync(join(client, built)), `${built} is not in a clean copy`);
    symlinkSync(join(CLIENT_ROOT, 'node_modules'), join(client, 'node_modules'), 'dir');

    const vsix = join(copyRoot, 'clean.vsix');
    execFileSync(
      join(client, 'node_modules', '.bin', 'vsce'),
      ['package', '--no-dependencies', '--allow-missing-repository', '--skip-license', '-o', vsix],
      { cwd: client, stdio: 'pipe', timeout: 200000 },
    );
    const listing = execFileSync(
      projectPython(),
      ['-c', 'import sys, zipfile; print("\\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))', vsix],
      { encoding: 'utf8' },
    ).split('\n');
    for (const file of ['extension.js', 'panel.js', 'panel.css', 'renderer.js']) {
      assert.ok(listing.includes(`extension/dist/${file}`), `${file} in ${JSON.stringify(listing)}`);
    }
    assert.ok(listing.includes('extension/package.json'));
    // Only what the extension runs: no sources, tests or node_modules.
    assert.deepEqual(listing.filter((f) => /^extension\/(src|test|node_modules|out)\//.test(f)), []);
  });
});
