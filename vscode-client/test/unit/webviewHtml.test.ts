import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { contentSecurityPolicy, makeNonce, panelHtml } from '../../src/graph/webviewHtml';

describe('panel HTML', () => {
  const nonce = makeNonce((n) => randomBytes(n));
  const html = panelHtml({ cspSource: 'https://res.vscode-cdn.net', nonce, scriptUri: 'https://res.vscode-cdn.net/x/panel.js', styleUri: 'https://res.vscode-cdn.net/x/panel.css' });

  it('has a strict Content-Security-Policy: nonce scripts, wasm, nothing remote', () => {
    const csp = contentSecurityPolicy('https://res.vscode-cdn.net', nonce);
    assert.ok(html.includes(`content="${csp.replace(/'/g, "'")}"`));
    assert.match(csp, /^default-src 'none';/);
    assert.ok(csp.includes(`script-src 'nonce-${nonce}' 'wasm-unsafe-eval'`));
    assert.doesNotMatch(csp, /unsafe-inline|'unsafe-eval'|\*|https?:(?!\/\/res\.vscode-cdn\.net)/);
  });

  it('loads exactly one script, by nonce, and fresh nonces differ', () => {
    assert.equal((html.match(/<script/g) ?? []).length, 1);
    assert.ok(html.includes(`<script nonce="${nonce}" src="https://res.vscode-cdn.net/x/panel.js">`));
    assert.notEqual(nonce, makeNonce((n) => randomBytes(n)));
    assert.throws(() => panelHtml({ cspSource: 'x', nonce: '"><script>', scriptUri: '', styleUri: '' }));
  });
});
