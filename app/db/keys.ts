import { createHash } from 'node:crypto';

/** The lookup key of an unbounded string: SHA-256 of its exact UTF-8 bytes, as hex. */
export function keyOf(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/**
 * Who owns an act or an upvote: an account, not a name. A name deleted and registered again is
 * another account (its generation counts the earlier holders), and owns nothing of theirs.
 * Generation 0, the first holder of a name (and every account from before generations were
 * counted), keys as the name itself, so rows stored by name before stay theirs. A later
 * generation hashes in a domain no name's key can reach: its input starts with 0xFF, a byte no
 * UTF-8 encoding of a string contains.
 */
export function accountKey(username: string, generation: number): string {
  if (generation === 0) return keyOf(username);
  return createHash('sha256')
    .update(Buffer.of(0xff))
    .update(`${generation}\u0000`, 'utf8')
    .update(username, 'utf8')
    .digest('hex');
}
