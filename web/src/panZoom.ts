/**
 * Pan (drag) and zoom (wheel, around the pointer) of a canvas inside a viewport, with CSS
 * transforms set through the CSSOM, which the webview's Content-Security-Policy allows.
 */

const MIN_SCALE = 0.05;
const MAX_SCALE = 8;
/** Pointer travel (px) beyond which a press is a drag, not a click. */
const DRAG_THRESHOLD = 4;

export class PanZoom {
  private x = 0;
  private y = 0;
  private k = 1;
  private drag: { startX: number; startY: number; x: number; y: number; moved: boolean } | null = null;
  private suppressClick = false;
  private moved = false;

  constructor(
    private readonly viewport: HTMLElement,
    private readonly canvas: HTMLElement,
    wheelZoom: 'always' | 'modifier',
  ) {
    canvas.style.transformOrigin = '0 0';
    viewport.addEventListener(
      'wheel',
      (event) => {
        if (wheelZoom === 'modifier' && !event.ctrlKey && !event.metaKey) return;
        event.preventDefault();
        const rect = viewport.getBoundingClientRect();
        this.zoomAt(event.clientX - rect.left, event.clientY - rect.top, Math.exp(-event.deltaY * 0.0015));
        this.moved = true;
      },
      { passive: false },
    );
    viewport.addEventListener('pointerdown', (event) => {
      if (event.button !== 0) return;
      this.drag = { startX: event.clientX, startY: event.clientY, x: this.x, y: this.y, moved: false };
    });
    viewport.addEventListener('pointermove', (event) => {
      const drag = this.drag;
      if (!drag) return;
      const dx = event.clientX - drag.startX;
      const dy = event.clientY - drag.startY;
      if (!drag.moved && Math.hypot(dx, dy) < DRAG_THRESHOLD) return;
      if (!drag.moved) viewport.setPointerCapture?.(event.pointerId);
      drag.moved = true;
      this.moved = true;
      this.x = drag.x + dx;
      this.y = drag.y + dy;
      this.apply();
    });
    const end = (): void => {
      this.suppressClick = this.drag?.moved ?? false;
      this.drag = null;
    };
    viewport.addEventListener('pointerup', end);
    viewport.addEventListener('pointercancel', end);
    viewport.addEventListener('dblclick', (event) => {
      if (!(event.target instanceof Element) || !event.target.closest('g.node')) this.fit();
    });
  }

  get scale(): number {
    return this.k;
  }

  /** Whether the user zoomed or panned since the last fit (then a resize keeps their view). */
  get movedByUser(): boolean {
    return this.moved;
  }

  /** True once after a drag, so the click that ends it does not change the selection. */
  consumedClick(): boolean {
    const consumed = this.suppressClick;
    this.suppressClick = false;
    return consumed;
  }

  zoomAt(px: number, py: number, factor: number): void {
    const k = Math.min(MAX_SCALE, Math.max(MIN_SCALE, this.k * factor));
    // Keep the canvas point under the pointer where it is.
    this.x = px - ((px - this.x) * k) / this.k;
    this.y = py - ((py - this.y) * k) / this.k;
    this.k = k;
    this.apply();
  }

  reset(): void {
    this.moved = false;
    this.x = 0;
    this.y = 0;
    this.k = 1;
    this.apply();
  }

  /** Scales the content down (never up beyond 1:1) to fit the viewport, centred. */
  fit(): void {
    this.moved = false;
    const content = this.canvas.firstElementChild as HTMLElement | SVGSVGElement | null;
    const vw = this.viewport.clientWidth;
    const vh = this.viewport.clientHeight;
    if (!content || vw === 0 || vh === 0) {
      this.reset();
      return;
    }
    this.k = 1;
    this.x = 0;
    this.y = 0;
    this.apply();
    const box = content.getBoundingClientRect();
    const k = Math.min(1, (vw - 16) / Math.max(1, box.width), (vh - 16) / Math.max(1, box.height));
    this.k = Math.max(MIN_SCALE, k);
    this.x = (vw - box.width * this.k) / 2;
    this.y = Math.max(8, (vh - box.height * this.k) / 2);
    this.apply();
  }

  /**
   * Centres a client rectangle (a node's bounding box) in the viewport, zooming in to 1:1 if the
   * drawing is shown smaller, so the node can be read; counts as the user's own move.
   */
  reveal(rect: DOMRect): void {
    const view = this.viewport.getBoundingClientRect();
    const left = view.left + this.viewport.clientLeft;
    const top = view.top + this.viewport.clientTop;
    // The rectangle's centre in canvas coordinates (before the transform).
    const cx = (rect.left + rect.width / 2 - left - this.x) / this.k;
    const cy = (rect.top + rect.height / 2 - top - this.y) / this.k;
    this.k = Math.max(this.k, 1);
    this.x = this.viewport.clientWidth / 2 - cx * this.k;
    this.y = this.viewport.clientHeight / 2 - cy * this.k;
    this.moved = true;
    this.apply();
  }

  private apply(): void {
    this.canvas.style.transform = `translate(${this.x}px, ${this.y}px) scale(${this.k})`;
  }
}
