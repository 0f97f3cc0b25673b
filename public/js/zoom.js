// Zoom in the photo view: a double-click or a double tap zooms the photo 2.5× around that point
// and the next one zooms out; while zoomed, dragging moves the photo within its bounds (and a
// swipe no longer steps to another photo). Pinching is the browser's own (the stage allows
// pinch-zoom). The photo is scaled with a transform, so nothing is fetched again and the page
// around it does not move.

const SCALE = 2.5;
/** Two taps this close in time and place are a double tap. */
const DOUBLE_TAP_MS = 300;
const DOUBLE_TAP_PX = 30;

/**
 * @param {HTMLElement} stage where the photo is shown
 * @param {() => HTMLElement | null} photo the photo shown now
 */
export function zoomable(stage, photo) {
  /** @type {{x: number, y: number} | null} the translation while zoomed, CSS px */
  let zoomed = null;
  let lastTap = null;
  let drag = null;

  const apply = () => {
    const img = photo();
    if (!img) return;
    img.style.transform = zoomed ? `translate(${zoomed.x}px, ${zoomed.y}px) scale(${SCALE})` : '';
    img.style.cursor = zoomed ? 'grab' : 'zoom-in';
    stage.classList.toggle('zoomed', zoomed !== null);
  };

  /** The translation that keeps the scaled photo covering what it can of the stage. */
  const clamp = (x, y) => {
    const img = photo();
    if (!img) return { x, y };
    const w = img.offsetWidth;
    const h = img.offsetHeight;
    const maxX = (w * (SCALE - 1)) / 2;
    const maxY = (h * (SCALE - 1)) / 2;
    return { x: Math.max(-maxX, Math.min(maxX, x)), y: Math.max(-maxY, Math.min(maxY, y)) };
  };

  /** Zooms in around a point of the screen (the photo's point there stays under it), or out. */
  const toggle = (clientX, clientY) => {
    const img = photo();
    if (!img) return;
    if (zoomed) {
      zoomed = null;
    } else {
      const box = img.getBoundingClientRect();
      const dx = clientX - (box.left + box.width / 2);
      const dy = clientY - (box.top + box.height / 2);
      zoomed = clamp(-dx * (SCALE - 1), -dy * (SCALE - 1));
    }
    apply();
  };

  const onDoubleClick = (e) => {
    if (!(e.target instanceof HTMLImageElement)) return;
    e.preventDefault();
    toggle(e.clientX, e.clientY);
  };
  const onTouchEnd = (e) => {
    const touch = e.changedTouches[0];
    if (!touch || e.touches.length > 0 || !(e.target instanceof HTMLImageElement)) return;
    const now = performance.now();
    const near =
      lastTap &&
      now - lastTap.at < DOUBLE_TAP_MS &&
      Math.hypot(touch.clientX - lastTap.x, touch.clientY - lastTap.y) < DOUBLE_TAP_PX;
    if (near) {
      lastTap = null;
      e.preventDefault(); // no click, no dblclick after it: this was the double tap
      toggle(touch.clientX, touch.clientY);
    } else {
      lastTap = { at: now, x: touch.clientX, y: touch.clientY };
    }
  };
  const onPointerDown = (e) => {
    if (!zoomed || !(e.target instanceof HTMLImageElement) || !e.isPrimary) return;
    e.preventDefault(); // no text selection, no native drag of the image
    drag = { id: e.pointerId, x: e.clientX, y: e.clientY, from: { ...zoomed } };
    e.target.setPointerCapture(e.pointerId);
    e.target.style.cursor = 'grabbing';
  };
  const onPointerMove = (e) => {
    if (!drag || e.pointerId !== drag.id || !zoomed) return;
    zoomed = clamp(drag.from.x + e.clientX - drag.x, drag.from.y + e.clientY - drag.y);
    apply();
  };
  const onPointerUp = (e) => {
    if (!drag || e.pointerId !== drag.id) return;
    drag = null;
    apply();
  };

  // A mouse drag on an image starts the browser's own drag and drop, which cancels the pointer.
  stage.addEventListener('dragstart', (e) => e.preventDefault());
  stage.addEventListener('dblclick', onDoubleClick);
  stage.addEventListener('touchend', onTouchEnd);
  stage.addEventListener('pointerdown', onPointerDown);
  stage.addEventListener('pointermove', onPointerMove);
  stage.addEventListener('pointerup', onPointerUp);
  stage.addEventListener('pointercancel', onPointerUp);

  return {
    get zoomed() {
      return zoomed !== null;
    },
    /** Back to the whole photo (another photo is shown). */
    reset() {
      zoomed = null;
      drag = null;
      lastTap = null;
      apply();
    },
    /** The photo changed: shown whole, with the cursor that says it zooms. */
    refresh() {
      apply();
    },
  };
}
