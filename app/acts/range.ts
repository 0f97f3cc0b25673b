// Which slice of a newest-first list a request asks for (spec rows 10, 12, 19, 20). Pure:
// the caller supplies the count; every 400 is decided before the 413.

export const MAX_ACTS_PER_RESPONSE = 100;

export type RangeDecision =
  | { kind: 'all' }
  | { kind: 'slice'; offset: number; limit: number }
  | { kind: 'error'; status: 400 | 413; reason: string };

/** A query value as a positive integer (BigInt: `b` may be larger than any count). */
function positive(value: unknown): bigint | undefined {
  if (typeof value !== 'string' || !/^[0-9]+$/.test(value)) return undefined;
  const n = BigInt(value);
  return n >= 1n ? n : undefined;
}

export function decideRange(start: unknown, end: unknown, count: number): RangeDecision {
  const error = (status: 400 | 413, reason: string): RangeDecision => ({ kind: 'error', status, reason });
  if (start === undefined && end === undefined) {
    return count > MAX_ACTS_PER_RESPONSE
      ? error(413, `more than ${MAX_ACTS_PER_RESPONSE} acts; ask for a range with start and end`)
      : { kind: 'all' };
  }
  if (start === undefined || end === undefined) return error(400, 'give both start and end, or neither');
  const a = positive(start);
  const b = positive(end);
  if (a === undefined || b === undefined) return error(400, 'start and end must be positive integers');
  if (a > b) return error(400, 'start must not be greater than end');
  if (b > BigInt(count)) return error(400, `end is beyond the last act (there are ${count})`);
  if (b - a + 1n > BigInt(MAX_ACTS_PER_RESPONSE))
    return error(413, `a range may hold at most ${MAX_ACTS_PER_RESPONSE} acts`);
  return { kind: 'slice', offset: Number(a - 1n), limit: Number(b - a + 1n) };
}
