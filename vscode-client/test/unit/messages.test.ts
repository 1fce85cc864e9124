import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GraphFeed } from '../../src/graph/feed';
import { isWebviewMessage, kernelSourceLabel, parseHostMessage, parseKernelGraphParams } from '../../src/graph/messages';
import { GraphFormatError } from '@tensorviews/web/model';
import { fixture } from './fixtures';

const params = (uri: string | null, path: string | null, name: 'swap' | 'mixed' = 'swap') =>
  parseKernelGraphParams({ uri, kernelId: 'abcdef0123456789', notebookPath: path, graph: fixture(name) })!;

describe('webview messages', () => {
  it('accepts only the messages the webview sends', () => {
    assert.ok(isWebviewMessage({ type: 'ready' }));
    assert.ok(isWebviewMessage({ type: 'selected', tensor: 't1' }));
    assert.ok(isWebviewMessage({ type: 'selected', tensor: null }));
    for (const bad of [null, 'ready', { type: 'run', code: 'x' }, { type: 'selected', tensor: 3 }]) assert.ok(!isWebviewMessage(bad));
  });

  it('re-checks graphs on the webview side', () => {
    const message = parseHostMessage({ type: 'graph', graph: fixture('swap'), source: { kind: 'debug', label: 'frame 3' } });
    assert.equal(message?.type, 'graph');
    assert.deepEqual(message?.type === 'graph' && message.source, { kind: 'debug', label: 'frame 3' });
    assert.throws(() => parseHostMessage({ type: 'graph', graph: { schema: 'x' } }), GraphFormatError);
    assert.deepEqual(parseHostMessage({ type: 'error', message: 42 }), { type: 'error', message: 'unknown error' });
    assert.equal(parseHostMessage({ type: 'exec' }), null);
  });
});

describe('tensorviews/graph notifications', () => {
  it('parses the notification params and labels the source', () => {
    const p = params('file:///w/demo.ipynb', '/w/demo.ipynb');
    assert.equal(p.graph.tensors.length, 5);
    assert.equal(kernelSourceLabel(p), 'demo.ipynb (kernel abcdef0123456789)');
    assert.equal(kernelSourceLabel({ ...p, notebookPath: null, uri: null }), 'a kernel (kernel abcdef0123456789)');
    // Kernels without a connection file are named by pid: the whole id is shown.
    assert.equal(kernelSourceLabel({ ...p, kernelId: 'pid-29663' }), 'demo.ipynb (kernel pid-29663)');
    assert.equal(parseKernelGraphParams(null), null);
    assert.equal(parseKernelGraphParams({ uri: null, graph: null }), null);
  });

  it('the feed picks the active notebook by URI or path, else the latest graph', () => {
    const feed = new GraphFeed();
    assert.equal(feed.pick(null), null);
    const first = params('file:///w/one.ipynb', '/w/one.ipynb');
    const second = params(null, 'sub/two.ipynb', 'mixed');
    feed.update(first);
    feed.update(second);
    assert.equal(feed.pick(null), second);
    assert.equal(feed.pick({ uri: 'file:///w/one.ipynb', path: '/w/one.ipynb' }), first);
    assert.equal(feed.pick({ uri: 'file:///root/w/sub/two.ipynb', path: '/root/w/sub/two.ipynb' }), second);
    assert.equal(feed.pick({ uri: 'untitled:x', path: null }), second);
    assert.ok(feed.isRelevant(first, { uri: 'file:///w/one.ipynb', path: '/w/one.ipynb' }));
    assert.ok(!feed.isRelevant(second, { uri: 'file:///w/one.ipynb', path: '/w/one.ipynb' }));
    const newer = params('file:///w/one.ipynb', '/w/one.ipynb', 'mixed');
    feed.update(newer);
    assert.equal(feed.pick({ uri: 'file:///w/one.ipynb', path: null }), newer);
  });
});
