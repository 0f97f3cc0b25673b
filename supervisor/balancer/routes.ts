// Path prefixes, matched on the canonical path (target.ts) the way the apps behind match
// routes: ASCII case-insensitively (Express's default) and on whole segments ("/api/v1/users"
// matches "/api/v1/users/bob" and "/api/v1/users/", not "/api/v1/usersx"). One matcher serves
// service routing (longest prefix wins), blocked paths and uncounted paths. Pure.

interface Prefix<T> {
  /** Lower-cased, no trailing slash ("" for the root). */
  folded: string;
  value: T;
}

function fold(prefix: string): string {
  const lower = prefix.toLowerCase();
  return lower.endsWith('/') ? lower.replace(/\/+$/, '') : lower;
}

/** True when `path` is `folded` or below it, comparing ASCII letters case-insensitively. */
function under(path: string, folded: string): boolean {
  const n = folded.length;
  if (path.length < n) return false;
  for (let i = 0; i < n; i++) {
    let c = path.charCodeAt(i);
    if (c >= 65 && c <= 90) c |= 0x20;
    if (c !== folded.charCodeAt(i)) return false;
  }
  return path.length === n || path.charCodeAt(n) === 47;
}

export class PrefixTable<T> {
  /** Longest first, so the first match is the most specific. */
  readonly #entries: Prefix<T>[];

  constructor(entries: Iterable<[prefix: string, value: T]>) {
    this.#entries = [...entries]
      .map(([prefix, value]) => ({ folded: fold(prefix), value }))
      .sort((a, b) => b.folded.length - a.folded.length || (a.folded < b.folded ? -1 : 1));
  }

  lookup(path: string): T | undefined {
    for (const e of this.#entries) if (under(path, e.folded)) return e.value;
    return undefined;
  }

  matches(path: string): boolean {
    return this.lookup(path) !== undefined;
  }
}

/** Paths given as a list (blocked, uncounted): does the path fall under any of them? */
export function pathSet(paths: readonly string[]): PrefixTable<true> {
  return new PrefixTable(paths.map((p) => [p, true as const]));
}
