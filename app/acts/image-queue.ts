// Who gets the image worker next. Sized copies are made one image at a time per process (a
// replica has half a CPU and 256 MB: two decodes at once would only thrash). A plain line would
// let one user queue ten photos in front of everyone else's; here each user has a line of their
// own and the worker serves the users in turn, one image each (the user whose image just ran
// goes last), so another user's image waits for at most one image of each user ahead of it,
// however many they queued. A bounded number of
// images may wait in all and per user; beyond, the caller is told to come back (503).

export interface ImageQueueOptions {
  /** Images waiting (not running) in all, over every user. */
  maxWaiting: number;
  /** Images one user may have waiting. */
  maxWaitingPerUser: number;
}

export class QueueFull extends Error {
  constructor(readonly scope: 'all' | 'user') {
    super(
      scope === 'user'
        ? 'you have too many photos waiting to be processed'
        : 'too many photos are waiting to be processed',
    );
  }
}

interface Waiting {
  start: () => void;
}

export class FairImageQueue {
  readonly #lines = new Map<string, Waiting[]>();
  /** Users with something waiting, in the order they are served. */
  readonly #turns: string[] = [];
  #running = false;
  #waiting = 0;

  constructor(private readonly options: ImageQueueOptions) {}

  get waiting(): number {
    return this.#waiting;
  }

  /** Runs `work` when it is `user`'s turn; throws QueueFull (before waiting) when the lines are full. */
  async run<T>(user: string, work: () => Promise<T>): Promise<T> {
    if (this.#running || this.#waiting > 0) {
      const line = this.#lines.get(user) ?? [];
      if (line.length >= this.options.maxWaitingPerUser) throw new QueueFull('user');
      if (this.#waiting >= this.options.maxWaiting) throw new QueueFull('all');
      await new Promise<void>((start) => {
        line.push({ start });
        if (line.length === 1) {
          this.#lines.set(user, line);
          this.#turns.push(user);
        }
        this.#waiting++;
      });
    } else {
      this.#running = true;
    }
    try {
      return await work();
    } finally {
      this.#next(user);
    }
  }

  #next(finished: string): void {
    // The user just served waits behind everyone else who is waiting.
    if (this.#turns.length > 1 && this.#turns[0] === finished) this.#turns.push(this.#turns.shift()!);
    const user = this.#turns.shift();
    if (user === undefined) {
      this.#running = false;
      return;
    }
    const line = this.#lines.get(user)!;
    const next = line.shift()!;
    // Back of the turn order if more of theirs wait: everyone else goes first.
    if (line.length > 0) this.#turns.push(user);
    else this.#lines.delete(user);
    this.#waiting--;
    next.start();
  }
}
