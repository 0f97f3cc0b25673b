// What an attacker could do against rate-limit buckets chosen by an unkeyed hash (FNV-1a, as
// they were): compute addresses that land in a victim's bucket. The tests show those addresses
// no longer share anything with the victim.

export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** `count` IPv4 addresses (10.x.y.z) in the same one of `buckets` as `victim` under FNV-1a. */
export function fnvCollisions(victim: string, buckets: number, count: number): string[] {
  const want = fnv1a(victim) & (buckets - 1);
  const out: string[] = [];
  for (let i = 0; out.length < count && i < 1 << 24; i++) {
    const address = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    if ((fnv1a(address) & (buckets - 1)) === want) out.push(address);
  }
  return out;
}
