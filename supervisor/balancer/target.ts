// The request target a replica will see, decided once: routing, the admin gate, blocked paths
// and static files all look at this same canonical path, and it is what gets forwarded. So no
// spelling can be routed one way and understood another way by the app behind.
//
// Canonical form (RFC 3986 §6.2.2): percent-escapes of unreserved characters decoded, other
// escapes upper-cased, runs of slashes collapsed, dot segments removed. Refused with a reason
// (the caller answers 400): anything but origin-form, bytes outside visible ASCII, a malformed
// escape, an encoded slash, backslash or NUL (apps disagree on what those mean), a fragment.

export type Target = { path: string; query: string } | { error: string };

const HEX = '0123456789ABCDEF';

function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  const lower = code | 0x20;
  if (lower >= 97 && lower <= 102) return lower - 87;
  return -1;
}

/** RFC 3986 unreserved: ALPHA / DIGIT / "-" / "." / "_" / "~". */
function isUnreserved(code: number): boolean {
  return (
    (code >= 97 && code <= 122) ||
    (code >= 65 && code <= 90) ||
    (code >= 48 && code <= 57) ||
    code === 45 ||
    code === 46 ||
    code === 95 ||
    code === 126
  );
}

export function canonicalTarget(raw: string): Target {
  if (raw.charCodeAt(0) !== 47 /* / */) {
    return {
      error:
        raw === '*'
          ? 'the asterisk-form target is not accepted here'
          : 'only origin-form request targets (starting with "/") are accepted',
    };
  }
  const q = raw.indexOf('?');
  const rawPath = q === -1 ? raw : raw.slice(0, q);
  const query = q === -1 ? '' : raw.slice(q);
  for (let i = q === -1 ? raw.length : q; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f || c === 35 /* # */)
      return { error: 'the query has a byte that must be percent-encoded' };
  }
  // The common case: nothing to decode, no slash runs, no dot segment: the raw path is canonical.
  let plain = true;
  for (let i = 0; i < rawPath.length; i++) {
    const c = rawPath.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f || c === 35 || c === 92 /* \ */) {
      return {
        error:
          c === 92 ? 'a backslash in the path is not accepted' : 'the path has a byte that must be percent-encoded',
      };
    }
    if (
      c === 37 /* % */ ||
      (c === 47 && rawPath.charCodeAt(i + 1) === 47) ||
      (c === 46 && rawPath.charCodeAt(i - 1) === 47)
    )
      plain = false;
  }
  if (plain) return { path: rawPath, query };

  let decoded = '';
  for (let i = 0; i < rawPath.length; i++) {
    const c = rawPath.charCodeAt(i);
    if (c !== 37) {
      decoded += rawPath[i];
      continue;
    }
    const hi = hexValue(rawPath.charCodeAt(i + 1));
    const lo = hexValue(rawPath.charCodeAt(i + 2));
    if (hi < 0 || lo < 0) return { error: 'the path has a malformed percent-escape' };
    const byte = hi * 16 + lo;
    if (byte === 47 || byte === 92) return { error: 'an encoded slash or backslash in the path is not accepted' };
    if (byte === 0) return { error: 'an encoded NUL in the path is not accepted' };
    decoded += isUnreserved(byte) ? String.fromCharCode(byte) : `%${HEX[hi]}${HEX[lo]}`;
    i += 2;
  }
  return { path: removeDotSegments(decoded), query };
}

/** Collapses slash runs and resolves "." and ".." (never above the root); keeps a trailing slash. */
function removeDotSegments(path: string): string {
  const out: string[] = [];
  const segments = path.split('/');
  for (let i = 1; i < segments.length; i++) {
    const s = segments[i]!;
    const last = i === segments.length - 1;
    if (s === '.' || s === '..') {
      if (s === '..') out.pop();
      if (last) out.push('');
      continue;
    }
    if (s === '' && !last) continue;
    out.push(s);
  }
  return `/${out.join('/')}`;
}

/** The canonical path with every escape decoded, for file lookups; undefined if not UTF-8. */
export function decodedPath(path: string): string | undefined {
  try {
    return decodeURIComponent(path);
  } catch {
    return undefined;
  }
}
