// A small SVG chart of one service over time: ready replicas (a step line, left axis) and the
// window's request count (an area, right axis), with the next scaling threshold dashed.

const NS = 'http://www.w3.org/2000/svg';
const H = 190;
const PAD = { left: 34, right: 44, top: 14, bottom: 26 };
// Early on the chart spans at least this much, so a few seconds of history do not fill it edge to edge.
const MIN_SPAN_MS = 30_000;

/** @typedef {{t: number, replicas: number, desired: number, requests: number, threshold: number | null}} Sample */

function el(name, attrs = {}, text) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A round axis maximum at or above `value`. */
function niceMax(value) {
  if (value <= 1) return 1;
  const step = 10 ** Math.floor(Math.log10(value));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * step >= value) return m * step;
  return 10 * step;
}

function clock(t) {
  return new Date(t).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/**
 * @param {SVGSVGElement} svg
 * @param {Sample[]} samples oldest first
 * @param {number} spanMs how much history to show
 * @param {number} W the drawn width in CSS pixels, so that text keeps its size on any screen
 */
export function drawChart(svg, samples, spanMs, W) {
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.replaceChildren();
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const now = samples.length ? samples[samples.length - 1].t : Date.now();
  const first = samples.length ? samples[0].t : now;
  const span = Math.max(MIN_SPAN_MS, Math.min(spanMs, now - first));
  const t0 = now - span;
  const visible = samples.filter((s) => s.t >= t0 - 5000);

  const maxReplicas = Math.max(1, ...visible.map((s) => Math.max(s.replicas, s.desired))) + 1;
  const maxRequests = niceMax(Math.max(1, ...visible.map((s) => Math.max(s.requests, s.threshold ?? 0))));
  const x = (t) => PAD.left + ((Math.max(t, t0) - t0) / span) * plotW;
  const yRep = (n) => PAD.top + plotH - (n / maxReplicas) * plotH;
  const yReq = (n) => PAD.top + plotH - (n / maxRequests) * plotH;

  // Grid and axes: replicas on the left (integers), requests on the right.
  const grid = el('g', { class: 'chart-grid' });
  for (let n = 0; n <= maxReplicas; n++) {
    grid.append(el('line', { x1: PAD.left, x2: W - PAD.right, y1: yRep(n), y2: yRep(n) }));
    grid.append(el('text', { x: PAD.left - 8, y: yRep(n) + 4, 'text-anchor': 'end', class: 'axis-replicas' }, String(n)));
  }
  for (const frac of [0, 0.5, 1]) {
    const v = maxRequests * frac;
    grid.append(el('text', { x: W - PAD.right + 8, y: yReq(v) + 4, class: 'axis-requests' }, String(Math.round(v))));
  }
  grid.append(el('text', { x: PAD.left, y: H - 6, class: 'axis-time' }, clock(t0)));
  grid.append(el('text', { x: W - PAD.right, y: H - 6, 'text-anchor': 'end', class: 'axis-time' }, clock(now)));
  svg.append(grid);

  if (visible.length === 0) return;

  // Requests in the window: an area under a line.
  const reqPoints = visible.map((s) => `${x(s.t).toFixed(1)},${yReq(s.requests).toFixed(1)}`);
  const base = yReq(0).toFixed(1);
  svg.append(
    el('path', {
      class: 'series-requests-area',
      d: `M${x(visible[0].t).toFixed(1)},${base} L${reqPoints.join(' L')} L${x(now).toFixed(1)},${base} Z`,
    }),
    el('polyline', { class: 'series-requests', points: reqPoints.join(' ') }),
  );

  const threshold = visible[visible.length - 1].threshold;
  if (threshold !== null) {
    svg.append(el('line', { class: 'series-threshold', x1: PAD.left, x2: W - PAD.right, y1: yReq(threshold), y2: yReq(threshold) }));
  }

  // Replicas: a step line, since the count changes at instants.
  let d = '';
  visible.forEach((s, i) => {
    const px = x(s.t).toFixed(1);
    const py = yRep(s.replicas).toFixed(1);
    d += i === 0 ? `M${px},${py}` : ` H${px} V${py}`;
  });
  d += ` H${x(now).toFixed(1)}`;
  svg.append(el('path', { class: 'series-replicas', d }));
  const last = visible[visible.length - 1];
  svg.append(el('circle', { class: 'series-replicas-dot', cx: x(last.t), cy: yRep(last.replicas), r: 4 }));
}
