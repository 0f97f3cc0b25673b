// The tail of a failed replica's output (runtime/log-tail.ts): the last lines, blank ones
// skipped, long ones cut.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { lastLines } from '../../supervisor/runtime/log-tail.ts';

describe("the last lines of a replica's output", () => {
  test('the last n, blank lines and CRLF endings aside', () => {
    assert.deepEqual(lastLines('a\r\nb\n\n  \nc\nd\n', 3), ['b', 'c', 'd']);
    assert.deepEqual(lastLines('', 3), []);
  });

  test('a very long line is cut', () => {
    const [line] = lastLines(`${'x'.repeat(2000)}\n`, 1);
    assert.equal(line!.length, 501);
    assert.ok(line!.endsWith('…'));
  });
});
