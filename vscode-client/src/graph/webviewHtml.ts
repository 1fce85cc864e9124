/**
 * The Storage Graph panel's HTML with its Content-Security-Policy: nothing loads but our own
 * bundled script (by nonce) and stylesheet from the extension (`cspSource`); WebAssembly is
 * allowed to compile (`'wasm-unsafe-eval'`) because graphviz runs as wasm; no eval otherwise.
 */

export interface PanelHtmlOptions {
  cspSource: string;
  nonce: string;
  scriptUri: string;
  styleUri: string;
}

function attr(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}' 'wasm-unsafe-eval'`,
    `style-src ${cspSource}`,
    `img-src ${cspSource} data:`,
    `font-src ${cspSource}`,
  ].join('; ');
}

export function panelHtml(options: PanelHtmlOptions): string {
  if (!/^[A-Za-z0-9+/=]+$/.test(options.nonce)) throw new Error('nonce must be base64');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${attr(contentSecurityPolicy(options.cspSource, options.nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${attr(options.styleUri)}">
<title>Storage Graph</title>
</head>
<body>
<div id="tensorviews-root" class="tv-root"></div>
<script nonce="${options.nonce}" src="${attr(options.scriptUri)}"></script>
</body>
</html>`;
}

/** A fresh nonce (base64 of 16 random bytes). */
export function makeNonce(random: (n: number) => Uint8Array): string {
  return Buffer.from(random(16)).toString('base64');
}
