// The edge's refusals in the log: the first at once, then a line a minute at most per client and
// kind, with the count; memory bounded however many clients are refused.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RefusalLog, type Refusal } from '../../supervisor/balancer/refusal-log.ts';

test('a flood of refusals is one line a minute per client and kind, counted', () => {
  const lines: Refusal[] = [];
  const log = new RefusalLog((r) => lines.push(r));
  for (let i = 0; i < 500; i++) log.note('rate-limited', '192.0.2.1', 'log-in and sign-up attempts', 1000 + i);
  log.note('connections-capped', '192.0.2.1', 'connections', 1000);
  log.note('rate-limited', '192.0.2.2', 'requests', 1000);
  assert.deepEqual(
    lines.map((l) => [l.event, l.client, l.refusals]),
    [
      ['rate-limited', '192.0.2.1', 1],
      ['connections-capped', '192.0.2.1', 1],
      ['rate-limited', '192.0.2.2', 1],
    ],
  );
  log.note('rate-limited', '192.0.2.1', 'requests', 61_500);
  assert.deepEqual(lines.at(-1), { event: 'rate-limited', client: '192.0.2.1', what: 'requests', refusals: 500 });
});

test('memory stays bounded: the oldest clients go, their unreported counts said as they go', () => {
  const lines: Refusal[] = [];
  const log = new RefusalLog((r) => lines.push(r));
  log.note('rate-limited', '10.0.0.1', 'requests', 0);
  log.note('rate-limited', '10.0.0.1', 'requests', 1);
  for (let i = 2; i < 2000; i++) log.note('rate-limited', `10.1.${i >> 8}.${i & 255}`, 'requests', 2);
  assert.ok(
    lines.some((l) => l.client === '10.0.0.1' && l.refusals === 1 && lines.indexOf(l) > 0),
    "the dropped client's second refusal was reported",
  );
  assert.equal(lines.filter((l) => l.client === '10.0.0.1').length, 2);
});
