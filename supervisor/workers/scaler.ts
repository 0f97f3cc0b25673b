// Scaler worker: counts each autoscaled service's requests in windows (the first opens at the
// first counted request), and at each window's end asks scaling.ts for the replica count and
// tells the primary. Before deciding it asks the balancer (through the primary) to flush its
// counts, so requests made just before the end are in the window they belong to.
import { setTimeout as sleep } from 'node:timers/promises';
import type { FromScaler, ServiceCount, ToScaler, WindowStatus } from '../protocol.ts';
import {
  dampedReplicas,
  desiredReplicas,
  keepWindowing,
  nextThreshold,
  nextWindow,
  openWindow,
  type RequestWindow,
  type ScalingPolicy,
} from '../scaling.ts';
import { workerChannel } from './channel.ts';

export interface ScalerConfig {
  windowSeconds: number;
  /** Autoscaled services only. */
  services: Record<string, ScalingPolicy>;
}

interface Track {
  window: RequestWindow;
  history: number[];
  timer?: NodeJS.Timeout;
  closing: boolean;
}

const FLUSH_WAIT_MS = 300;
const HISTORY = 20;

const channel = workerChannel<ToScaler, FromScaler, ScalerConfig>();
const { windowSeconds, services: policies } = channel.config;
const tracks = new Map<string, Track>();
let current: Record<string, number> = {};
/** Closes waiting for the balancer's flushed counts. */
const flushWaiters = new Set<() => void>();

channel.onMessage((message) => {
  switch (message.type) {
    case 'requests':
      addRequests(message.services);
      for (const resolve of flushWaiters) resolve();
      flushWaiters.clear();
      break;
    case 'open-window':
      if (policies[message.service] && !tracks.has(message.service)) begin(message.service, openWindow(message.at, windowSeconds), []);
      break;
    case 'current':
      current = message.current;
      break;
    case 'resume':
      current = message.current;
      for (const w of message.windows) {
        if (!policies[w.service] || tracks.has(w.service)) continue;
        begin(w.service, { startedAt: w.startedAt, endsAt: w.endsAt, requests: w.requests }, w.history);
      }
      break;
  }
});

function addRequests(counts: Record<string, ServiceCount>): void {
  for (const [service, { count, firstAt }] of Object.entries(counts)) {
    if (!policies[service] || count <= 0) continue;
    const track = tracks.get(service);
    if (track) track.window.requests += count;
    else begin(service, { ...openWindow(firstAt, windowSeconds), requests: count }, []);
    report(service);
  }
}

function begin(service: string, window: RequestWindow, history: number[]): void {
  const track: Track = { window, history, closing: false };
  tracks.set(service, track);
  schedule(service, track);
  report(service);
}

function schedule(service: string, track: Track): void {
  clearTimeout(track.timer);
  track.timer = setTimeout(() => void close(service, track), Math.max(0, track.window.endsAt - Date.now()));
}

async function close(service: string, track: Track): Promise<void> {
  if (track.closing) return;
  track.closing = true;
  await flushCounts();
  const policy = policies[service]!;
  const now = Math.max(Date.now(), track.window.endsAt);
  const recommendation = desiredReplicas(track.window, policy, now);
  const decision = dampedReplicas(recommendation, track.history, current[service] ?? policy.min, policy);
  channel.send({
    type: 'scale',
    service,
    desired: decision.replicas,
    requests: track.window.requests,
    windowStartedAt: track.window.startedAt,
    windowEndsAt: track.window.endsAt,
    reason: decision.reason,
  });
  track.history = [...track.history, recommendation.replicas].slice(-HISTORY);
  track.closing = false;
  if (keepWindowing(track.window, decision.replicas, policy)) {
    track.window = nextWindow(track.window, windowSeconds);
    // A scaler that was down past several window ends catches up one window at a time.
    schedule(service, track);
    report(service);
  } else {
    tracks.delete(service);
    channel.send({ type: 'window', window: { service, closed: true } });
  }
}

async function flushCounts(): Promise<void> {
  let waiter!: () => void;
  const done = new Promise<void>((resolve) => {
    waiter = resolve;
  });
  flushWaiters.add(waiter);
  channel.send({ type: 'flush' });
  await Promise.race([done, sleep(FLUSH_WAIT_MS)]);
  flushWaiters.delete(waiter);
}

function report(service: string): void {
  const track = tracks.get(service);
  if (!track) return;
  const policy = policies[service]!;
  const projection = desiredReplicas(track.window, policy, track.window.startedAt);
  const status: WindowStatus = {
    service,
    startedAt: track.window.startedAt,
    endsAt: track.window.endsAt,
    requests: track.window.requests,
    nextDesired: projection.replicas,
    nextThreshold: nextThreshold(track.window.requests, policy),
    reason: projection.reason,
    history: track.history,
  };
  channel.send({ type: 'window', window: status });
}
