// Row 6b as both sides see it: the users service answers it, the acts service calls it.
export const NO_SUCH_USER = 'no such user';
export const NO_SUCH_USER_BODY = JSON.stringify({ error: NO_SUCH_USER });

/** Dots encoded too: a `.` or `..` segment would otherwise be resolved away by URL parsers. */
export function existsPath(username: string): string {
  return `/api/v1/users/${encodeURIComponent(username).replaceAll('.', '%2E')}/exists`;
}
