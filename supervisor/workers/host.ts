// Runs one worker thread and keeps it running: a worker that dies (an uncaught error, or
// terminated) is started again, with a growing delay if it keeps dying, and `onStart` replays
// the current state to the new one. Messages posted while it is down are dropped: the replay
// covers them.
import { Worker } from 'node:worker_threads';
import { errorFields, type Logger } from '../core/log.ts';
import type { HeapStatistics } from '../telemetry/memory-report.ts';
import type { WorkerSpec } from './spec.ts';

export interface WorkerHostOptions<Out, Config> {
  /** The thread's name when not the spec's (balancer-1 of several). */
  name?: string;
  /** Static configuration: the worker reads it as workerData.config. */
  config: Config;
  onMessage: (message: Out) => void;
  /** Called after every (re)start, to send the state the worker needs. */
  onStart: (restarted: boolean) => void;
  /** Called when the thread exits (before any restart): it will answer nothing more. */
  onExit?: () => void;
  logger: Logger;
}

/** The host of a spec's worker: `HostOf<typeof HEARTBEAT>`. */
export type HostOf<S> = S extends WorkerSpec<infer In, infer Out, infer Config> ? WorkerHost<In, Out, Config> : never;

const BOOT = new URL('./boot.mjs', import.meta.url);
const MIN_DELAY_MS = 100;
const MAX_DELAY_MS = 5000;
/** A worker that lived this long had a good run: the next restart is quick again. */
const STABLE_MS = 10_000;

/** How long a dead worker waits before it runs again: 100 ms, doubling while it keeps dying young, at most 5 s. */
export class RestartBackoff {
  #next = MIN_DELAY_MS;

  /** The wait before the restart of a worker that died after living `livedMs`. */
  delayAfter(livedMs: number): number {
    if (livedMs > STABLE_MS) this.#next = MIN_DELAY_MS;
    const delay = this.#next;
    this.#next = Math.min(MAX_DELAY_MS, this.#next * 2);
    return delay;
  }
}

export class WorkerHost<In, Out, Config> {
  readonly name: string;
  readonly #spec: WorkerSpec<In, Out, Config>;
  readonly #o: WorkerHostOptions<Out, Config>;
  #worker: Worker | undefined;
  #startedAt = 0;
  readonly #backoff = new RestartBackoff();
  #stopping = false;
  #restarts = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(spec: WorkerSpec<In, Out, Config>, options: WorkerHostOptions<Out, Config>) {
    this.#spec = spec;
    this.#o = options;
    this.name = options.name ?? spec.name;
  }

  get restarts(): number {
    return this.#restarts;
  }

  /** The thread's V8 heap, while it runs. */
  async heapStatistics(): Promise<HeapStatistics | undefined> {
    return (await this.#worker?.getHeapStatistics().catch(() => undefined)) as HeapStatistics | undefined;
  }

  /** A thread runs now (it may still be starting); false between a death and its restart. */
  get alive(): boolean {
    return this.#worker !== undefined;
  }

  start(): void {
    this.#spawn(false);
  }

  post(message: In): void {
    this.#worker?.postMessage(message);
  }

  /** Terminates the worker as if it had crashed: it is restarted and given the state again. */
  kill(): void {
    void this.#worker?.terminate();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#timer);
    const worker = this.#worker;
    this.#worker = undefined;
    await worker?.terminate();
  }

  #spawn(restarted: boolean): void {
    // A bundled entry is plain JavaScript; a TypeScript one starts through tsx (boot.mjs).
    const entry = this.#spec.entry;
    const worker = new Worker(entry.pathname.endsWith('.ts') ? BOOT : entry, {
      workerData: { entry: entry.href, config: this.#o.config, name: this.name },
      ...(this.#spec.youngGenerationMb !== undefined
        ? { resourceLimits: { maxYoungGenerationSizeMb: this.#spec.youngGenerationMb } }
        : {}),
    });
    this.#worker = worker;
    this.#startedAt = Date.now();
    worker.on('message', (message: Out) => this.#o.onMessage(message));
    worker.on('error', (err) => this.#o.logger.error('worker crashed', { worker: this.name, error: errorFields(err) }));
    worker.on('exit', (code) => {
      if (this.#worker !== worker) return;
      this.#worker = undefined;
      this.#o.onExit?.();
      if (this.#stopping) return;
      const lived = Date.now() - this.#startedAt;
      const delay = this.#backoff.delayAfter(lived);
      this.#o.logger.warn('worker exited; restarting', { worker: this.name, code, livedMs: lived, delayMs: delay });
      this.#timer = setTimeout(() => {
        this.#restarts += 1;
        this.#spawn(true);
      }, delay);
    });
    this.#o.onStart(restarted);
  }
}
