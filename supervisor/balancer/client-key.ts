// Which budget a client address counts against (connections per client, rate limits), as a
// bucket index the shared memory can hold. Two rules an attacker must not be able to bend:
//   - buckets are chosen by a keyed hash (HMAC-SHA256 under a key made at each start and kept
//     in the shared memory, so every thread agrees): with an unkeyed hash, an attacker could
//     compute an address that shares a victim's bucket and spend the victim's budget;
//   - an IPv6 client counts per /64, the block one subscriber gets: otherwise one machine could
//     rotate through 2^64 addresses and never meet a limit. An IPv4-mapped IPv6 address is the
//     IPv4 address it maps.
import { createHmac } from 'node:crypto';
import { isIPv6 } from 'node:net';

/** The part of an address that names one client: an IPv4 address or an IPv6 /64 prefix. */
export function clientKey(address: string): string {
  const bare = address.includes('%') ? address.slice(0, address.indexOf('%')) : address;
  if (!isIPv6(bare)) return bare;
  const lower = bare.toLowerCase();
  if (lower.startsWith('::ffff:') && lower.includes('.')) return lower.slice(7);
  const groups = expandIPv6(lower);
  return groups === undefined
    ? lower
    : `${groups
        .slice(0, 4)
        .map((g) => g.toString(16))
        .join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address (an embedded IPv4 tail included). */
function expandIPv6(address: string): number[] | undefined {
  const [head, tail] = address.split('::') as [string, string | undefined];
  const parse = (part: string): number[] => {
    if (part === '') return [];
    const out: number[] = [];
    for (const piece of part.split(':')) {
      if (piece.includes('.')) {
        const [a, b, c, d] = piece.split('.').map(Number) as [number, number, number, number];
        out.push((a << 8) | b, (c << 8) | d);
      } else out.push(parseInt(piece, 16));
    }
    return out;
  };
  const left = parse(head);
  if (tail === undefined) return left.length === 8 ? left : undefined;
  const right = parse(tail);
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

/** Most clients come back (keep-alive, several connections): their hash is computed once. */
const CACHE_LIMIT = 4096;

export class ClientHasher {
  readonly #key: Buffer;
  /** Address → two independent 32-bit hashes (first, second). */
  readonly #cache = new Map<string, [number, number]>();

  constructor(key: Buffer) {
    if (key.length < 16) throw new Error('a client hash key needs at least 16 bytes');
    this.#key = key;
  }

  /** A 32-bit hash of the client `address` belongs to, unpredictable without the key. */
  hash(address: string): number {
    return this.pair(address)[0];
  }

  /** Two independent such hashes (a count-min sketch uses both). */
  pair(address: string): [number, number] {
    let h = this.#cache.get(address);
    if (h !== undefined) return h;
    const digest = createHmac('sha256', this.#key).update(clientKey(address)).digest();
    h = [digest.readUInt32LE(0), digest.readUInt32LE(4)];
    // Dropping the whole map when full keeps this O(1); the next hits refill it.
    if (this.#cache.size >= CACHE_LIMIT) this.#cache.clear();
    this.#cache.set(address, h);
    return h;
  }
}
