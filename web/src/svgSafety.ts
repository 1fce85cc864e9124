/**
 * The SVG graphviz drew from a document's `dot` keeps only what a drawing needs. The cores
 * escape every name they put into the DOT, but the DOT arrives from outside (a kernel, a saved
 * notebook, a paused program), so the webview does not rely on that: elements other than
 * shapes and text, event handler attributes, links and inline styles are removed before the
 * SVG is shown.
 */

const ALLOWED_ELEMENTS = new Set([
  'svg', 'g', 'title', 'polygon', 'polyline', 'path', 'ellipse', 'circle', 'rect', 'line', 'text', 'tspan', 'a',
  'defs', 'lineargradient', 'radialgradient', 'stop',
]);

const DROPPED_ATTRIBUTES = new Set(['href', 'xlink:href', 'style', 'target', 'xlink:title', 'title', 'src']);

export function sanitizeSvg(svg: SVGSVGElement): void {
  for (const element of [svg, ...Array.from(svg.querySelectorAll('*'))]) {
    if (!ALLOWED_ELEMENTS.has(element.localName.toLowerCase())) {
      element.remove();
      continue;
    }
    for (const attribute of Array.from(element.attributes)) {
      const name = attribute.name.toLowerCase();
      if (name.startsWith('on') || DROPPED_ATTRIBUTES.has(name) || attribute.localName === 'href') {
        element.removeAttributeNode(attribute);
      }
    }
  }
}
