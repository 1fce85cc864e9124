// Bundles the extension host code (Node, CommonJS), the panel's webview script (browser IIFE
// + CSS), the notebook renderer (browser ES module, CSS inlined as text) and the tests.
import { build } from 'esbuild';
import { readdirSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';

// Stale bundles of deleted tests would still run: start from empty output folders.
rmSync('out', { recursive: true, force: true });
rmSync('dist', { recursive: true, force: true });

const production = process.argv.includes('--production');
// The shared drawing code lives in ../web (imported as @tensorviews/web/*, tsconfig paths); its
// bare imports (@viz-js/viz) resolve to this client's node_modules.
const common = { nodePaths: [resolve('node_modules')], bundle: true, sourcemap: !production, minify: production, logLevel: 'warning', target: 'es2022' };

const tests = (dir) =>
  readdirSync(`test/${dir}`)
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => `test/${dir}/${f}`);

await Promise.all([
  build({ ...common, entryPoints: ['src/extension.ts'], outfile: 'dist/extension.js', platform: 'node', format: 'cjs', external: ['vscode'] }),
  build({ ...common, entryPoints: ['src/webview/panel.ts'], outfile: 'dist/panel.js', platform: 'browser', format: 'iife' }),
  build({ ...common, entryPoints: ['src/webview/renderer.ts'], outfile: 'dist/renderer.js', platform: 'browser', format: 'esm', loader: { '.css': 'text' } }),
  build({ ...common, entryPoints: [...tests('unit'), ...tests('browser'), ...tests('e2e')], outdir: 'out/test', outbase: 'test', platform: 'node', format: 'cjs', packages: 'external', sourcemap: true, minify: false }),
]);
