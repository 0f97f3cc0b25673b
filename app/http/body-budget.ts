// A per-process budget of request-body bytes held in memory. Bodies (JSON, multipart) are read
// whole into buffers, and each costs a few times its size while it is decoded, parsed, resized
// and stored; four 16 MiB bodies at once OOM-killed a 256 MB replica. So a request reserves its
// body's bytes before a byte is read, and one that would pass the budget waits, its socket
// paused (TCP backpressure: the client just sends more slowly; never a 5xx), until earlier
// bodies are released with their responses. Requests without a body never wait.
// A body of declared length reserves that length. A chunked one has no length to go by: it
// reserves a first step, and more as its bytes arrive (cover()), never the whole limit up
// front: one client trickling a chunked body byte by byte used to hold the whole budget and
// stall every log-in. Growing never waits (two half-read bodies waiting for each other's bytes
// would wait for good): when the process has no room right then, the body is refused with a 503
// that says to come back.
import type { Request } from 'express';
import { badRequest } from './errors.ts';

/** Bytes granted to whoever asked first and fits; what is released goes to the next in line. */
export class ByteBudget {
  private used = 0;
  private readonly queue: { bytes: number; grant: () => void }[] = [];

  constructor(readonly capacity: number) {
    if (!(capacity > 0)) throw new Error(`a budget needs a positive capacity, not ${capacity}`);
  }

  get inUse(): number {
    return this.used;
  }

  get waiting(): number {
    return this.queue.length;
  }

  /**
   * Resolves with the function that gives the bytes back (once, however often it is called).
   * More than the capacity is clamped to it: such a request runs alone. `signal` withdraws a
   * request still in line (its promise then never settles: the caller has gone).
   */
  acquire(bytes: number, signal?: AbortSignal): Promise<() => void> {
    const amount = Math.min(Math.max(0, bytes), this.capacity);
    return new Promise((resolve) => {
      const entry = { bytes: amount, grant: () => resolve(this.releaser(amount)) };
      // First come, first served: a large body is not starved by a stream of small ones.
      if (this.queue.length === 0 && this.used + amount <= this.capacity) {
        this.used += amount;
        entry.grant();
        return;
      }
      this.queue.push(entry);
      signal?.addEventListener(
        'abort',
        () => {
          const at = this.queue.indexOf(entry);
          if (at >= 0) this.queue.splice(at, 1);
          this.grantWaiting();
        },
        { once: true },
      );
    });
  }

  /** The bytes at once if they fit now and nobody waits; undefined otherwise (nothing taken). */
  tryAcquire(bytes: number): (() => void) | undefined {
    const amount = Math.min(Math.max(0, bytes), this.capacity);
    if (this.queue.length > 0 || this.used + amount > this.capacity) return undefined;
    this.used += amount;
    return this.releaser(amount);
  }

  private releaser(amount: number): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used -= amount;
      this.grantWaiting();
    };
  }

  private grantWaiting(): void {
    while (this.queue.length > 0 && this.used + this.queue[0]!.bytes <= this.capacity) {
      const next = this.queue.shift()!;
      this.used += next.bytes;
      next.grant();
    }
  }
}

/** Replaced at start by configureBodyMemory (config.ts has the default). */
let processBudget = new ByteBudget(16 * 1024 * 1024);

/** Set once at start (BODY_MEMORY); one budget for the whole process, both services included. */
export function configureBodyMemory(bytes: number): void {
  if (bytes !== processBudget.capacity) processBudget = new ByteBudget(bytes);
}

export function bodyBudget(): ByteBudget {
  return processBudget;
}

/** What a chunked body reserves before its first byte, and the least it grows by. */
export const CHUNKED_FIRST_BYTES = 256 * 1024;

/** The memory a body being read holds; it grows with the body (see the module comment). */
export interface BodyReservation {
  /** Room for `total` bytes in all; false when there is none now (the caller answers 503). */
  cover(total: number): boolean;
}

const UNLIMITED: BodyReservation = { cover: () => true };

/** The 503 a body gets when the process has no room for the rest of it right now. */
export const NO_ROOM_MESSAGE =
  'the service is busy reading other uploads: nothing was stored; send it again in a few seconds';

/**
 * Waits until the request's body may start to be read into memory: its Content-Length, or a
 * first step when it is chunked. The reservation (with all it grows by) is released when the
 * response is done or the connection closes, since the body's buffers live until the handler
 * has answered. Rejects when the client leaves while waiting.
 */
export async function reserveBodyMemory(req: Request, limit: number): Promise<BodyReservation> {
  const length = req.headers['content-length'];
  const chunked = req.headers['transfer-encoding'] !== undefined;
  const declared = Number(length);
  const bytes =
    !chunked && length === undefined
      ? 0
      : Number.isSafeInteger(declared) && !chunked
        ? Math.min(declared, limit)
        : Math.min(CHUNKED_FIRST_BYTES, limit);
  if (bytes === 0) return UNLIMITED;
  const res = req.res;
  const left = new AbortController();
  const onClose = () => left.abort();
  req.socket.once('close', onClose);
  const release = await Promise.race([
    processBudget.acquire(bytes, left.signal),
    new Promise<never>((_, reject) =>
      left.signal.addEventListener(
        'abort',
        () => reject(badRequest('the client left while its body waited to be read')),
        { once: true },
      ),
    ),
  ]);
  req.socket.off('close', onClose);
  if (left.signal.aborted || res === undefined || res.writableFinished || req.socket.destroyed) {
    release();
    if (left.signal.aborted || req.socket.destroyed)
      throw badRequest('the client left while its body waited to be read');
    return UNLIMITED;
  }
  const releases = [release];
  res.once('close', () => {
    for (const r of releases) r();
  });
  const budget = processBudget;
  let reserved = bytes;
  return {
    cover(total) {
      if (total <= reserved) return true;
      // Doubling: a body of n bytes asks O(log n) times; never past the limit, which the
      // reader enforces itself.
      const step = Math.min(
        Math.max(total - reserved, reserved, CHUNKED_FIRST_BYTES),
        Math.max(limit - reserved, total - reserved),
      );
      const more = budget.tryAcquire(step);
      if (more === undefined) return false;
      releases.push(more);
      reserved += step;
      return true;
    },
  };
}
