import { createHash } from 'node:crypto';

/** The lookup key of an unbounded string: SHA-256 of its exact UTF-8 bytes, as hex. */
export function keyOf(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}
