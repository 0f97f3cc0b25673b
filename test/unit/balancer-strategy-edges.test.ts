// The strategies at their edges: which outcomes make a replica suspect, the panic threshold
// exactly at its share, members that are starting (neither live nor ready), a round robin that
// ignores load where least-outstanding follows it, and every member suspect at once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SharedLayout, SharedState } from '../../supervisor/balancer/shared-state.ts';
import {
  createStrategy,
  LeastOutstanding,
  RoundRobin,
  STRATEGIES,
  type AttemptOutcome,
  type Member,
  type StrategyName,
} from '../../supervisor/balancer/strategy.ts';

const EPOCH = 1_700_000_000_000;

function setUp(name: StrategyName, panicThresholdPercent = 50) {
  const layout = new SharedLayout({
    services: [{ name: 'acts', startPort: 8000, ports: 10 }],
    threads: 1,
    clientBuckets: 64,
  });
  const shared = new SharedState(layout.create(), layout, 0, EPOCH);
  const clock = { now: () => EPOCH };
  const strategy = createStrategy<Member>(name, {
    shared,
    service: layout.serviceIndex('acts'),
    clock,
    suspectMs: 1000,
    suspectAfter5xx: 2,
    panicThresholdPercent,
  });
  /** ready: in rotation; 'out': alive, held out of rotation; 'starting': neither. */
  const member = (id: string, port: number, state: true | 'out' | 'starting' = true): Member => ({
    id,
    port,
    slot: layout.slotOf('acts', port),
    ready: state === true,
    live: state !== 'starting',
  });
  return { strategy, member };
}

test('the strategies by name', () => {
  assert.deepEqual(STRATEGIES, ['round-robin', 'least-outstanding']);
  const rr = setUp('round-robin').strategy;
  const lor = setUp('least-outstanding').strategy;
  assert.ok(rr instanceof RoundRobin && rr.name === 'round-robin');
  assert.ok(lor instanceof LeastOutstanding && lor.name === 'least-outstanding');
});

test('refused, reset and timed-out attempts make a replica suspect at once; an overloaded queue or a client that left do not', () => {
  for (const [outcome, suspect] of [
    ['refused', true],
    ['reset', true],
    ['timeout', true],
    ['overloaded', false],
    ['cancelled', false],
    ['ok', false],
  ] as Array<[AttemptOutcome, boolean]>) {
    const { strategy, member } = setUp('round-robin');
    const a = member('a', 8000);
    strategy.setMembers([a]);
    assert.equal(strategy.acquire(), a);
    assert.equal(strategy.release(a, outcome), suspect, outcome);
  }
});

test('the panic threshold: not at the share itself, only below it; starting members are not live', () => {
  const { strategy, member } = setUp('round-robin', 50);
  assert.equal(strategy.panic, false, 'no members yet: no panic');
  assert.equal(strategy.size, 0);
  strategy.setMembers([member('a', 8000), member('b', 8001, 'out')]);
  assert.equal(strategy.panic, false, '1 of 2 live in rotation is 50 %: not below 50 %');
  assert.equal(strategy.eligibleCount, 1, 'the one held out is not eligible');
  strategy.setMembers([member('a', 8000), member('b', 8001, 'out'), member('c', 8002, 'out')]);
  assert.equal(strategy.panic, true, '1 of 3 is below');
  assert.equal(strategy.eligibleCount, 3);
  assert.equal(strategy.size, 3);
  strategy.setMembers([member('a', 8000), member('s1', 8001, 'starting'), member('s2', 8002, 'starting')]);
  assert.equal(strategy.panic, false, 'starting members do not count as live');
  assert.equal(strategy.eligibleCount, 1);
});

test('round robin takes its turn whatever the load; least-outstanding goes to the idle member', () => {
  for (const [name, expected] of [
    ['round-robin', 'a'],
    ['least-outstanding', 'b'],
  ] as const) {
    const { strategy, member } = setUp(name);
    const [a, b] = [member('a', 8000), member('b', 8001)];
    strategy.setMembers([a, b]);
    assert.equal(strategy.acquire(), a); // a: 1 in flight, kept
    assert.equal(strategy.acquire(), b);
    strategy.release(b, 'ok'); // b idle again; the cursor is on b, so a's turn is next
    assert.equal(strategy.acquire()?.id, expected, name);
  }
});

test('when every member is suspect, one is still tried rather than none', () => {
  const { strategy, member } = setUp('round-robin');
  const [a, b] = [member('a', 8000), member('b', 8001)];
  strategy.setMembers([a, b]);
  strategy.release(strategy.acquire()!, 'refused');
  strategy.release(strategy.acquire()!, 'refused');
  const fallback = strategy.acquire();
  assert.ok(fallback === a || fallback === b, 'a suspect member rather than a 503');
});
