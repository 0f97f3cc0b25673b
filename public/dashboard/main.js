// The orchestrator dashboard: keeps the latest snapshot, a short history per service for the
// chart, and the event log, and redraws when any of them changes.
import { connect } from './feed.js';
import { renderEvents, renderServices, tickClocks } from './render.js';

const HISTORY_MS = 10 * 60_000;
const CHART_SPAN_MS = 5 * 60_000;
const MAX_EVENTS = 200;

const servicesBox = document.getElementById('services');
const eventsBody = document.getElementById('events');
const eventsEmpty = document.getElementById('events-empty');
const connection = document.getElementById('connection');
const runtime = document.getElementById('runtime');
const uptime = document.getElementById('uptime');

let status = null;
/** @type {Map<string, import('./chart.js').Sample[]>} */
const history = new Map();
/** newest first */
let events = [];
const seen = new Set();
let frame = 0;

function record(snapshot) {
  const t = Date.now();
  for (const [name, svc] of Object.entries(snapshot.services ?? {})) {
    const samples = history.get(name) ?? [];
    const sample = {
      t,
      replicas: svc.replicas.filter((r) => r.state === 'ready').length,
      desired: svc.desired,
      requests: svc.window?.requests ?? 0,
      threshold: svc.window?.nextThreshold ?? null,
    };
    // Snapshots come at least every 2 s and on every change; bursts within half a second
    // replace the last point instead of piling up.
    if (samples.length && t - samples[samples.length - 1].t < 500) samples[samples.length - 1] = sample;
    else samples.push(sample);
    while (samples.length && samples[0].t < t - HISTORY_MS) samples.shift();
    history.set(name, samples);
  }
}

function eventKey(e) {
  return typeof e.seq === 'number' ? `#${e.seq}` : [e.time, e.type, e.service, e.port, e.id, e.reason].join('|');
}

function draw() {
  frame = 0;
  if (status) {
    runtime.textContent = status.runtime;
    if (status.startedAt) uptime.dataset.since = status.startedAt;
    renderServices(servicesBox, status, history, CHART_SPAN_MS);
  }
  renderEvents(eventsBody, events);
  eventsEmpty.hidden = events.length > 0;
  tickClocks(document);
}

function schedule() {
  if (!frame) frame = requestAnimationFrame(draw);
}

connect({
  snapshot(next) {
    status = next;
    record(next);
    schedule();
  },
  event(e) {
    const key = eventKey(e);
    // A reconnecting stream replays the last 100 events; each is shown once.
    if (seen.has(key)) return;
    seen.add(key);
    events.push(e);
    events.sort((a, b) => (b.seq ?? 0) - (a.seq ?? 0) || Date.parse(b.time) - Date.parse(a.time));
    if (events.length > MAX_EVENTS) events = events.slice(0, MAX_EVENTS);
    schedule();
  },
  connection(state, detail) {
    connection.dataset.state = state;
    connection.textContent = { live: 'Live', polling: 'Polling', connecting: 'Connecting', offline: 'Offline' }[state];
    connection.title = detail;
    connection.setAttribute('aria-label', `Connection: ${detail}`);
  },
});

// Countdowns and uptimes move between snapshots without redrawing anything else.
setInterval(() => tickClocks(document), 1000);
