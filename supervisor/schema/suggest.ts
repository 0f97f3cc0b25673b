// "did you mean" for a key the schema does not know: the nearest known key at the same level,
// when it is near enough to be a slip of the fingers (edit distance from fastest-levenshtein,
// a small, much-used library, rather than our own).
import { distance } from 'fastest-levenshtein';

/** ' (did you mean "startPort"?)' for "startport", or '' when nothing is close. */
export function didYouMean(given: string, known: Iterable<string>): string {
  const lower = given.toLowerCase();
  let best: { key: string; d: number } | undefined;
  for (const key of known) {
    const candidate = key.toLowerCase();
    const d = candidate === lower ? 0 : swapped(lower, candidate) ? 1 : distance(lower, candidate) + 0.5;
    if (best === undefined || d < best.d) best = { key, d };
  }
  // Within a third of the word (at least 2 edits): "heartbaet" finds heartbeat, "port" alone does not find "ports" of
  // another level.
  if (!best || best.d > Math.max(2, Math.ceil(given.length / 3)) + 0.5) return '';
  return ` (did you mean "${best.key}"?)`;
}

/** Two neighbouring letters swapped ("stauts" for "status"): one slip, though Levenshtein counts two. */
function swapped(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  const differ = [...a].flatMap((ch, i) => (ch === b[i] ? [] : [i]));
  return (
    differ.length === 2 &&
    differ[1] === differ[0]! + 1 &&
    a[differ[0]!] === b[differ[1]!] &&
    a[differ[1]!] === b[differ[0]!]
  );
}

/** Keys of a nested convict-style schema at `path` ("runtimes.docker"), or [] when it leads nowhere. */
export function schemaKeysAt(schema: object, path: string[]): string[] {
  let node: unknown = schema;
  for (const part of path) {
    node = (node as Record<string, unknown> | undefined)?.[part];
    if (typeof node !== 'object' || node === null || 'format' in node) return [];
  }
  return Object.keys(node as object);
}
