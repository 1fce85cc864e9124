/**
 * Checks that the chosen interpreter can import the language server before starting it, so the
 * user gets one clear message with the pip command instead of a crashed-server loop.
 * Node only (no vscode), so it is tested against a real Python.
 */

import { execFile } from 'node:child_process';

export const PIP_INSTALL_HINT = "pip install 'tensorviews[lsp]'";

export type ServerCheck = { ok: true } | { ok: false; message: string; detail: string };

export function checkServerImportable(python: string, timeoutMs = 20000): Promise<ServerCheck> {
  return new Promise((resolve) => {
    execFile(python, ['-c', 'import lsp_server.server'], { timeout: timeoutMs, windowsHide: true }, (error, _stdout, stderr) => {
      if (!error) {
        resolve({ ok: true });
        return;
      }
      const code = (error as NodeJS.ErrnoException).code;
      const missing = code === 'ENOENT';
      const detail = missing ? `${python}: not found` : String(stderr || error.message).trim();
      const message = missing
        ? `Tensor Views: the Python interpreter "${python}" was not found. Set "tensorviews.pythonPath" to a Python that has Tensor Views installed.`
        : `Tensor Views: the language server cannot be imported by "${python}". Install it there with: ${quoteForShell(python)} -m ${PIP_INSTALL_HINT}`;
      resolve({ ok: false, message, detail: detail.split('\n').slice(-3).join('\n') });
    });
  });
}

function quoteForShell(path: string): string {
  return /^[\w@%+=:,./-]+$/.test(path) ? path : `"${path.replace(/(["\\$`])/g, '\\$1')}"`;
}
