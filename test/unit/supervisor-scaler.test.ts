// The Scaler class with a fake clock and fake shared counters: when windows open, follow each
// other and close; that a window's last requests are read at its end (no flush round trip);
// what it sends; damping against the current count; adoption and a restart's replay.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ServiceCount } from '../../supervisor/balancer/shared-state.ts';
import type { PolicySettings } from '../../supervisor/scaler/policy.ts';
import { Scaler } from '../../supervisor/scaler/scaler.ts';
import type { ScaleMessage, WindowMessage, WindowStatus } from '../../supervisor/core/protocol.ts';
import { FakeClock } from '../helpers/fake-clock.ts';

const T0 = 1_700_000_000_000;
const POLICY: PolicySettings = { windowSeconds: 10, requestsPerReplica: 20, dampingWindows: 0, min: 1, max: 5 };

function rig(policies: Record<string, PolicySettings> = { acts: POLICY }) {
  const clock = new FakeClock(T0);
  /** Requests the balancer threads counted since the scaler last took them. */
  let pending: Record<string, ServiceCount> = {};
  const takes: number[] = [];
  const sent: Array<WindowMessage | ScaleMessage> = [];
  const scaler = new Scaler({
    policies,
    clock,
    pollMs: 1000,
    send: (m) => sent.push(m),
    counts: {
      take: (now) => {
        takes.push(now - T0);
        const taken = pending;
        pending = {};
        return taken;
      },
    },
  });
  return {
    clock,
    scaler,
    sent,
    takes,
    /** `n` requests to `service` now (the balancer counted them). */
    request(n: number, service = 'acts') {
      const p = pending[service];
      pending[service] = { count: (p?.count ?? 0) + n, firstAt: p?.firstAt ?? clock.now() };
    },
    scales: () =>
      sent
        .filter((m): m is ScaleMessage => m.type === 'scale')
        .map((m) => ({ at: m.windowEndsAt - T0, desired: m.desired, requests: m.requests, code: m.code })),
    lastWindow: () => sent.filter((m): m is WindowMessage => m.type === 'window').at(-1)!.window,
  };
}

describe('scaler: windows', () => {
  test('the first window opens at the first counted request and lasts windowSeconds; its status follows the counts', async () => {
    const r = rig();
    r.scaler.start();
    await r.clock.advance(2300);
    assert.equal(r.sent.length, 0, 'no request, no window');
    r.request(5);
    await r.clock.advance(700); // the poll at 3000 takes them
    const w = r.lastWindow() as WindowStatus;
    assert.deepEqual(
      [
        w.startedAt - T0,
        w.endsAt - T0,
        w.requests,
        w.nextDesired,
        w.nextThreshold,
        w.windowSeconds,
        w.requestsPerReplica,
      ],
      [2300, 12_300, 5, 1, 20, 10, 20],
    );
  });

  test("20 requests → 2 replicas at the window's end, the last ones read then, not at the next poll", async () => {
    const r = rig();
    r.scaler.start();
    r.request(1);
    await r.clock.advance(1000);
    r.request(18);
    await r.clock.advance(8999); // to 9999: one millisecond before the end
    r.request(1);
    await r.clock.advance(1);
    assert.deepEqual(r.scales(), [{ at: 10_000, desired: 2, requests: 20, code: 'load' }]);
    assert.ok(r.takes.includes(10_000), 'counts taken at the end itself');
  });

  test('windows follow without gaps; a quiet one scales down; at the minimum and idle, windowing stops', async () => {
    const r = rig();
    r.scaler.start();
    r.request(45);
    await r.clock.advance(10_000);
    r.scaler.setCurrent({ acts: 3 });
    await r.clock.advance(10_000);
    r.scaler.setCurrent({ acts: 1 });
    await r.clock.advance(30_000);
    assert.deepEqual(r.scales(), [
      { at: 10_000, desired: 3, requests: 45, code: 'load' },
      { at: 20_000, desired: 1, requests: 0, code: 'load' },
    ]);
    assert.deepEqual(r.lastWindow(), { service: 'acts', closed: true });
    r.request(3);
    await r.clock.advance(1000);
    const w = r.lastWindow() as WindowStatus;
    assert.equal(w.startedAt - T0, 50_000, 'the next request opens a new series');
  });

  test('damping holds a scale-down at the highest recent recommendation, never above the current count', async () => {
    const r = rig({ acts: { ...POLICY, dampingWindows: 1 } });
    r.scaler.start();
    r.request(60);
    await r.clock.advance(10_000);
    r.scaler.setCurrent({ acts: 4 });
    await r.clock.advance(10_000);
    await r.clock.advance(10_000);
    assert.deepEqual(
      r.scales().map((s) => [s.desired, s.code]),
      [
        [4, 'load'],
        [4, 'held-by-damping'],
        [1, 'load'],
      ],
    );
  });

  test('a service not autoscaled is not windowed', async () => {
    const r = rig();
    r.scaler.start();
    r.request(50, 'users');
    await r.clock.advance(30_000);
    assert.deepEqual(r.sent, []);
  });
});

describe('scaler: adoption and restart', () => {
  test('open-window (adopted above the minimum): an idle window brings the service down', async () => {
    const r = rig();
    r.scaler.start();
    r.scaler.setCurrent({ acts: 3 });
    r.scaler.openWindow('acts', T0 + 500);
    r.scaler.openWindow('acts', T0 + 900); // one is open already: ignored
    await r.clock.advance(10_500);
    assert.deepEqual(r.scales(), [{ at: 10_500, desired: 1, requests: 0, code: 'load' }]);
  });

  test('resume: a restarted scaler goes on with the window it last reported, requests and history included', async () => {
    const first = rig({ acts: { ...POLICY, dampingWindows: 2 } });
    first.scaler.start();
    first.request(30);
    await first.clock.advance(4000);
    const reported = first.lastWindow() as WindowStatus;
    first.scaler.stop();

    const second = rig({ acts: { ...POLICY, dampingWindows: 2 } });
    second.request(2); // counted while the scaler was down: they belong to the resumed window
    second.scaler.resume([{ ...reported, history: [3] }], { acts: 3 });
    await second.clock.advance(10_000);
    assert.deepEqual(
      second.scales().map((s) => [s.requests, s.desired, s.code]),
      [[32, 3, 'held-by-damping']],
    );
  });

  test('stop: nothing more is taken or sent', async () => {
    const r = rig();
    r.scaler.start();
    r.request(5);
    await r.clock.advance(1000);
    r.scaler.stop();
    const sent = r.sent.length;
    await r.clock.advance(60_000);
    assert.equal(r.sent.length, sent);
    assert.equal(r.clock.pending, 0);
  });
});
