// Small SVG charts of one service over the supervisor's history (up to an hour):
//   traffic: ready replicas (a step line, left axis) and requests per second (an area, right
//            axis), with a mark at every scaling decision ("1 → 2"), in the scaling colour;
//   latency: p50 and p99 in ms (lines, left axis) and 5xx answers per sample (bars, right axis).

const NS = 'http://www.w3.org/2000/svg';
const H = 170;
const PAD = { left: 40, right: 44, top: 16, bottom: 26 };
// Early on the chart spans at least this much, so a few samples do not fill it edge to edge.
const MIN_SPAN_MS = 60_000;

/** @typedef {import('./feed.js').HistorySample} Sample */

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

function short(n) {
  return n >= 100 ? String(Math.round(n)) : n >= 10 ? n.toFixed(0) : String(Math.round(n * 10) / 10);
}

/** The frame both charts share: time axis, scales, grid. */
function frame(svg, samples, W, leftMax, rightMax, leftClass, rightClass) {
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.replaceChildren();
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const now = samples.length ? samples[samples.length - 1].t : Date.now();
  const first = samples.length ? samples[0].t : now;
  const span = Math.max(MIN_SPAN_MS, now - first);
  const t0 = now - span;
  const x = (t) => PAD.left + ((Math.max(t, t0) - t0) / span) * plotW;
  const yL = (n) => PAD.top + plotH - (n / leftMax) * plotH;
  const yR = (n) => PAD.top + plotH - (n / rightMax) * plotH;
  const grid = el('g', { class: 'chart-grid' });
  for (const frac of [0, 0.5, 1]) {
    grid.append(el('line', { x1: PAD.left, x2: W - PAD.right, y1: yL(leftMax * frac), y2: yL(leftMax * frac) }));
    grid.append(
      el(
        'text',
        { x: PAD.left - 8, y: yL(leftMax * frac) + 4, 'text-anchor': 'end', class: leftClass },
        short(leftMax * frac),
      ),
    );
    grid.append(
      el('text', { x: W - PAD.right + 8, y: yR(rightMax * frac) + 4, class: rightClass }, short(rightMax * frac)),
    );
  }
  grid.append(el('text', { x: PAD.left, y: H - 6, class: 'axis-time' }, clock(t0)));
  grid.append(el('text', { x: W - PAD.right, y: H - 6, 'text-anchor': 'end', class: 'axis-time' }, clock(now)));
  svg.append(grid);
  return { x, yL, yR, now, t0, top: PAD.top, bottom: PAD.top + plotH };
}

/** The space kept between two decision labels, px. */
const LABEL_GAP = 6;

/** A label's width as drawn (the SVG in the page), or as estimated where it is not laid out yet. */
function labelWidth(text) {
  const measured = text.getComputedTextLength?.() ?? 0;
  return measured > 0 ? measured : (text.textContent ?? '').length * 6.6;
}

/**
 * A dashed line at each scaling decision, and its counts above the plot. Decisions close in time
 * would print their labels over each other ("9 → 56 → 3"): a label that would touch the one
 * before joins it, and the pair reads as the whole step, from the first count to the last, with
 * every decision in its title. Labels stay inside the drawing.
 */
function placeMarkLabels(svg, f, W, marks) {
  /** @type {{from: number, to: number, x1: number, x2: number, text: SVGTextElement, steps: string[], left: number, right: number}[]} */
  const labels = [];
  const place = (label) => {
    label.text.replaceChildren(`${label.from} → ${label.to}`);
    const width = labelWidth(label.text);
    const x = Math.min(Math.max((label.x1 + label.x2) / 2, width / 2 + 1), W - width / 2 - 1);
    label.text.setAttribute('x', x.toFixed(1));
    label.left = x - width / 2;
    label.right = x + width / 2;
    label.text.append(el('title', {}, label.steps.join('\n')));
  };
  const ordered = [...marks].sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
  for (const e of ordered) {
    const t = Date.parse(e.time);
    if (t < f.t0) continue;
    const mx = f.x(t);
    const step = `${clock(t)} ${e.from} → ${e.to}: ${e.reason ?? ''}`;
    const mark = el('g', { class: 'scale-mark', 'data-seq': e.seq });
    const text = el('text', { y: f.top - 4, 'text-anchor': 'middle' });
    mark.append(
      el('line', { x1: mx.toFixed(1), x2: mx.toFixed(1), y1: f.top, y2: f.bottom }),
      el('title', {}, step),
      text,
    );
    svg.append(mark);
    let label = { from: e.from, to: e.to, x1: mx, x2: mx, text, steps: [step], left: 0, right: 0 };
    place(label);
    // Joins the label before while they would touch, which may make it touch the one before that.
    while (labels.length > 0 && label.left < labels[labels.length - 1].right + LABEL_GAP) {
      const before = labels.pop();
      before.to = label.to;
      before.x2 = label.x2;
      before.steps.push(...label.steps);
      label.text.remove();
      label = before;
      place(label);
    }
    labels.push(label);
  }
}

