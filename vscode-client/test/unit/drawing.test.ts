import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { instance, type Viz } from '@viz-js/viz';
import { edgeEnds, edgeRef, markClasses, nodeRef } from '@tensorviews/web/drawing';
import { type StorageGraph, parseGraph } from '@tensorviews/web/model';
import { FIXTURE_NAMES, fixture } from './fixtures';

/** XML text as a browser decodes it. */
const decode = (s: string): string =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#(\d+);/g, (_, n: string) => String.fromCodePoint(Number(n)))
    .replace(/&#x([0-9a-f]+);/gi, (_, n: string) => String.fromCodePoint(parseInt(n, 16)))
    .replace(/&amp;/g, '&');

interface SvgItem {
  title: string;
  texts: string[];
}

/** The nodes and edges graphviz wrote for a document's dot: each one's <title> and texts. */
function drawn(viz: Viz, graph: StorageGraph): { nodes: SvgItem[]; edges: SvgItem[] } {
  const result = viz.render(graph.dot!, { format: 'svg' });
  assert.equal(result.status, 'success', JSON.stringify(result.errors));
  const svg = result.output!;
  const items = (kind: string): SvgItem[] =>
    Array.from(svg.matchAll(new RegExp(`<g id="${kind}\\d+" class="${kind}">\\s*<title>([^<]*)</title>([\\s\\S]*?)\\n</g>\\n`, 'g')), (m) => ({
      title: decode(m[1]!),
      texts: Array.from(m[2]!.matchAll(/<text[^>]*>([^<]*)<\/text>/g), (t) => decode(t[1]!)),
    }));
  return { nodes: items('node'), edges: items('edge') };
}

describe("the cores' drawing, mapped back to the document (graphviz wasm)", () => {
  let viz: Viz;
  before(async () => {
    viz = await instance();
  });

  it('every node of every fixture is a tensor, storage or group of its document, and each is drawn once', () => {
    for (const name of FIXTURE_NAMES) {
      const graph = parseGraph(fixture(name));
      const { nodes } = drawn(viz, graph);
      const refs = nodes.map((n) => nodeRef(graph, n.title));
      assert.ok(refs.every((r) => r !== null), `${name}: ${JSON.stringify(nodes.map((n) => n.title))}`);
      const ids = refs.map((r) => r!.id).sort();
      const expected = [...graph.tensors, ...graph.storages, ...graph.groups].map((x) => x.id).sort();
      assert.deepEqual(ids, expected, name);
    }
    const folded = parseGraph(fixture('folded'));
    assert.deepEqual(nodeRef(folded, 'g1'), { kind: 'group', id: 'g1' });
    assert.equal(nodeRef(folded, 'nope'), null);
  });

  it('tells storage links, view-of links and red overlap links apart', () => {
    const mixed = parseGraph(fixture('mixed'));
    const kinds = drawn(viz, mixed).edges.map((e) => edgeRef(mixed, e.title, e.texts));
    assert.equal(kinds.filter((k) => k.kind === 'storage').length, mixed.tensors.length);
    // Views that lie inside a whole tensor are expected and not linked in red: only the
    // partial overlap of head and tail is.
    const overlaps = kinds.filter((k) => k.kind === 'overlap');
    const head = mixed.tensors.find((t) => t.names[0] === 'head')!.id;
    const tail = mixed.tensors.find((t) => t.names[0] === 'tail')!.id;
    assert.deepEqual(overlaps, [{ kind: 'overlap', a: head, b: tail, index: mixed.overlaps.findIndex((e) => e.a === head && e.b === tail) }]);
    assert.ok(mixed.overlaps.length > 1, 'the document still lists the contained overlaps for highlighting');

    const swap = parseGraph(fixture('swap'));
    const swapKinds = drawn(viz, swap).edges.map((e) => edgeRef(swap, e.title, e.texts));
    const rowA = swap.tensors.find((t) => t.names[0] === 'row_a')!;
    assert.ok(swapKinds.some((k) => k.kind === 'base' && k.tensor === rowA.id && k.base === rowA.base));
    assert.ok(!swapKinds.some((k) => k.kind === 'other'), JSON.stringify(swapKinds));
  });

  it('reads edge titles as the DOM decodes them', () => {
    assert.deepEqual(edgeEnds('t0->s0'), ['t0', 's0']);
    assert.equal(edgeEnds('t0'), null);
    const swap = parseGraph(fixture('swap'));
    assert.deepEqual(edgeRef(swap, 't2->t0', ['view of']), { kind: 'base', tensor: 't2', base: 't0' });
    assert.deepEqual(edgeRef(swap, 't0->t2', ['overlap']), { kind: 'overlap', a: 't0', b: 't2', index: 0 });
    assert.deepEqual(edgeRef(swap, 'x->y'), { kind: 'other' });
  });

  it('gives marked nodes their classes', () => {
    const pinned = parseGraph(fixture('pinned'));
    assert.deepEqual(markClasses(pinned, 's0'), ['tv-marked', 'tv-mark-pinned']);
    assert.deepEqual(markClasses(pinned, 't0'), []);
    const odd = { ...pinned, marks: [{ id: 't0', why: '<script>' }] };
    assert.deepEqual(markClasses(odd, 't0'), ['tv-marked']);
  });

  it('draws hostile kernel names as exactly their own text, with no node or edge of their own', () => {
    const graph = parseGraph(fixture('hostile'));
    const { nodes, edges } = drawn(viz, graph);
    const texts = nodes.flatMap((n) => n.texts);
    for (const name of graph.tensors.flatMap((t) => t.names)) assert.ok(texts.includes(name), `${name} not in ${JSON.stringify(texts)}`);
    assert.equal(nodes.length, graph.tensors.length + graph.storages.length);
    assert.ok(edges.every((e) => edgeRef(graph, e.title, e.texts).kind !== 'other'), JSON.stringify(edges.map((e) => e.title)));
  });
});
