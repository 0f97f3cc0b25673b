// The orchestrator dashboard: the latest snapshot, the supervisor's history per service (the
// last hour, kept by the supervisor: a reload redraws it whole), the scaling decisions of that
// hour, and the event log; redraws when any of them changes. When the feed is gone the cards
// keep what they last showed, greyed, with the time it stopped being true.
import { connect } from './feed.js';
import { renderEvents, renderServices, tickClocks } from './render.js';

const HISTORY_MS = 60 * 60_000;
const MAX_EVENTS = 200;

const servicesBox = document.getElementById('services');
const eventsBody = document.getElementById('events');
const eventsEmpty = document.getElementById('events-empty');
const connection = document.getElementById('connection');
const runtime = document.getElementById('runtime');
const uptime = document.getElementById('uptime');

let status = null;
/** @type {Map<string, import('./feed.js').HistorySample[]>} oldest first */
const history = new Map();
/** `scaled` events by seq, for the chart's marks and each card's list (they outlive the event log's window). */
const scaled = new Map();
/** newest first */
let events = [];
const seen = new Set();
let frame = 0;
/** When the last snapshot came, and since when the feed has been gone (0: it is not). */
let freshAt = 0;
let staleSince = 0;

function addSamples(body) {
  for (const [name, samples] of Object.entries(body.services ?? {})) {
    const list = history.get(name) ?? [];
    const last = list.length ? list[list.length - 1].t : 0;
    for (const s of samples) if (s.t > last) list.push(s);
    const from = (list.length ? list[list.length - 1].t : 0) - HISTORY_MS;
    while (list.length && list[0].t < from) list.shift();
    history.set(name, list);
  }
  for (const e of body.scaled ?? []) scaled.set(e.seq, e);
}

function eventKey(e) {
  return typeof e.seq === 'number' ? `#${e.seq}` : [e.time, e.type, e.service, e.port, e.id, e.reason].join('|');
}

function draw() {
  frame = 0;
  if (status) {
    runtime.textContent = status.runtime;
    if (status.startedAt) uptime.dataset.since = status.startedAt;
    const scaling = [...scaled.values()].sort((a, b) => a.seq - b.seq);
    renderServices(servicesBox, status, history, scaling, staleSince);
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
    freshAt = Date.now();
    staleSince = 0;
    schedule();
  },
  history(body) {
    addSamples(body);
    schedule();
  },
  event(e) {
    const key = eventKey(e);
    // A reconnecting stream replays the last 100 events; each is shown once.
    if (seen.has(key)) return;
    seen.add(key);
    if (e.type === 'scaled' && typeof e.seq === 'number') scaled.set(e.seq, e);
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
    // What the cards show was true when the last snapshot came, not since.
    const gone = state === 'connecting' || state === 'offline';
    if (gone && !staleSince && freshAt) staleSince = freshAt;
    if (!gone) staleSince = 0;
    schedule();
  },
});

// Countdowns and uptimes move between snapshots without redrawing anything else.
setInterval(() => tickClocks(document), 1000);
