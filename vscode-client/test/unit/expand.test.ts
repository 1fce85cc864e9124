import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { instance, type Viz } from '@viz-js/viz';
import { nodeRef } from '@tensorviews/web/drawing';
import { expandedDot, memberChunks, memberNodeId, memberRef } from '@tensorviews/web/expand';
import { groupDetails } from '@tensorviews/web/format';
import { type StorageGraph, parseGraph } from '@tensorviews/web/model';
import { fixture } from './fixtures';

const decode = (s: string): string =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#(\d+);/g, (_, n: string) => String.fromCodePoint(Number(n)))
    .replace(/&#x([0-9a-f]+);/gi, (_, n: string) => String.fromCodePoint(parseInt(n, 16)))
    .replace(/&amp;/g, '&');

/** Each node graphviz drew: its title and its texts, as a browser decodes them. */
function nodes(viz: Viz, dot: string): { title: string; texts: string[] }[] {
  const result = viz.render(dot, { format: 'svg' });
  assert.equal(result.status, 'success', JSON.stringify(result.errors));
  return Array.from(result.output!.matchAll(/<g id="node\d+" class="node">\s*<title>([^<]*)<\/title>([\s\S]*?)\n<\/g>\n/g), (m) => ({
    title: decode(m[1]!),
    texts: Array.from(m[2]!.matchAll(/<text[^>]*>([^<]*)<\/text>/g), (t) => decode(t[1]!)),
  }));
}

describe('a folded group opened in place (graphviz wasm)', () => {
  let viz: Viz;
  let encoder: StorageGraph;
  before(async () => {
    viz = await instance();
    encoder = parseGraph(fixture('encoder'));
  });

  it('the 12-layer encoder folds into parameters, gradients and optimizer state, members listed', () => {
    assert.deepEqual(
      encoder.groups.map((g) => [g.label, g.category, g.count, g.members.length]),
      [
        ['model.layers.0..11.*', 'parameters', 144, 144],
        ['model.layers.0..11.*', 'gradients', 144, 144],
        ['opt.state[model.layers.0..11.*][*]', 'optimizer state', 432, 432],
      ],
    );
  });

  it('splits repeated structure by index: one node per layer, its tensors as rows', () => {
    const params = memberChunks(encoder.groups[0]!);
    assert.equal(params.length, 12);
    assert.equal(params[3]!.title, 'model.layers.3.*');
    assert.equal(params[3]!.members.length, 12);
    assert.ok(params[3]!.members.every((m) => m.startsWith('model.layers.3.')));
    assert.ok(params[3]!.rows.includes('linear1.weight'), params[3]!.rows.join(','));
    const state = memberChunks(encoder.groups[2]!);
    assert.equal(state.length, 12);
    assert.equal(state[11]!.title, 'opt.state[model.layers.11.*][*]');
    assert.ok(state[11]!.rows.includes("linear1.weight]['exp_avg']"), state[11]!.rows.join(','));
    // Every member is drawn once.
    assert.equal(state.reduce((n, c) => n + c.members.length, 0), 432);
  });

  it('draws the members beside the folder; folding back gives the cores\' drawing unchanged', () => {
    const dot = encoder.dot!;
    assert.equal(expandedDot(dot, encoder, new Set()), dot);
    const before = nodes(viz, dot);
    const opened = nodes(viz, expandedDot(dot, encoder, new Set(['g0'])));
    assert.equal(opened.length, before.length + 1, 'one box holds the members');
    // The cores' nodes are all still there, the folder included.
    for (const node of before) assert.ok(opened.some((n) => n.title === node.title), node.title);
    const box = opened.find((n) => n.title === memberNodeId('g0'))!;
    assert.equal(box.texts[0], 'model.layers.0..11.*: 144 tensors/arrays');
    // One cell per layer, in order, each with its tensors.
    assert.deepEqual(box.texts.filter((t) => /^model\.layers\.\d+\.\*$/.test(t)), Array.from({ length: 12 }, (_, i) => `model.layers.${i}.*`));
    assert.equal(box.texts.filter((t) => t === 'linear2.bias').length, 12);
    assert.equal(memberRef(encoder, memberNodeId('g0')), 'g0');
    assert.equal(memberRef(encoder, 'g9_open'), null, 'no such group');
    assert.equal(nodeRef(encoder, memberNodeId('g0')), null, 'the box is no document node');
  });

  it('the node cap\'s groups open in chunks of their members', () => {
    const folded = parseGraph(fixture('folded'));
    const group = folded.groups.find((g) => g.members.length > 0)!;
    const chunks = memberChunks(group);
    assert.deepEqual(chunks.flatMap((c) => c.members), group.members);
    const opened = nodes(viz, expandedDot(folded.dot!, folded, new Set([group.id])));
    const texts = opened.find((n) => n.title === memberNodeId(group.id))!.texts;
    for (const member of group.members) assert.ok(texts.includes(member), `${member} in ${JSON.stringify(texts)}`);
  });

  it('hostile member names stay text: same nodes, the names drawn exactly', () => {
    const hostile = [
      '<img src=x onerror=alert(1)>',
      'q"uote\\N\\G"];x->y[label="pwned',
      '&lt;b&gt;entity&amp;',
      "model.layers.1.x']\n}digraph{",
    ];
    const folded = parseGraph(fixture('folded'));
    const group = { ...folded.groups[0]!, label: 'model.layers.0..1.*', members: hostile };
    const graph = { ...folded, groups: [group, ...folded.groups.slice(1)] };
    const opened = nodes(viz, expandedDot(graph.dot!, graph, new Set([group.id])));
    const added = opened.filter((n) => memberRef(graph, n.title) !== null);
    const texts = added.flatMap((n) => n.texts);
    for (const name of hostile.slice(0, 3)) assert.ok(texts.includes(name), `${name} in ${JSON.stringify(texts)}`);
    assert.ok(!opened.some((n) => n.title === 'x' || n.title === 'y'), 'no node made from a name');
    assert.equal(opened.length, nodes(viz, graph.dot!).length + added.length);
  });

  it('the details list what a group holds: kind, counts, bytes, every member', () => {
    const lines = groupDetails(encoder.groups[0]!, false);
    assert.equal(lines[0], 'parameters: 144 tensors/arrays folded under model.layers.0..11.*');
    assert.ok(lines.some((l) => /^ {2}model\.layers\.\*\.linear1\.weight ×12 · /.test(l)), lines.join('\n'));
    assert.ok(lines.includes('folded: click (or Enter) to draw its members'));
    assert.ok(lines.includes('  model.layers.11.norm2.bias'));
    assert.ok(groupDetails(encoder.groups[0]!, true).includes('expanded: click the folder (or Enter) to fold it back'));
    assert.ok(!groupDetails(encoder.groups[0]!, false, false).includes('  model.layers.11.norm2.bias'), 'tooltips do not list members');
  });
});
