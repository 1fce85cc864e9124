import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { checkServerImportable } from '../../src/host/serverCheck';
import { projectPython } from './fixtures';

describe('checkServerImportable', () => {
  it('passes for the project interpreter, which has the server', async () => {
    assert.deepEqual(await checkServerImportable(projectPython()), { ok: true });
  });

  it('names the pip command when the interpreter lacks the server', async () => {
    // A real interpreter that cannot see the project: isolated mode, empty path.
    const dir = mkdtempSync(join(tmpdir(), 'tv-python-'));
    const python = join(dir, 'bare python');
    writeFileSync(python, `#!/bin/sh\nexec /usr/bin/env python3 -I -S "$@"\n`);
    chmodSync(python, 0o755);
    const check = await checkServerImportable(python);
    assert.equal(check.ok, false);
    assert.ok(!check.ok && check.message.includes(`"${python}" -m pip install 'tensorviews[lsp]'`), !check.ok ? check.message : '');
    assert.ok(!check.ok && /ModuleNotFoundError/.test(check.detail));
  });

  it('says the interpreter is missing when it does not exist', async () => {
    const check = await checkServerImportable('/nonexistent/python3');
    assert.ok(!check.ok && /was not found/.test(check.message) && /tensorviews.pythonPath/.test(check.message));
  });
});
