// Compiles the extension's TypeScript (and the shared web package it imports as
// @tensorviews/web/*) into lib/, one ES module per entry; JupyterLab's packages stay imports,
// so `jupyter labextension build` shares them with the running JupyterLab (module federation).
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';

// Fresh output folders: jupyter-builder leaves the chunks of earlier builds in labextension/.
rmSync('lib', { recursive: true, force: true });
rmSync('labextension', { recursive: true, force: true });
await build({
  entryPoints: ['src/index.ts', 'src/mime.ts'],
  outdir: 'lib',
  bundle: true,
  // The panel and the MIME renderer share one chunk of drawing code (graphviz wasm included).
  splitting: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  external: ['@jupyterlab/*', '@lumino/*'],
  // The shared web package's bare imports (@viz-js/viz) resolve to this package's node_modules.
  nodePaths: [resolve('node_modules')],
  logLevel: 'warning',
});
