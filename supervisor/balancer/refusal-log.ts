// Refusals of a client (over its rate limit, or its connections) worth a line in the log, and
// not one line each: a flood of 429s must not become a flood of log lines. The first refusal of
// a client and kind is reported at once; later ones are counted and reported with the next
// refusal at least a minute after the last report. Bounded memory: past MAX_CLIENTS, the oldest
// entries go (their counts reported as they are dropped, if any).

const WINDOW_MS = 60_000;
const MAX_CLIENTS = 1024;

export interface Refusal {
  event: 'rate-limited' | 'connections-capped';
  client: string;
  what: string;
  refusals: number;
}

export class RefusalLog {
  /** `${event} ${client}` → when last reported, and refusals since. */
  readonly #seen = new Map<string, { at: number; unreported: number; what: string }>();

  constructor(private readonly report: (refusal: Refusal) => void) {}

  note(event: Refusal['event'], client: string, what: string, now: number): void {
    const key = `${event} ${client}`;
    const seen = this.#seen.get(key);
    if (seen !== undefined && now - seen.at < WINDOW_MS) {
      seen.unreported++;
      seen.what = what;
      return;
    }
    const refusals = (seen?.unreported ?? 0) + 1;
    this.#seen.delete(key);
    this.#seen.set(key, { at: now, unreported: 0, what });
    this.report({ event, client, what, refusals });
    if (this.#seen.size > MAX_CLIENTS) {
      const [oldKey, old] = this.#seen.entries().next().value as [string, { unreported: number; what: string }];
      this.#seen.delete(oldKey);
      const space = oldKey.indexOf(' ');
      if (old.unreported > 0)
        this.report({
          event: oldKey.slice(0, space) as Refusal['event'],
          client: oldKey.slice(space + 1),
          what: old.what,
          refusals: old.unreported,
        });
    }
  }
}
