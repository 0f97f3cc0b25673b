// How the acts service asks the users service whether a user exists (spec row 6b). Any
// answer other than 200 or 404, or no answer in time, means "cannot tell": the upload gets
// a 503 and stores nothing.
import { Agent } from 'undici';
import { existsPath, NO_SUCH_USER_BODY } from '../users/lookup-contract.ts';

export type UserCheck = 'exists' | 'unknown' | 'unavailable';

export interface UsersClient {
  check(username: string): Promise<UserCheck>;
  close(): Promise<void>;
}

const TIMEOUT_MS = 3000;

/** `baseUrl` and `origin` are functions: in SERVICE=all mode both are known only after listen. */
export function usersClient(baseUrl: () => string, origin: () => string): UsersClient {
  const agent = new Agent({ connect: { timeout: TIMEOUT_MS }, headersTimeout: TIMEOUT_MS, bodyTimeout: TIMEOUT_MS });
  return {
    async check(username) {
      try {
        // The dispatcher API sends the path verbatim; request(url) would normalise it.
        const base = new URL(baseUrl());
        const path = `${base.pathname.replace(/\/+$/, '')}${existsPath(username)}`;
        const res = await agent.request({ origin: base.origin, path, method: 'GET', headers: { origin: origin() } });
        const body = await res.body.text();
        if (res.statusCode === 200) return 'exists';
        // Only the users service's own "no such user" counts: a 404 from something else at
        // that address (a wrong USERS_URL) must not turn every upload into "unknown user".
        if (res.statusCode === 404 && body === NO_SUCH_USER_BODY) return 'unknown';
        return 'unavailable';
      } catch {
        return 'unavailable';
      }
    },
    close: () => agent.close(),
  };
}
