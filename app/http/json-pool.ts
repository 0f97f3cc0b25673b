// Parsing large JSON bodies off the event loop: one worker thread (json-worker.ts), one body
// at a time, the rest queued. One is enough: a body's parse is bounded by its bytes (see
// json-parse.ts), and the second core stays with the replica's own thread. A worker that dies
// (out of memory, say) fails only the body it held, and the next body gets a fresh worker.
import { Worker } from 'node:worker_threads';
import { JSONX, MalformedJson, parseJsonBody } from './json-parse.ts';

/** Smaller bodies parse in well under a millisecond: a message round trip would cost more. */
export const INLINE_PARSE_BYTES = 64 * 1024;

/** A parsed value as plain data: numbers ['n', source], arrays ['a', ...], objects ['o', key, value, ...]. */
export type EncodedJson = string | boolean | null | EncodedJson[];

export interface ParseRequest {
  id: number;
  bytes: ArrayBuffer;
}

export type ParseReply = { id: number; ok: true; value: EncodedJson } | { id: number; ok: false; reason: string };

/**
 * The worker's file: beside this module when run from the sources (tsx), and beside the
 * bundle (dist/json-worker.mjs, a second entry of scripts/app-bundle.ts) in the images.
 */
const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? './json-worker.ts' : './json-worker.mjs', import.meta.url);

/**
 * Enough for a few copies of a 16 MiB two-byte string; more means a pathological body. In a
 * container (process.constrainedMemory(): 256 MB for a replica) a quarter of its memory, at
 * least 64 MB: V8 grows a heap up to its limit before it collects in earnest, and garbage of a
 * few parsed 16 MiB bodies left in a 384 MB heap was enough to get a 256 MB replica OOM-killed.
 */
const WORKER_HEAP_MB = workerHeapMb(process.constrainedMemory());

export function workerHeapMb(constrainedBytes: number): number {
  const mb = constrainedBytes > 0 ? Math.floor(constrainedBytes / 4 / (1024 * 1024)) : Infinity;
  return Math.max(64, Math.min(384, mb));
}

export function decodeJson(encoded: EncodedJson): unknown {
  if (!Array.isArray(encoded)) return encoded;
  const [tag, ...rest] = encoded;
  if (tag === 'n') return JSONX.rawJSON(rest[0] as string);
  if (tag === 'a') return rest.map(decodeJson);
  const object: Record<string, unknown> = {};
  for (let i = 0; i < rest.length; i += 2) {
    // A data property even for "__proto__", as JSON.parse makes it.
    Object.defineProperty(object, rest[i] as string, {
      value: decodeJson(rest[i + 1] as EncodedJson),
      writable: true,
      enumerable: true,
      configurable: true,
    });
  }
  return object;
}

interface Job {
  bytes: Uint8Array;
  resolve(value: unknown): void;
  reject(err: Error): void;
}

/**
 * The worker is started by the first large body and ended after this long without one: a thread
 * costs a replica 10-15 MB, and most replicas (the users service, acts without uploads) never
 * see such a body. From the bundle it boots in tens of milliseconds, off the main thread.
 */
const IDLE_MS = 60_000;

class JsonParserPool {
  #worker: Worker | undefined;
  #current: (Job & { id: number }) | undefined;
  #queue: Job[] = [];
  #nextId = 1;
  #idle: NodeJS.Timeout | undefined;

  parse(bytes: Uint8Array): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ bytes, resolve, reject });
      this.#pump();
    });
  }

  #pump(): void {
    if (this.#current !== undefined) return;
    const job = this.#queue.shift();
    if (job === undefined) {
      this.#worker?.unref();
      if (this.#worker !== undefined) this.#idle = setTimeout(() => this.#retire(), IDLE_MS).unref();
      return;
    }
    clearTimeout(this.#idle);
    const worker = this.#ensureWorker();
    worker.ref();
    const id = this.#nextId++;
    this.#current = { ...job, id };
    // A body that owns its whole ArrayBuffer moves to the worker without a copy.
    const owned =
      job.bytes.byteOffset === 0 &&
      job.bytes.byteLength === job.bytes.buffer.byteLength &&
      job.bytes.buffer instanceof ArrayBuffer;
    const buffer = owned ? (job.bytes.buffer as ArrayBuffer) : (new Uint8Array(job.bytes).buffer as ArrayBuffer);
    worker.postMessage({ id, bytes: buffer } satisfies ParseRequest, [buffer]);
  }

  #retire(): void {
    const worker = this.#worker;
    if (worker === undefined || this.#current !== undefined) return;
    this.#worker = undefined; // its exit is then no loss
    void worker.terminate();
  }

  #ensureWorker(): Worker {
    if (this.#worker !== undefined) return this.#worker;
    const worker = new Worker(WORKER_URL, { resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB } });
    worker.on('message', (reply: ParseReply) => {
      const job = this.#current;
      if (job === undefined || job.id !== reply.id) return;
      this.#current = undefined;
      if (reply.ok) job.resolve(decodeJson(reply.value));
      else job.reject(new MalformedJson(reply.reason));
      this.#pump();
    });
    const lost = (why: string) => {
      if (this.#worker !== worker) return;
      this.#worker = undefined;
      const job = this.#current;
      this.#current = undefined;
      job?.reject(new MalformedJson(`JSON document refused: ${why}`));
      this.#pump();
    };
    worker.on('error', (err) =>
      lost((err as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'too large to read' : 'unreadable'),
    );
    worker.on('exit', () => lost('unreadable'));
    this.#worker = worker;
    return worker;
  }
}

let pool: JsonParserPool | undefined;

/** Like parseJsonBody, off the event loop for a large body. */
export function parseJsonBodyAsync(bytes: Uint8Array): Promise<unknown> {
  if (bytes.length < INLINE_PARSE_BYTES) {
    try {
      return Promise.resolve(parseJsonBody(bytes));
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }
  pool ??= new JsonParserPool();
  return pool.parse(bytes);
}
