/**
 * Which Python runs the language server: the `tensorviews.pythonPath` setting, else the Python
 * extension's selected interpreter (through its public API), else `python3`.
 */

import * as vscode from 'vscode';

interface PythonExtensionApi {
  environments?: {
    getActiveEnvironmentPath(resource?: vscode.Uri): { path: string } | undefined;
    resolveEnvironment?(env: { path: string }): Promise<{ executable: { uri?: vscode.Uri } } | undefined>;
  };
  settings?: {
    getExecutionDetails(resource?: vscode.Uri): { execCommand: string[] | undefined };
  };
}

export const FALLBACK_PYTHON = 'python3';

async function fromPythonExtension(resource?: vscode.Uri): Promise<string | undefined> {
  const extension = vscode.extensions.getExtension<PythonExtensionApi>('ms-python.python');
  if (!extension) return undefined;
  try {
    const api = extension.isActive ? extension.exports : await extension.activate();
    const active = api.environments?.getActiveEnvironmentPath(resource);
    if (active) {
      const resolved = await api.environments?.resolveEnvironment?.(active);
      return resolved?.executable.uri?.fsPath ?? active.path;
    }
    return api.settings?.getExecutionDetails(resource).execCommand?.[0];
  } catch {
    return undefined; // an old or broken Python extension: fall back rather than fail
  }
}

export async function resolvePythonPath(resource?: vscode.Uri): Promise<{ python: string; origin: string }> {
  const configured = vscode.workspace.getConfiguration('tensorviews', resource).get<string>('pythonPath', '').trim();
  if (configured) return { python: configured, origin: 'setting tensorviews.pythonPath' };
  const fromExtension = await fromPythonExtension(resource);
  if (fromExtension) return { python: fromExtension, origin: 'Python extension' };
  return { python: FALLBACK_PYTHON, origin: 'default' };
}

/** Fires when the Python extension's interpreter changes, if the extension is there. */
export function onPythonInterpreterChanged(listener: () => void): vscode.Disposable | undefined {
  const extension = vscode.extensions.getExtension<{
    environments?: { onDidChangeActiveEnvironmentPath?: vscode.Event<unknown> };
  }>('ms-python.python');
  return extension?.isActive ? extension.exports.environments?.onDidChangeActiveEnvironmentPath?.(listener) : undefined;
}
