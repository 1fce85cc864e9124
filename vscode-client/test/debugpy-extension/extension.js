// Test only: the `debugpy` debug type, driven by the real adapter (`python -m debugpy.adapter`)
// of the interpreter the launch configuration names (`python`), as the Python extension does.
'use strict';
const vscode = require('vscode');

function activate(context) {
  context.subscriptions.push(
    vscode.debug.registerDebugAdapterDescriptorFactory('debugpy', {
      createDebugAdapterDescriptor(session) {
        const python = session.configuration.python;
        const interpreter = typeof python === 'string' && python ? python : 'python3';
        return new vscode.DebugAdapterExecutable(interpreter, ['-m', 'debugpy.adapter']);
      },
    }),
  );
}

function deactivate() {}

module.exports = { activate, deactivate };
