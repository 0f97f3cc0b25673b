// How the acts service asks the users service whether a user exists (spec row 6b) and whether a
// session cookie is live (row 6). USERS_URL may name several replicas (comma-separated: the
// orchestrator gives every port of the users service's range), so a users replica that is
// replaced, rolled or crashed costs no write: the lookups are safe GETs, and like the balancer's
// retry of safe requests they go to the next replica when one refuses, breaks, times out or
// answers 5xx (a replica that did is passed over for a second, while another one answers). When
// none answers, they try again with a growing pause until USERS_WAIT_MS has passed since the
// request came (a single replica's replacement takes a few seconds); only then is the answer
// "cannot tell": the request gets a 503 and changes nothing.
// On node:http, not undici: the replica then carries no HTTP client library (undici was a third
// of the app's bundle).
import { Agent, request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { ACCOUNT_GENERATION_HEADER, existsPath, NO_SUCH_USER_BODY } from '../users/lookup-contract.ts';

/** The account holding the name now (which holder of it: db/keys.ts accountKey), or why not. */
export type UserCheck = { generation: number } | 'unknown' | 'unavailable';
/** The account a live session names, 'none' when the cookie is not (or no longer) one. */
export type SessionCheck = { username: string; generation: number } | 'none' | 'unavailable';

export interface UsersClient {
  check(username: string): Promise<UserCheck>;
  /** `cookie`: the session cookie as the client sent it (a Cookie header value). */
  session(cookie: string): Promise<SessionCheck>;
  close(): Promise<void>;
}

export interface UsersClientOptions {
  /** How long a lookup keeps trying while no replica answers (the request waits that long at most). */
  waitMs?: number;
  /** Per attempt: connect and answer head within this. */
  attemptTimeoutMs?: number;
}

const ATTEMPT_TIMEOUT_MS = 3000;
/** Longer than a users replica's replacement takes (failure confirmed, stopped, started, ready: 3-5 s). */
const WAIT_MS = 8000;
/** A replica that failed an attempt is tried after the others for this long. */
const PASSED_OVER_MS = 1000;
const FIRST_PAUSE_MS = 100;
const LONGEST_PAUSE_MS = 1000;
const SESSION_ME_PATH = '/api/v1/sessions/me';

interface Reply {
  status: number;
  body: string;
  /** The account generation header, when the reply carried one. */
  generation: number | undefined;
}

/** What a reply means, or undefined: not this service's answer (try another replica). */
type Reading<T> = (reply: Reply) => T | undefined;

function generationOf(value: string | string[] | undefined): number | undefined {
  const n = typeof value === 'string' && /^\d{1,9}$/.test(value) ? Number(value) : undefined;
  return n;
}

class NoAnswer extends Error {}

/** One GET: the status and the body, or a rejection (a refusal, a reset, no answer within `ms`). */
function get(agent: Agent, base: URL, path: string, headers: Record<string, string>, ms: number): Promise<Reply> {
  return new Promise((resolve, reject) => {
    // The path is sent verbatim (an encoded username stays encoded), as given.
    const req = request(
      {
        agent,
        host: base.hostname.replace(/^\[|\]$/g, ''),
        port: base.port || 80,
        path: `${base.pathname.replace(/\/+$/, '')}${path}`,
        method: 'GET',
        headers,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          clearTimeout(timer);
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            generation: generationOf(res.headers[ACCOUNT_GENERATION_HEADER]),
          });
        });
        res.on('error', (err) => {
          clearTimeout(timer);
          reject(err);
        });
      },
    );
    const timer = setTimeout(() => req.destroy(new NoAnswer(`no answer within ${ms} ms`)), ms);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(Object.assign(err, { reusedSocket: req.reusedSocket }));
    });
    req.end();
  });
}

/**
 * `baseUrls` and `origin` are functions: in SERVICE=all mode both are known only after listen.
 * `baseUrls()` is one URL or several, comma-separated.
 */
export function usersClient(
  baseUrls: () => string,
  origin: () => string,
  options: UsersClientOptions = {},
): UsersClient {
  const attemptMs = options.attemptTimeoutMs ?? ATTEMPT_TIMEOUT_MS;
  const waitMs = options.waitMs ?? WAIT_MS;
  // Idle sockets are closed before the users service's own keep-alive timeout (5 s) would.
  const agent = new Agent({ keepAlive: true, timeout: 4000 });
  /** Base URL → until when it is passed over. */
  const passedOver = new Map<string, number>();
  let cursor = 0;

  /** The replicas in turn, those not passed over first. */
  const order = (): URL[] => {
    const urls = baseUrls()
      .split(',')
      .map((u) => new URL(u.trim()));
    const start = cursor++ % urls.length;
    const turn = [...urls.slice(start), ...urls.slice(0, start)];
    const now = Date.now();
    const fresh = turn.filter((u) => (passedOver.get(u.href) ?? 0) <= now);
    return [...fresh, ...turn.filter((u) => !fresh.includes(u))];
  };

  const attempt = async <T>(base: URL, path: string, headers: Record<string, string>, read: Reading<T>): Promise<T> => {
    const send = () => get(agent, base, path, { origin: origin(), ...headers }, attemptMs);
    let reply: Reply;
    try {
      reply = await send();
    } catch (err) {
      // A kept-alive socket the users service closed meanwhile: once more on a new one, at once.
      if (!(err as { reusedSocket?: boolean }).reusedSocket) throw err;
      reply = await send();
    }
    const meaning = read(reply);
    if (meaning === undefined) throw new NoAnswer(`HTTP ${reply.status}`);
    return meaning;
  };

  const ask = async <T>(path: string, headers: Record<string, string>, read: Reading<T>): Promise<T | undefined> => {
    const until = Date.now() + waitMs;
    for (let pause = FIRST_PAUSE_MS; ; pause = Math.min(LONGEST_PAUSE_MS, pause * 2)) {
      for (const base of order()) {
        try {
          const meaning = await attempt(base, path, headers, read);
          passedOver.delete(base.href);
          return meaning;
        } catch {
          passedOver.set(base.href, Date.now() + PASSED_OVER_MS);
        }
        if (Date.now() >= until) return undefined;
      }
      const left = until - Date.now();
      if (left <= 0) return undefined;
      await sleep(Math.min(pause, left));
    }
  };

  return {
    async check(username) {
      const answer = await ask<UserCheck>(existsPath(username), {}, ({ status, body, generation }) => {
        // A users service that does not count generations (one from before, in a rolling
        // upgrade) knows only the name's first holder: generation 0.
        if (status === 200) return { generation: generation ?? 0 };
        // Only the users service's own "no such user" counts: a 404 from something else at
        // that address (a wrong USERS_URL) must not turn every upload into "unknown user".
        if (status === 404 && body === NO_SUCH_USER_BODY) return 'unknown';
        return undefined;
      });
      return answer ?? 'unavailable';
    },
    async session(cookie) {
      const answer = await ask<SessionCheck>(SESSION_ME_PATH, { cookie }, ({ status, body, generation }) => {
        if (status === 401) return 'none';
        if (status !== 200) return undefined;
        try {
          const username: unknown = (JSON.parse(body) as { username?: unknown }).username;
          return typeof username === 'string' ? { username, generation: generation ?? 0 } : undefined;
        } catch {
          return undefined;
        }
      });
      return answer ?? 'unavailable';
    },
    close: async () => agent.destroy(),
  };
}
