// The facts a shared link's preview is drawn from (share-page.ts), asked of a replica of the
// service that owns them. Bounded every way a page view could be made to cost more than one
// small API call: in time, in answer size, in calls at once per balancer thread; over any bound
// the page goes out with the site's own tags instead. Public APIs only (node:http's client):
// this is a side call, not the proxy's hot path.
import { Agent, request } from 'node:http';
import type { PreviewAnswer } from './share-page.ts';
import type { AttemptOutcome } from './strategy.ts';

/** A preview is worth this long a wait at most: the page itself must not feel slow. */
export const PREVIEW_TIMEOUT_MS = 1500;
/** A card or profile is well under 2 KB; anything near this is not one. */
const MAX_ANSWER_BYTES = 64 * 1024;
/** Preview calls in flight per balancer thread; more page views get the site's tags. */
const MAX_IN_FLIGHT = 32;

export interface PreviewFetch {
  answer: PreviewAnswer;
  /** For the strategy: how the replica did. */
  outcome: AttemptOutcome;
}

export class PreviewFetcher {
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 8, maxFreeSockets: 2, timeout: 5000 });
  #inFlight = 0;

  /** False when the thread already waits on its share of preview calls. */
  get available(): boolean {
    return this.#inFlight < MAX_IN_FLIGHT;
  }

  /** GET `pathAndQuery` from the replica at `base` (its URL), as JSON. */
  fetch(base: string, pathAndQuery: string, timeoutMs = PREVIEW_TIMEOUT_MS): Promise<PreviewFetch> {
    this.#inFlight++;
    return new Promise<PreviewFetch>((resolve) => {
      let settled = false;
      const settle = (result: PreviewFetch) => {
        if (settled) return;
        settled = true;
        this.#inFlight--;
        clearTimeout(timer);
        resolve(result);
      };
      const req = request(new URL(pathAndQuery, base), {
        agent: this.#agent,
        headers: { accept: 'application/json' },
      });
      const timer = setTimeout(() => {
        req.destroy();
        settle({ answer: undefined, outcome: 'timeout' });
      }, timeoutMs);
      req.once('error', (err: NodeJS.ErrnoException) =>
        settle({ answer: undefined, outcome: err.code === 'ECONNREFUSED' ? 'refused' : 'reset' }),
      );
      req.once('response', (res) => {
        const status = res.statusCode ?? 0;
        const outcome: AttemptOutcome = status >= 500 ? 'server-error' : 'ok';
        const chunks: Buffer[] = [];
        let bytes = 0;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes > MAX_ANSWER_BYTES) {
            res.destroy();
            return settle({ answer: undefined, outcome: 'ok' });
          }
          chunks.push(chunk);
        });
        res.once('error', () => settle({ answer: undefined, outcome: 'reset' }));
        res.once('end', () => {
          let body: unknown;
          if (bytes > 0) {
            try {
              body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
            } catch {
              body = undefined;
            }
          }
          settle({ answer: { status, body }, outcome });
        });
      });
      req.end();
    });
  }

  destroy(): void {
    this.#agent.destroy();
  }
}
