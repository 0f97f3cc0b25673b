// Which service a request path belongs to, and whether a path is blocked or uncounted. Pure.
// Blocking compares a normalised form (decoded, dot segments resolved, slashes collapsed,
// case folded) because apps route loosely: Express matches "/API/v1/_CRASH/" to "/api/v1/_crash".

export interface RouteTable {
  /** Longest prefix first. */
  entries: Array<{ prefix: string; service: string }>;
}

export function buildRouteTable(services: Record<string, { prefixes: string[] }>): RouteTable {
  const entries = Object.entries(services).flatMap(([service, { prefixes }]) =>
    prefixes.map((prefix) => ({ prefix, service })),
  );
  entries.sort((a, b) => b.prefix.length - a.prefix.length || a.prefix.localeCompare(b.prefix));
  return { entries };
}

/** The service whose prefix is the longest one `pathname` starts with. */
export function routeFor(table: RouteTable, pathname: string): string | undefined {
  return table.entries.find((e) => pathname.startsWith(e.prefix))?.service;
}

/** The path part of a request target, decoded and with dot segments resolved; undefined if malformed. */
export function requestPath(target: string): string | undefined {
  if (!target.startsWith('/')) return undefined;
  try {
    const pathname = new URL(target.replace(/^\/+/, '/'), 'http://x').pathname;
    return decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
}

export function normalisePath(pathname: string): string {
  const collapsed = pathname.toLowerCase().replace(/\/{2,}/g, '/');
  return collapsed.length > 1 ? collapsed.replace(/\/+$/, '') : collapsed;
}

/** True when the path is one of `paths` (normalised), or below it. */
export function matchesAny(pathname: string, paths: readonly string[]): boolean {
  const p = normalisePath(pathname);
  return paths.some((raw) => {
    const q = normalisePath(raw);
    return p === q || p.startsWith(`${q}/`);
  });
}
