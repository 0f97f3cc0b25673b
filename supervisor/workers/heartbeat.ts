// Heartbeat worker: GET the health path of every target each interval with a timeout, and tell
// the primary only when a verdict changes. Starting replicas, and replicas in a run of failures,
// are checked at the fast interval (HAProxy's `fastinter`): the first to enter rotation sooner,
// the second to confirm a failure sooner. It owns timing; it never routes nor replaces.
import { Agent, request } from 'undici';
import { SnapshotGate, type FromHeartbeat, type Target, type ToHeartbeat } from '../protocol.ts';
import { workerChannel } from './channel.ts';
import { HealthTracker, type CheckResult } from './health-tracker.ts';

export interface HeartbeatConfig {
  intervalMs: number;
  /** For starting replicas and failing ones. */
  fastIntervalMs: number;
  timeoutMs: number;
  failureThreshold: number;
}

interface Poll {
  target: Target;
  timer?: NodeJS.Timeout;
  running: boolean;
  /** A check was asked for while one ran: run another right after. */
  again: boolean;
  lastOk: boolean;
}

const channel = workerChannel<ToHeartbeat, FromHeartbeat, HeartbeatConfig>();
const config = channel.config;
const tracker = new HealthTracker(config.failureThreshold);
const gate = new SnapshotGate();
const polls = new Map<string, Poll>();
// Fresh connections would also catch a stuck accept loop, but cost a handshake per check;
// keep-alive with a short idle time is the cheaper middle.
const agent = new Agent({ keepAliveTimeout: 2000, connections: 2 });

channel.onMessage((message) => {
  if (message.type === 'targets') {
    if (gate.accept(message.version)) applyTargets(message.targets);
  } else if (message.type === 'check') {
    const poll = polls.get(message.id);
    if (poll) checkNow(poll);
  }
});

function applyTargets(targets: Target[]): void {
  const ids = new Set(targets.map((t) => t.id));
  for (const [id, poll] of polls) {
    if (ids.has(id)) continue;
    clearTimeout(poll.timer);
    polls.delete(id);
    tracker.forget(id);
  }
  for (const target of targets) {
    const poll = polls.get(target.id);
    if (poll) {
      const faster = target.phase === 'starting' && poll.target.phase !== 'starting';
      poll.target = target;
      if (faster) checkNow(poll);
    } else {
      const fresh: Poll = { target, running: false, again: false, lastOk: true };
      polls.set(target.id, fresh);
      checkNow(fresh);
    }
  }
}

function checkNow(poll: Poll): void {
  if (poll.running) {
    poll.again = true;
    return;
  }
  clearTimeout(poll.timer);
  void runCheck(poll);
}

async function runCheck(poll: Poll): Promise<void> {
  poll.running = true;
  const started = performance.now();
  const result = await check(poll.target.url);
  poll.running = false;
  poll.lastOk = result.ok;
  if (polls.get(poll.target.id) !== poll) return; // removed meanwhile
  const message = tracker.observe(poll.target.id, result);
  if (message) channel.send(message);
  if (poll.again) {
    poll.again = false;
    checkNow(poll);
    return;
  }
  const fast = poll.target.phase === 'starting' || !poll.lastOk;
  const interval = fast ? Math.min(config.fastIntervalMs, config.intervalMs) : config.intervalMs;
  const elapsed = performance.now() - started;
  poll.timer = setTimeout(() => void runCheck(poll), Math.max(0, interval - elapsed));
}

async function check(url: string): Promise<CheckResult> {
  const started = performance.now();
  const latency = () => Math.round(performance.now() - started);
  try {
    const res = await request(url, {
      dispatcher: agent,
      signal: AbortSignal.timeout(config.timeoutMs),
      headers: { 'user-agent': 'selflessacts-heartbeat' },
    });
    await res.body.dump();
    const ok = res.statusCode >= 200 && res.statusCode < 300;
    return { ok, reason: `HTTP ${res.statusCode}`, latencyMs: latency() };
  } catch (err) {
    const e = err as { name?: string; code?: string; message?: string };
    const reason =
      e.name === 'TimeoutError' || e.name === 'AbortError'
        ? `no answer within ${config.timeoutMs} ms`
        : (e.code ?? e.message ?? String(err));
    return { ok: false, reason, latencyMs: latency() };
  }
}
