// Which slice a listing request asks for (rows 10, 12, 19, 20): every 400 before the 413.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decideRange, type RangeDecision } from '../../app/acts/range.ts';

const all: RangeDecision = { kind: 'all' };
const slice = (offset: number, limit: number): RangeDecision => ({ kind: 'slice', offset, limit });

describe('decideRange', () => {
  const cases: [string, unknown, unknown, number, RangeDecision | 400 | 413][] = [
    ['no range, 0 acts → everything (the route answers 204)', undefined, undefined, 0, all],
    ['no range, 100 acts → everything', undefined, undefined, 100, all],
    ['no range, 101 acts → 413', undefined, undefined, 101, 413],
    ['1..100 of 105 → the first 100', '1', '100', 105, slice(0, 100)],
    ['100..105 of 105 → the last 6', '100', '105', 105, slice(99, 6)],
    ['5..5 → one act', '5', '5', 10, slice(4, 1)],
    ['leading zeros are still positive integers', '01', '002', 10, slice(0, 2)],
    ['1..101 of 105 → 413', '1', '101', 105, 413],
    ['1..106 of 105 → 400: b > count comes before the 413', '1', '106', 105, 400],
    ['b far beyond any count → 400', '1', '1'.repeat(40), 105, 400],
    ['a > b → 400, even 100 apart', '105', '1', 105, 400],
    ['a = 0 → 400', '0', '5', 105, 400],
    ['a negative → 400', '-1', '5', 105, 400],
    ['a fraction → 400', '1', '2.0', 105, 400],
    ['a plus sign → 400', '+1', '2', 105, 400],
    ['empty → 400', '', '2', 105, 400],
    ['a repeated parameter (an array) → 400', ['1', '2'], '5', 105, 400],
    ['only a → 400', '1', undefined, 105, 400],
    ['only b → 400', undefined, '1', 105, 400],
    ['any range of 0 acts → 400', '1', '1', 0, 400],
  ];
  for (const [name, start, end, count, expected] of cases) {
    test(name, () => {
      const decision = decideRange(start, end, count);
      if (typeof expected === 'number') {
        assert.equal(decision.kind, 'error');
        assert.equal((decision as { status: number }).status, expected);
      } else {
        assert.deepEqual(decision, expected);
      }
    });
  }
});

describe('decideRange: each refusal says what to fix (the {"error"} the client reads)', () => {
  const reasons: [string, unknown, unknown, number, 400 | 413, string][] = [
    [
      'too many without a range',
      undefined,
      undefined,
      101,
      413,
      'more than 100 acts; ask for a range with start and end',
    ],
    ['only start', '1', undefined, 5, 400, 'give both start and end, or neither'],
    ['only end', undefined, '1', 5, 400, 'give both start and end, or neither'],
    ['only end, not even a number', undefined, 'x', 5, 400, 'give both start and end, or neither'],
    ['not a positive integer', '0', '1', 5, 400, 'start and end must be positive integers'],
    ['a one-element array is not a string', ['3'], '4', 5, 400, 'start and end must be positive integers'],
    ['start after end', '3', '2', 5, 400, 'start must not be greater than end'],
    ['beyond the count', '1', '6', 5, 400, 'end is beyond the last act (there are 5)'],
    ['too wide', '1', '101', 200, 413, 'a range may hold at most 100 acts'],
  ];
  for (const [name, start, end, count, status, reason] of reasons) {
    test(name, () => assert.deepEqual(decideRange(start, end, count), { kind: 'error', status, reason }));
  }
});
