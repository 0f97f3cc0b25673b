// The Heartbeat class with a fake clock and a fake probe: when each replica is checked (at once,
// at the fast interval while starting or failing, at the interval when healthy, at once when
// the balancer asks), and which verdicts it sends (changes only). No thread, no socket.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Heartbeat, type HeartbeatConfig } from '../../supervisor/heartbeat/heartbeat.ts';
import type { CheckResult } from '../../supervisor/heartbeat/health-tracker.ts';
import type { HealthMessage, LatencyReport, Target } from '../../supervisor/core/protocol.ts';
import { FakeClock, settle } from '../helpers/fake-clock.ts';

const CONFIG: HeartbeatConfig = {
  intervalMs: 1000,
  fastIntervalMs: 200,
  timeoutMs: 800,
  failureThreshold: 3,
  livenessTimeoutMs: 5000,
};
const OK: CheckResult = { ok: true, reason: 'HTTP 200', latencyMs: 1 };
const DOWN: CheckResult = { ok: false, reason: 'ECONNREFUSED', latencyMs: 1 };

function target(id: string, phase: Target['phase'] = 'ready'): Target {
  return {
    id,
    service: 'acts',
    port: 8000,
    url: `http://127.0.0.1/${id}/health`,
    liveUrl: `http://127.0.0.1/${id}/live`,
    phase,
    since: 0,
  };
}

/**
 * A heartbeat whose probe answers from `script` (by replica id, in order; the last repeats), and
 * the liveness checks from `options.life` (OK when not given).
 */
function rig(
  script: Record<string, CheckResult[]>,
  options: { probeMs?: number; life?: Record<string, CheckResult[]> } = {},
) {
  const clock = new FakeClock(0);
  const checks: Array<{ id: string; at: number }> = [];
  const lifeChecks: Array<{ id: string; at: number; timeoutMs: number }> = [];
  const lifeSeen = new Map<string, number>();
  const sent: HealthMessage[] = [];
  const latencies: LatencyReport[] = [];
  const seen = new Map<string, number>();
  let gate: Promise<void> | undefined;
  const heartbeat = new Heartbeat({
    config: CONFIG,
    clock,
    send: (m) => (m.type === 'health' ? sent.push(m) : latencies.push(m)),
    probe: async (url, timeoutMs) => {
      const id = url.split('/')[3]!;
      if (url.endsWith('/live')) {
        lifeChecks.push({ id, at: clock.now(), timeoutMs });
        const n = lifeSeen.get(id) ?? 0;
        lifeSeen.set(id, n + 1);
        const answers = options.life?.[id] ?? [OK];
        return answers[Math.min(n, answers.length - 1)]!;
      }
      checks.push({ id, at: clock.now() });
      const n = seen.get(id) ?? 0;
      seen.set(id, n + 1);
      if (options.probeMs) await new Promise<void>((resolve) => clock.after(options.probeMs!, resolve));
      if (gate !== undefined) await gate;
      const answers = script[id] ?? [OK];
      return answers[Math.min(n, answers.length - 1)]!;
    },
  });
  let version = 0;
  return {
    clock,
    heartbeat,
    sent,
    latencies,
    at: (id: string) => checks.filter((c) => c.id === id).map((c) => c.at),
    lifeAt: (id: string) => lifeChecks.filter((c) => c.id === id).map((c) => c.at),
    lifeChecks,
    targets: (...targets: Target[]) => heartbeat.applyTargets({ type: 'targets', version: ++version, targets }),
    hold(): () => void {
      let release!: () => void;
      gate = new Promise((resolve) => (release = resolve));
      return () => {
        gate = undefined;
        release();
      };
    },
  };
}

