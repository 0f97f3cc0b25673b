// How the acts service asks the users service whether a user exists (spec row 6b) and whether a
// session cookie is live (row 6). Any answer other than the expected ones, or no answer in
// time, means "cannot tell": the request gets a 503 and changes nothing. A GET that meets a
// keep-alive socket the users service has just closed (ECONNRESET, "other side closed") is
// sent once more on a fresh connection: both lookups are idempotent, and without it an upload
// fails merely because an idle socket timed out on the other side between two requests.
import { Agent, interceptors } from 'undici';
import { existsPath, NO_SUCH_USER_BODY } from '../users/lookup-contract.ts';

export type UserCheck = 'exists' | 'unknown' | 'unavailable';
/** The username a live session names, 'none' when the cookie is not (or no longer) one. */
export type SessionCheck = { username: string } | 'none' | 'unavailable';

export interface UsersClient {
  check(username: string): Promise<UserCheck>;
  /** `cookie`: the session cookie as the client sent it (a Cookie header value). */
  session(cookie: string): Promise<SessionCheck>;
  close(): Promise<void>;
}

const TIMEOUT_MS = 3000;
const SESSION_ME_PATH = '/api/v1/sessions/me';

/** `baseUrl` and `origin` are functions: in SERVICE=all mode both are known only after listen. */
export function usersClient(baseUrl: () => string, origin: () => string): UsersClient {
  const agent = new Agent({ connect: { timeout: TIMEOUT_MS }, headersTimeout: TIMEOUT_MS, bodyTimeout: TIMEOUT_MS });
  const dispatcher = agent.compose(
    interceptors.retry({
      maxRetries: 1,
      minTimeout: 0,
      maxTimeout: 0,
      methods: ['GET'],
      // Only a connection lost under the request: a refused one means the service is down, and
      // a 5xx is its answer, both reported as they are.
      errorCodes: ['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET'],
      statusCodes: [],
    }),
  );
  const get = async (path: string, headers: Record<string, string>) => {
    // The dispatcher API sends the path verbatim; request(url) would normalise it.
    const base = new URL(baseUrl());
    const res = await dispatcher.request({ origin: base.origin, path: `${base.pathname.replace(/\/+$/, '')}${path}`, method: 'GET', headers: { origin: origin(), ...headers } });
    return { status: res.statusCode, body: await res.body.text() };
  };
  return {
    async check(username) {
      try {
        const { status, body } = await get(existsPath(username), {});
        if (status === 200) return 'exists';
        // Only the users service's own "no such user" counts: a 404 from something else at
        // that address (a wrong USERS_URL) must not turn every upload into "unknown user".
        if (status === 404 && body === NO_SUCH_USER_BODY) return 'unknown';
        return 'unavailable';
      } catch {
        return 'unavailable';
      }
    },
    async session(cookie) {
      try {
        const { status, body } = await get(SESSION_ME_PATH, { cookie });
        if (status === 401) return 'none';
        const username: unknown = status === 200 ? (JSON.parse(body) as { username?: unknown }).username : undefined;
        return typeof username === 'string' ? { username } : 'unavailable';
      } catch {
        return 'unavailable';
      }
    },
    close: () => agent.close(),
  };
}
