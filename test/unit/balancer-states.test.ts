// The balancer's two state machines, as tables (issue 26 item 3): an upstream connection's
// states (upstream.ts, CONNECTION_MOVES) and a proxy exchange's phases (exchange.ts,
// EXCHANGE_MOVES). Each object throws on a move its table does not list, so the suites that
// drive real traffic through them (balancer, abuse, faults, the raw-TCP matrix) check the moves
// taken; this checks the tables themselves.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EXCHANGE_MOVES, type ExchangePhase } from '../../supervisor/balancer/exchange.ts';
import { CONNECTION_MOVES, type ConnectionState } from '../../supervisor/balancer/upstream.ts';

/** Every state a table's moves lead to from `start`, `start` included. */
function reachable<S extends string>(moves: Readonly<Record<S, readonly S[]>>, start: S): S[] {
  const seen = new Set<S>([start]);
  for (const from of seen) for (const to of moves[from]) seen.add(to);
  return [...seen].sort();
}

describe("an upstream connection's moves", () => {
  test('closed is final, every other state can close, and each is reached from connecting', () => {
    assert.deepEqual(CONNECTION_MOVES.closed, []);
    const states = Object.keys(CONNECTION_MOVES) as ConnectionState[];
    for (const state of states) if (state !== 'closed') assert.ok(CONNECTION_MOVES[state].includes('closed'), state);
    assert.deepEqual(reachable(CONNECTION_MOVES, 'connecting'), [...states].sort());
    // A response is read only after its request went out, and a connection is given back only
    // after a response ended: no shortcut from idle or connecting to a body.
    assert.ok(!CONNECTION_MOVES.idle.includes('reading-body'));
    assert.ok(!CONNECTION_MOVES.connecting.includes('reading-body'));
    assert.ok(!CONNECTION_MOVES['reading-body'].includes('idle'));
  });
});

describe("a proxy exchange's moves", () => {
  test('done is final, every other phase can end, each is reached from waiting, and a head is never taken back', () => {
    assert.deepEqual(EXCHANGE_MOVES.done, []);
    const phases = Object.keys(EXCHANGE_MOVES) as ExchangePhase[];
    for (const phase of phases) if (phase !== 'done') assert.ok(EXCHANGE_MOVES[phase].includes('done'), phase);
    assert.deepEqual(reachable(EXCHANGE_MOVES, 'waiting'), [...phases].sort());
    // Once the client has a head, only the end is left: no retry, no other answer.
    assert.deepEqual(EXCHANGE_MOVES.responding, ['done']);
    // A replica is tried only with the whole body in hand.
    assert.ok(!EXCHANGE_MOVES.receiving.includes('responding'));
  });
});
