// A unix-socket proxy in front of the real engine's socket that a test can make stop answering:
// the supervisor talks to the real dockerd through it, and `hang()` turns the engine into one
// that accepts connections and never replies (what a wedged dockerd looks like), `resume()`
// turns it back. Nothing is faked but the silence.
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export class EngineProxy {
  readonly path: string;
  readonly #dir: string;
  readonly #target: string;
  readonly #server: net.Server;
  readonly #pairs = new Set<{ client: net.Socket; upstream: net.Socket | undefined }>();
  #hung = false;

  private constructor(dir: string, target: string) {
    this.#dir = dir;
    this.path = path.join(dir, 'engine.sock');
    this.#target = target;
    this.#server = net.createServer((client) => this.#accept(client));
  }

  static async start(target: string): Promise<EngineProxy> {
    const proxy = new EngineProxy(await mkdtemp(path.join(tmpdir(), 'sa-engine-proxy-')), target);
    await new Promise<void>((resolve, reject) => {
      proxy.#server.once('error', reject);
      proxy.#server.listen(proxy.path, resolve);
    });
    return proxy;
  }

  #accept(client: net.Socket): void {
    const pair: { client: net.Socket; upstream: net.Socket | undefined } = { client, upstream: undefined };
    this.#pairs.add(pair);
    client.on('error', () => undefined);
    client.once('close', () => {
      pair.upstream?.destroy();
      this.#pairs.delete(pair);
    });
    if (this.#hung) {
      client.pause(); // accepted, never answered
      return;
    }
    const upstream = net.connect(this.#target);
    pair.upstream = upstream;
    upstream.on('error', () => client.destroy());
    upstream.once('close', () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  }

  /** From now on nothing is answered: open connections stall, new ones are accepted and held. */
  hang(): void {
    this.#hung = true;
    for (const { client, upstream } of this.#pairs) {
      client.unpipe();
      upstream?.unpipe();
      client.pause();
      upstream?.pause();
    }
  }

  /** Answers again: the stalled connections are dropped (their clients see an error and retry). */
  resume(): void {
    this.#hung = false;
    for (const { client, upstream } of this.#pairs) {
      client.destroy();
      upstream?.destroy();
    }
  }

  async close(): Promise<void> {
    this.resume();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    await rm(this.#dir, { recursive: true, force: true });
  }
}