/**
 * @param {SVGSVGElement} svg
 * @param {Sample[]} samples oldest first
 * @param {import('./feed.js').FleetEvent[]} marks `scaled` events of this service
 * @param {number} W the drawn width in CSS pixels, so that text keeps its size on any screen
 */
export function drawTraffic(svg, samples, marks, W) {
  const maxReplicas = Math.max(1, ...samples.map((s) => Math.max(s.ready, s.desired))) + 1;
  const maxRps = niceMax(Math.max(1, ...samples.map((s) => s.rps)));
  const f = frame(svg, samples, W, maxReplicas, maxRps, 'axis-replicas', 'axis-requests');
  const visible = samples.filter((s) => s.t >= f.t0);

  placeMarkLabels(svg, f, W, marks);
  if (visible.length === 0) return;

  const points = visible.map((s) => `${f.x(s.t).toFixed(1)},${f.yR(s.rps).toFixed(1)}`);
  const base = f.yR(0).toFixed(1);
  svg.append(
    el('path', {
      class: 'series-requests-area',
      d: `M${f.x(visible[0].t).toFixed(1)},${base} L${points.join(' L')} L${f.x(f.now).toFixed(1)},${base} Z`,
    }),
    el('polyline', { class: 'series-requests', points: points.join(' ') }),
  );
  // Replicas: a step line, since the count changes at instants.
  let d = '';
  visible.forEach((s, i) => {
    const px = f.x(s.t).toFixed(1);
    const py = f.yL(s.ready).toFixed(1);
    d += i === 0 ? `M${px},${py}` : ` H${px} V${py}`;
  });
  d += ` H${f.x(f.now).toFixed(1)}`;
  svg.append(el('path', { class: 'series-replicas', d }));
  const last = visible[visible.length - 1];
  svg.append(el('circle', { class: 'series-replicas-dot', cx: f.x(last.t), cy: f.yL(last.ready), r: 4 }));
}

/** @param {SVGSVGElement} svg @param {Sample[]} samples oldest first @param {number} W */
export function drawLatency(svg, samples, W) {
  const maxMs = niceMax(Math.max(1, ...samples.map((s) => s.p99 ?? 0)));
  const maxErrors = niceMax(Math.max(1, ...samples.map((s) => s.errors)));
  const f = frame(svg, samples, W, maxMs, maxErrors, 'axis-latency', 'axis-errors');
  const visible = samples.filter((s) => s.t >= f.t0);
  const barW = Math.max(2, visible.length > 1 ? (f.x(visible[1].t) - f.x(visible[0].t)) * 0.6 : 4);
  for (const s of visible) {
    if (s.errors === 0) continue;
    const top = f.yR(s.errors);
    svg.append(
      el('rect', {
        class: 'series-errors',
        x: (f.x(s.t) - barW / 2).toFixed(1),
        y: top.toFixed(1),
        width: barW.toFixed(1),
        height: (f.bottom - top).toFixed(1),
      }),
    );
  }
  for (const key of ['p99', 'p50']) {
    // A gap where a sample had no requests: the line breaks instead of diving to zero.
    let d = '';
    let open = false;
    for (const s of visible) {
      if (s[key] === null) {
        open = false;
        continue;
      }
      d += `${open ? ' L' : ' M'}${f.x(s.t).toFixed(1)},${f.yL(s[key]).toFixed(1)}`;
      open = true;
    }
    if (d) svg.append(el('path', { class: `series-${key}`, d: d.trim() }));
  }
}
