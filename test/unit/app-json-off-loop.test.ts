// A large JSON body is parsed on a worker thread: the call that hands it over returns before
// the parse has happened, so the replica's event loop keeps serving meanwhile. Measured as a
// ratio in the same process (hand-over vs the same parse done inline), which machine noise
// moves far less than a latency bound.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseJsonBody } from '../../app/http/json-parse.ts';
import { INLINE_PARSE_BYTES, parseJsonBodyAsync } from '../../app/http/json-pool.ts';

/** A row 15 body whose parse costs tens of milliseconds: many members, each a long string. */
function bigBody(): Uint8Array {
  const members = Array.from({ length: 400 }, (_, i) => `"k${i}":"${'x'.repeat(20_000)}"`);
  return new TextEncoder().encode(`{${members.join(',')},"actId":9007199254740993}`);
}

test('a large body is handed to the worker: the call returns before the parse, the value comes exact', async (t) => {
  const bytes = bigBody();
  assert.ok(bytes.length > INLINE_PARSE_BYTES * 10);
  await parseJsonBodyAsync(bigBody()); // the worker's boot is not what is measured
  const inline: number[] = [];
  const handOver: number[] = [];
  for (let round = 0; round < 3; round++) {
    let started = performance.now();
    parseJsonBody(bigBody());
    inline.push(performance.now() - started);
    const body = bigBody();
    started = performance.now();
    const pending = parseJsonBodyAsync(body);
    handOver.push(performance.now() - started);
    const value = (await pending) as Record<string, unknown>;
    assert.equal(JSON.stringify(value.actId), '9007199254740993', 'numbers exact');
    assert.equal((value.k399 as string).length, 20_000);
  }
  const ratio = Math.min(...handOver) / Math.min(...inline);
  t.diagnostic(`hand-over ${ratio.toFixed(3)}× an inline parse`);
  assert.ok(
    ratio < 0.25,
    `handing over took ${ratio.toFixed(2)}× an inline parse (${handOver.map((ms) => ms.toFixed(1)).join(', ')} vs ${inline.map((ms) => ms.toFixed(1)).join(', ')} ms)`,
  );
});

test('a small body is parsed at once, without waiting for a thread', async () => {
  const value = (await parseJsonBodyAsync(new TextEncoder().encode('["a",1]'))) as unknown[];
  assert.equal(value[0], 'a');
  assert.equal(JSON.stringify(value[1]), '1');
});
