import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { instance, type Viz } from '@viz-js/viz';
import { dotLabel, dotId, escapeDotText } from '../../src/graph/dotEscape';
import { parseGraph } from '../../src/graph/model';
import { graphToDot } from '../../src/graph/toDot';
import { fixture } from './fixtures';

/** Text of every <text> element of an SVG, XML entities decoded (what a browser would show). */
function svgTexts(svg: string): string[] {
  const decode = (s: string): string =>
    s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#(\d+);/g, (_, n: string) => String.fromCodePoint(Number(n))).replace(/&#x([0-9a-f]+);/gi, (_, n: string) => String.fromCodePoint(parseInt(n, 16))).replace(/&amp;/g, '&');
  return Array.from(svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g), (m) => decode(m[1]!));
}

describe('DOT escaping', () => {
  it('escapes backslash, quote and ampersand, and keeps line breaks ours', () => {
    assert.equal(escapeDotText('a"b'), 'a\\"b');
    assert.equal(escapeDotText('\\N'), '\\\\N');
    assert.equal(escapeDotText('&lt;'), '&amp;lt;');
    assert.equal(escapeDotText('x\ny'), 'x\\\\ny');
    assert.equal(escapeDotText('bell\u0007'), 'bell\\\\x07');
    assert.equal(dotLabel(['one', 'two']), '"one\\ntwo"');
  });

  it('refuses generated ids that are not plain identifiers', () => {
    assert.equal(dotId('t12'), 't12');
    assert.throws(() => dotId('t0"; evil'));
  });
});

describe('graphToDot rendered by graphviz (wasm)', () => {
  let viz: Viz;
  before(async () => {
    viz = await instance();
  });

  it('draws hostile kernel names as exactly their own text', () => {
    const graph = parseGraph(fixture('hostile'));
    const { dot } = graphToDot(graph);
    const result = viz.render(dot, { format: 'svg' });
    assert.equal(result.status, 'success', JSON.stringify(result.errors));
    const texts = svgTexts(result.output!);
    for (const name of graph.tensors.flatMap((t) => t.names)) assert.ok(texts.includes(name), `${name} not in ${JSON.stringify(texts)}`);
    // The injected DOT did not create nodes or edges of its own.
    assert.doesNotMatch(result.output!, /<g id="(x|y)"/);
    assert.doesNotMatch(result.output!, /<img/);
    assert.equal((result.output!.match(/class="node[ "]/g) ?? []).length, graph.tensors.length + graph.storages.length);
  });

  it('puts each device in its own cluster with its storages and views', () => {
    const graph = parseGraph(fixture('mixed'));
    const { dot, tensorDotId, storageDotId } = graphToDot(graph);
    const svg = viz.renderString(dot, { format: 'svg' }).replace(/&#45;/g, '-');
    const clusters = Array.from(svg.matchAll(/<g id="(cluster_d\d+)" class="cluster[^"]*">\s*<title>[^<]*<\/title>[\s\S]*?<text[^>]*>([^<]*)<\/text>/g), (m) => [m[1], m[2]]);
    assert.deepEqual(clusters, [['cluster_d0', 'cpu'], ['cluster_d1', 'meta']]);
    const meta = dot.slice(dot.indexOf('subgraph cluster_d1'));
    assert.ok(meta.includes(`${storageDotId.get('s3')} [`) && meta.includes(`${tensorDotId.get('t7')} [`));
    const texts = svgTexts(svg);
    assert.ok(texts.includes('storage 48 B'), JSON.stringify(texts));
    assert.ok(texts.includes('torch float32 (4, 3)'));
    assert.ok(texts.includes('stride (1, 4) offset 0'));
    assert.ok(texts.includes('numpy float32 (3, 4)'));
  });

  it('draws one red edge per overlap, marks overlapping views, links views to storages', () => {
    const graph = parseGraph(fixture('swap'));
    const { dot, overlapEdgeIds, nodes } = graphToDot(graph);
    // graphviz writes '-' in attribute values as &#45;, which the DOM decodes.
    const svg = viz.renderString(dot, { format: 'svg' }).replace(/&#45;/g, '-');
    assert.deepEqual(overlapEdgeIds, ['o0', 'o1', 'o2']);
    for (const id of overlapEdgeIds) assert.match(svg, new RegExp(`<g id="${id}" class="edge tv-overlap-edge">`));
    assert.equal((svg.match(/class="edge tv-storage-edge"/g) ?? []).length, graph.tensors.length);
    assert.equal((svg.match(/class="node tv-tensor tv-overlapping"/g) ?? []).length, 5);
    assert.deepEqual(nodes.get('t2'), { kind: 'tensor', id: 't2' });
    assert.deepEqual(nodes.get('s1'), { kind: 'storage', id: 's1' });
  });

  it('says so when there is nothing to draw', () => {
    const { dot } = graphToDot(parseGraph({ schema: 'tensorviews.graph/1' }));
    assert.ok(svgTexts(viz.renderString(dot, { format: 'svg' })).includes('no tensors or arrays in this namespace'));
  });
});
