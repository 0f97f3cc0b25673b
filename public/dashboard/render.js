// Draws the supervisor's state: one card per service (replicas, scaling window, its hour of
// traffic and latency, its scaling decisions) and the event log. Text goes in through
// textContent only.
import { drawLatency, drawTraffic } from './chart.js';

/**
 * A smaller cousin of the site's h() (public/js/dom.js). The dashboard cannot import the site's
 * modules: on the listen port only /dashboard/ is proxied to the admin listener, which serves
 * public/dashboard/ and nothing else.
 */
export function h(tag, props = {}, ...children) {
  const [name, ...classes] = tag.split('.');
  const node = document.createElement(name || 'div');
  if (classes.length) node.className = classes.join(' ');
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'style') Object.assign(node.style, v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat())
    if (c !== undefined && c !== null && c !== false) node.append(c instanceof Node ? c : String(c));
  return node;
}

const shortId = (id) =>
  id
    ? String(id)
        .replace(/^sha256:/, '')
        .slice(0, 12)
    : '—';

function duration(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return m < 60
    ? `${m}m ${String(s % 60).padStart(2, '0')}s`
    : `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

function badge(kind, value) {
  return h(`span.badge.badge-${kind}-${value}`, {}, value);
}

function bytes(n) {
  return n >= 1e9 ? `${(n / 1e9).toFixed(1)} GB` : `${Math.round(n / 1e6)} MB`;
}

/**
 * A replica still starting is expected to fail its first checks (it is not listening yet): that
 * reads "starting", in the colour of starting, not as a red failure, until it is ready or its
 * start timeout fails it. A ready replica's failures show as they are.
 */
function healthCell(r) {
  if (r.state === 'starting' && r.health !== 'ok') {
    const unanswered = r.consecutiveFailures;
    const title =
      unanswered > 0
        ? `${unanswered} check${unanswered === 1 ? '' : 's'} unanswered while it starts (last: ${r.reason ?? '—'})`
        : 'not checked yet';
    return h('td', { title }, badge('health', 'starting'));
  }
  return h(
    'td',
    { title: r.out ? `out of rotation since ${clockOf(r.out.since)}: ${r.out.reason}` : null },
    badge('health', r.health),
    r.consecutiveFailures > 0 ? h('span.fails', {}, ` ×${r.consecutiveFailures}`) : null,
  );
}

function replicaTable(service, replicas) {
  if (replicas.length === 0) return h('p.muted', {}, 'No replicas.');
  // CPU and memory where the runtime tells them (the engine's stats, /proc for processes).
  const usage = replicas.some((r) => r.memoryBytes !== undefined);
  const columns = ['Port', 'Container', 'State', 'Health', 'Requests', ...(usage ? ['CPU', 'Memory'] : []), 'Up'];
  const columnClass = (c) => (c === 'Container' ? '.col-container' : '');
  return h(
    'div.table-scroll',
    {},
    h(
      'table.replicas',
      {},
      h('caption.visually-hidden', {}, `Replicas of ${service}`),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          columns.map((c) => h(`th${columnClass(c)}`, { scope: 'col' }, c)),
        ),
      ),
      h(
        'tbody',
        {},
        [...replicas]
          .sort((a, b) => a.port - b.port)
          .map((r) =>
            h(
              'tr',
              { 'data-port': r.port, 'data-state': r.state },
              h(
                'td.num',
                {},
                h('a', { href: r.url, title: r.url, 'data-key': `${service}:${r.port}` }, String(r.port)),
                // In a card too narrow for the Container column, the id goes under the port.
                h('span.port-id.mono.muted', { title: r.id ?? '' }, shortId(r.id)),
                r.surge
                  ? h(
                      'span.muted',
                      { title: 'the extra replica that keeps capacity during a rolling replacement' },
                      ' surge',
                    )
                  : null,
              ),
              h('td.mono.col-container', { title: r.id ?? '' }, shortId(r.id)),
              h('td', {}, badge('state', r.state)),
              healthCell(r),
              h('td.num.requests', {}, Number(r.requestsServed ?? 0).toLocaleString('en')),
              usage ? h('td.num.cpu', {}, r.cpuPercent !== undefined ? `${r.cpuPercent.toFixed(1)} %` : '—') : null,
              usage ? h('td.num.memory', {}, r.memoryBytes !== undefined ? bytes(r.memoryBytes) : '—') : null,
              h(
                'td.num.muted',
                { 'data-since': r.startedAt },
                r.startedAt ? duration(Date.now() - Date.parse(r.startedAt)) : '—',
              ),
            ),
          ),
      ),
    ),
  );
}

function windowPanel(win) {
  if (!win) {
    return h(
      'div.window.window-idle',
      {},
      h('p.muted', {}, 'No scaling window: no requests counted yet, or autoscaling is off.'),
    );
  }
  const threshold = Math.max(1, win.nextThreshold);
  const fill = Math.min(100, (win.requests / threshold) * 100);
  const endsIn = Date.parse(win.endsAt) - Date.now();
  return h(
    'div.window',
    {},
    h(
      'div.window-head',
      {},
      h(
        'span',
        {},
        h('strong.window-requests', {}, String(win.requests)),
        ` of ${win.nextThreshold} requests this window`,
      ),
      h('span.muted', { 'data-ends-at': win.endsAt }, endsIn > 0 ? `ends in ${duration(endsIn)}` : 'window ending'),
    ),
    h(
      'div.bar',
      {
        role: 'meter',
        'aria-label': 'Requests this window against the next threshold',
        'aria-valuemin': 0,
        'aria-valuemax': threshold,
        'aria-valuenow': win.requests,
      },
      h('div.bar-fill', { style: { width: `${fill}%` } }),
    ),
    h('p.window-reason', {}, `Next: ${win.nextDesired} replica${win.nextDesired === 1 ? '' : 's'} — ${win.reason}`),
  );
}

function rolloutNote(rollout) {
  const how =
    rollout.surgePort === null ? 'in place, one port at a time' : `surge replica on port ${rollout.surgePort}`;
  return `rolling replacement: ${rollout.toReplace} to replace, ${how}`;
}

function clockOf(t) {
  return new Date(t).toLocaleTimeString('en-GB');
}

/** The last scaling decisions of a service, newest first: they stay here however busy the log is. */
function scalingList(marks) {
  if (marks.length === 0) return h('p.muted.scaling-none', {}, 'No scaling decision in the last hour.');
  return h(
    'ol.scaling',
    { 'aria-label': 'Scaling decisions, newest first' },
    [...marks]
      .reverse()
      .slice(0, 5)
      .map((e) =>
        h(
          'li',
          { 'data-seq': e.seq },
          h('span.mono.muted', { title: e.time }, clockOf(e.time)),
          ' ',
          h('strong.scaling-step', {}, `${e.from} → ${e.to}`),
          ' ',
          h('span.reason', {}, e.reason ?? ''),
        ),
      ),
  );
}

/** The service's last failures, newest first, each with the replica's last lines of output. */
function failuresPanel(service, failures) {
  if (!failures?.length) return null;
  return h(
    'details.failures',
    {},
    h('summary', {}, `Recent failures (${failures.length})`),
    ...failures.map((f) =>
      h(
        'div.failure',
        { 'data-id': f.id },
        h(
          'p.failure-head',
          {},
          h('strong', {}, `port ${f.port}`),
          ` · ${shortId(f.id)} · `,
          h('time', { datetime: f.time }, new Date(f.time).toLocaleString()),
          ` · ${f.reason}`,
        ),
        f.output.length > 0
          ? h(
              'pre.failure-output',
              { 'aria-label': `Last output of ${service} on port ${f.port}` },
              f.output.join('\n'),
            )
          : h('p.muted', {}, f.outputError ? `No output: ${f.outputError}` : 'It printed nothing.'),
      ),
    ),
  );
}

function svgChart(label) {
  const chart = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  chart.setAttribute('class', 'chart');
  chart.setAttribute('role', 'img');
  chart.setAttribute('aria-label', label);
  return chart;
}

function legend(...keys) {
  return h(
    'figcaption.legend',
    {},
    keys.map(([cls, text]) => h(`span.key.key-${cls}`, {}, text)),
  );
}

/**
 * @param {HTMLElement} container
 * @param {object} status the /status body (the last one received)
 * @param {Map<string, import('./feed.js').HistorySample[]>} history
 * @param {import('./feed.js').FleetEvent[]} scaling `scaled` events, oldest first
 * @param {number} staleSince 0 while the feed is live; else when the shown state was last true
 */
export function renderServices(container, status, history, scaling, staleSince) {
  // The charts are drawn at the size they were shown last time (the cards keep their width).
  const width = Math.round(container.querySelector('.chart-box')?.clientWidth || 520);
  if (staleSince) container.dataset.stale = String(staleSince);
  else delete container.dataset.stale;
  const cards = Object.entries(status.services ?? {}).map(([name, svc]) => {
    const ready = svc.replicas.filter((r) => r.inRotation ?? r.state === 'ready').length;
    const samples = history.get(name) ?? [];
    const marks = scaling.filter((e) => e.service === name);
    const traffic = svgChart(
      `${name}: ${ready} ready replicas now; ready replicas, requests per second and scaling decisions over the last hour`,
    );
    drawTraffic(traffic, samples, marks, Math.max(260, width));
    const latency = svgChart(`${name}: p50 and p99 latency and 5xx answers over the last hour`);
    drawLatency(latency, samples, Math.max(260, width));
    return h(
      'section.service',
      { 'data-service': name, 'aria-labelledby': `svc-${name}` },
      h(
        'header.service-head',
        {},
        h('h2', { id: `svc-${name}` }, name),
        h(
          'span.replica-count',
          {},
          h('strong', {}, String(ready)),
          ` ready · ${svc.replicas.length} running · desired ${svc.desired}`,
        ),
        svc.rollout ? h('span.rollout-note', { role: 'status' }, rolloutNote(svc.rollout)) : null,
        svc.capped ? h('span.capped-note', { role: 'status' }, `capped by capacity: ${svc.capped.reason}`) : null,
        staleSince ? h('span.stale-note', { role: 'status' }, `stale since ${clockOf(staleSince)}`) : null,
      ),
      windowPanel(svc.window),
      replicaTable(name, svc.replicas),
      h(
        'figure.chart-box.chart-traffic',
        {},
        traffic,
        legend(['replicas', 'ready replicas'], ['requests', 'requests / s'], ['scaled', 'scaling decision']),
      ),
      h('figure.chart-box.chart-latency', {}, latency, legend(['p50', 'p50 ms'], ['p99', 'p99 ms'], ['errors', '5xx'])),
      failuresPanel(name, svc.failures),
      h(
        'section.scaling-box',
        { 'aria-label': `Scaling decisions of ${name}` },
        h('h3', {}, 'Scaling'),
        scalingList(marks),
      ),
    );
  });
  // Snapshots arrive every 2 s: keep keyboard focus on the same link across the redraw.
  const focused = document.activeElement?.getAttribute('data-key');
  container.replaceChildren(...cards);
  if (focused) container.querySelector(`[data-key="${CSS.escape(focused)}"]`)?.focus();
}

/** Moves the clocks (window countdowns, replica and supervisor uptimes) between snapshots. */
export function tickClocks(root) {
  const now = Date.now();
  for (const el of root.querySelectorAll('[data-ends-at]')) {
    const left = Date.parse(el.dataset.endsAt) - now;
    el.textContent = left > 0 ? `ends in ${duration(left)}` : 'window ending';
  }
  for (const el of root.querySelectorAll('[data-since]')) {
    el.textContent = `${el.dataset.sincePrefix ?? ''}${duration(now - Date.parse(el.dataset.since))}`;
  }
}

/** @param {HTMLElement} tbody @param {import('./feed.js').FleetEvent[]} events newest first */
export function renderEvents(tbody, events) {
  tbody.replaceChildren(
    ...events.map((e) =>
      h(
        'tr',
        { 'data-type': e.type },
        h('td.mono.muted', { title: e.time }, new Date(e.time).toLocaleTimeString('en-GB')),
        h('td', {}, h(`span.event-type.event-${e.type.split('.').pop()}`, {}, e.type)),
        h('td', {}, e.service ?? '—'),
        h('td.num', {}, e.port ?? '—'),
        h('td.reason', {}, e.reason ?? ''),
      ),
    ),
  );
}
