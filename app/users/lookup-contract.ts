// Row 6b as both sides see it: the users service answers it, the acts service calls it.
export const NO_SUCH_USER = 'no such user';
export const NO_SUCH_USER_BODY = JSON.stringify({ error: NO_SUCH_USER });
/**
 * On rows 6 and 6b's 200: which holder of the name the account is (db/keys.ts accountKey), so
 * the acts service owns content by account. A header: the rows' bodies are fixed.
 */
export const ACCOUNT_GENERATION_HEADER = 'selflessacts-account-generation';

/** Dots encoded too: a `.` or `..` segment would otherwise be resolved away by URL parsers. */
export function existsPath(username: string): string {
  return `/api/v1/users/${encodeURIComponent(username).replaceAll('.', '%2E')}/exists`;
}