describe('heartbeat: when replicas are checked', () => {
  test('a new starting replica: at once, then every fastIntervalMs; once ready, every intervalMs from its last check', async () => {
    const r = rig({});
    r.targets(target('a', 'starting'));
    await r.clock.advance(500);
    assert.deepEqual(r.at('a'), [0, 200, 400]);
    r.targets(target('a', 'ready'));
    await r.clock.advance(3000);
    assert.deepEqual(
      r.at('a'),
      [0, 200, 400, 1400, 2400, 3400],
      'the fast check due at 600 is not run: a ready replica waits the interval',
    );
  });

  test('ready while its check runs: the next one an interval after that check started', async () => {
    const r = rig({}, { probeMs: 50 });
    r.targets(target('a', 'starting'));
    await r.clock.advance(220); // the check at 200 is still running
    r.targets(target('a', 'ready'));
    await r.clock.advance(1500);
    assert.deepEqual(r.at('a'), [0, 200, 1200]);
  });

  test('a failing ready replica is re-checked at the fast interval: failed at the threshold in interval + 2 × fast when its liveness check fails too', async () => {
    const r = rig({ a: [OK, DOWN] }, { life: { a: [DOWN] } });
    r.targets(target('a'));
    await r.clock.advance(1400);
    assert.deepEqual(r.at('a'), [0, 1000, 1200, 1400]);
    assert.deepEqual(r.lifeAt('a'), [1000, 1200, 1400], 'a liveness check after each failed health check');
    assert.ok(
      r.lifeChecks.every((c) => c.timeoutMs === CONFIG.livenessTimeoutMs),
      'with the liveness timeout',
    );
    assert.deepEqual(
      r.sent.map((m) => [m.verdict, m.consecutiveFailures, m.cause]),
      [
        ['ok', 0, undefined],
        ['failing', 1, undefined],
        ['failing', 2, undefined],
        ['failing', 3, undefined],
        ['failed', 3, 'dead'],
      ],
    );
  });

  test('a replica whose health check fails but whose liveness check passes is unready, never failed', async () => {
    const r = rig({ a: [OK, DOWN] });
    r.targets(target('a'));
    await r.clock.advance(3000);
    assert.deepEqual(
      r.sent.map((m) => m.verdict),
      ['ok', 'failing', 'failing', ...Array(r.sent.length - 3).fill('unready')],
    );
    assert.ok(r.sent.length >= 5, 'each failure in the run is reported with its count');
  });

  test('unanswered health checks and an unanswered liveness check: failed, stuck', async () => {
    const LATE: CheckResult = { ok: false, reason: 'no answer within 800 ms', latencyMs: 800, timedOut: true };
    const STUCK: CheckResult = { ok: false, reason: 'no answer within 5000 ms', latencyMs: 5000, timedOut: true };
    const r = rig({ a: [OK, LATE] }, { life: { a: [STUCK] } });
    r.targets(target('a'));
    await r.clock.advance(1000);
    assert.deepEqual(
      r.sent.map((m) => [m.verdict, m.cause]),
      [
        ['ok', undefined],
        ['failing', undefined],
        ['failed', 'stuck'],
      ],
    );
  });

  test('a starting replica gets no liveness check: its start timeout governs it', async () => {
    const r = rig({ a: [DOWN] }, { life: { a: [DOWN] } });
    r.targets(target('a', 'starting'));
    await r.clock.advance(1000);
    assert.ok(r.at('a').length >= 5);
    assert.deepEqual(r.lifeAt('a'), []);
  });

  test('one that recovers says ok once and goes back to the normal interval', async () => {
    const r = rig({ a: [OK, DOWN, OK] });
    r.targets(target('a'));
    await r.clock.advance(3300);
    assert.deepEqual(r.at('a'), [0, 1000, 1200, 2200, 3200]);
    assert.deepEqual(r.lifeAt('a'), [1000], 'one liveness check, after the failed one');
    assert.deepEqual(
      r.sent.map((m) => m.verdict),
      ['ok', 'failing', 'ok'],
    );
  });

  test('the time a check takes counts toward the interval: checks start every intervalMs, not interval + latency', async () => {
    const r = rig({}, { probeMs: 300 });
    r.targets(target('a'));
    await r.clock.advance(2500);
    assert.deepEqual(r.at('a'), [0, 1000, 2000]);
  });

  test('a check the balancer asks for runs at once; asked again while one runs, one more follows right after', async () => {
    const r = rig({});
    r.targets(target('a'));
    await r.clock.advance(100);
    const release = r.hold();
    r.heartbeat.check('a');
    await settle();
    r.heartbeat.check('a');
    r.heartbeat.check('a');
    assert.deepEqual(r.at('a'), [0, 100]);
    release();
    await settle();
    assert.deepEqual(r.at('a'), [0, 100, 100], 'two asks during a check fold into one more');
    await r.clock.advance(1000);
    assert.deepEqual(r.at('a'), [0, 100, 100, 1100], 'then the normal interval');
    r.heartbeat.check('unknown');
  });

  test('a check the balancer asks for is reported even when the verdict stays ok (the primary clears the suspect mark); unasked ones are not', async () => {
    const r = rig({});
    r.targets(target('a'));
    await r.clock.advance(1500);
    assert.deepEqual(
      r.sent.map((m) => m.verdict),
      ['ok'],
      'the scheduled checks say nothing new',
    );
    r.heartbeat.check('a');
    await settle();
    assert.deepEqual(
      r.sent.map((m) => [m.verdict, m.consecutiveFailures]),
      [
        ['ok', 0],
        ['ok', 0],
      ],
    );
    await r.clock.advance(1000);
    assert.equal(r.sent.length, 2, 'the next scheduled check is silent again');
  });

  test('a replica that leaves the targets is checked no more; an older snapshot changes nothing', async () => {
    const r = rig({});
    r.targets(target('a'), target('b'));
    await r.clock.advance(1000);
    r.targets(target('b'));
    r.heartbeat.applyTargets({ type: 'targets', version: 1, targets: [target('a'), target('b')] });
    await r.clock.advance(2000);
    assert.deepEqual(r.at('a'), [0, 1000]);
    assert.deepEqual(r.at('b'), [0, 1000, 2000, 3000]);
    r.heartbeat.stop();
    await r.clock.advance(5000);
    assert.equal(r.at('b').length, 4, 'nothing after stop');
    assert.equal(r.clock.pending, 0);
  });

  test('a replica that goes back to starting is checked at once, then fast', async () => {
    const r = rig({});
    r.targets(target('a'));
    await r.clock.advance(100);
    r.targets(target('a', 'starting'));
    await r.clock.advance(250);
    assert.deepEqual(r.at('a'), [0, 100, 300]);
  });

  test('latencies: the latest of each replica, at most one report per interval, with no timer of their own', async () => {
    const r = rig({ a: [{ ...OK, latencyMs: 7 }], b: [{ ...OK, latencyMs: 3 }] });
    r.targets(target('a', 'starting'), target('b'));
    await r.clock.advance(2500);
    assert.ok(r.latencies.length >= 2 && r.latencies.length <= 3, JSON.stringify(r.latencies));
    assert.deepEqual(r.latencies[0], { type: 'latencies', latencyMs: { a: 7 } }, 'the first check reports at once');
    assert.ok(
      r.latencies.slice(1).every((l) => l.latencyMs.b === 3),
      'b is in every later report',
    );
    r.heartbeat.stop();
    assert.equal(r.clock.pending, 0);
  });
});
