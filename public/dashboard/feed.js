// The dashboard's connection to the supervisor's admin API (docs/status-api.md): server-sent
// events when they work, polling of /status and /events.json when they do not. The supervisor's
// history (/history: the last hour per service) is fetched on load and after every gap (the
// stream reopened, a poll after a failed one), so a reload or an outage loses nothing it kept.
//
// The admin listener serves the API at /status and /events; the balancer's listen port proxies
// it under /admin/. The page is /dashboard/ on both, so which prefix applies is found by asking
// (or given as ?api=<prefix>).

const POLL_MS = 2000;
const SSE_RETRY_MS = 30000;

/**
 * @typedef {{time: string, type: string, service?: string, port?: number, id?: string, reason?: string, seq?: number}} FleetEvent
 * @typedef {{t: number, rps: number, p50: number|null, p99: number|null, errors: number, ready: number, desired: number}} HistorySample
 * @typedef {{sampleMs: number, spanMs: number, services: Record<string, HistorySample[]>, scaled: FleetEvent[]}} HistoryBody
 * @typedef {{snapshot: (status: object) => void, event: (e: FleetEvent) => void, history: (body: HistoryBody) => void, connection: (state: 'connecting'|'live'|'polling'|'offline', detail: string) => void}} Handlers
 */

async function looksLikeStatus(url) {
  try {
    const res = await fetch(url, { headers: { Accept: 'application/json' }, cache: 'no-store' });
    if (!res.ok || !(res.headers.get('content-type') ?? '').includes('json')) return null;
    const body = await res.json();
    return body && typeof body.services === 'object' ? body : null;
  } catch {
    return null;
  }
}

/** The prefix under which this page reaches the admin API, and a first snapshot from it. */
async function discover() {
  const given = new URLSearchParams(location.search).get('api');
  const candidates = given !== null ? [given.replace(/\/$/, '')] : ['/admin', ''];
  for (const prefix of candidates) {
    const status = await looksLikeStatus(`${prefix}/status`);
    if (status) return { prefix, status };
  }
  return null;
}

/** @param {Handlers} on */
export function connect(on) {
  let prefix = null;
  let source = null;
  let pollTimer = null;
  let lastSeq = 0;
  let lastSample = 0;
  let stopped = false;

  /** Samples newer than the last one seen (all of them the first time). */
  const fetchHistory = async () => {
    try {
      const res = await fetch(`${prefix}/history?since=${lastSample}`, { cache: 'no-store' });
      if (!res.ok) return;
      const body = await res.json();
      for (const samples of Object.values(body.services ?? {}))
        for (const s of samples) lastSample = Math.max(lastSample, s.t);
      on.history(body);
    } catch {
      // the next gap or poll tries again
    }
  };
  const onSample = (tick) => {
    lastSample = Math.max(lastSample, tick.t);
    on.history({
      sampleMs: 0,
      spanMs: 0,
      services: Object.fromEntries(Object.entries(tick.services).map(([name, s]) => [name, [s]])),
      scaled: [],
    });
  };

  const poll = async () => {
    if (stopped) return;
    const status = await looksLikeStatus(`${prefix}/status`);
    if (status) {
      on.snapshot(status);
      await fetchHistory();
      try {
        const res = await fetch(`${prefix}/events.json?since=${lastSeq}`, { cache: 'no-store' });
        if (res.ok) {
          for (const e of await res.json()) {
            if (typeof e.seq === 'number') lastSeq = Math.max(lastSeq, e.seq);
            on.event(e);
          }
        }
      } catch {
        // the next round tries again
      }
      on.connection('polling', 'Polling every 2 s (live stream unavailable)');
    } else {
      on.connection('offline', 'The supervisor does not answer; retrying');
    }
    pollTimer = setTimeout(poll, POLL_MS);
  };

  const startPolling = () => {
    if (pollTimer !== null || stopped) return;
    pollTimer = setTimeout(poll, 0);
    setTimeout(() => {
      if (!stopped && source === null) openStream();
    }, SSE_RETRY_MS);
  };

  const openStream = () => {
    if (typeof EventSource === 'undefined') return startPolling();
    source = new EventSource(`${prefix}/events`);
    source.addEventListener('open', () => {
      clearTimeout(pollTimer);
      pollTimer = null;
      on.connection('live', 'Live: server-sent events');
      void fetchHistory();
    });
    source.addEventListener('snapshot', (msg) => on.snapshot(JSON.parse(msg.data)));
    source.addEventListener('sample', (msg) => onSample(JSON.parse(msg.data)));
    source.addEventListener('event', (msg) => {
      const e = JSON.parse(msg.data);
      if (typeof e.seq === 'number') lastSeq = Math.max(lastSeq, e.seq);
      on.event(e);
    });
    source.addEventListener('error', () => {
      // CONNECTING: the browser retries by itself. CLOSED: it gave up (an HTTP error or a
      // proxy that buffers), so polling takes over and the stream is tried again later.
      if (source.readyState === EventSource.CLOSED) {
        source = null;
        startPolling();
      } else {
        on.connection('connecting', 'Reconnecting to the live stream…');
      }
    });
  };

  void (async () => {
    on.connection('connecting', 'Connecting to the supervisor…');
    let found = await discover();
    while (!found && !stopped) {
      on.connection('offline', 'The supervisor does not answer; retrying');
      await new Promise((r) => setTimeout(r, POLL_MS));
      found = await discover();
    }
    if (stopped || !found) return;
    prefix = found.prefix;
    on.snapshot(found.status);
    openStream();
  })();

  return () => {
    stopped = true;
    source?.close();
    clearTimeout(pollTimer);
  };
}
