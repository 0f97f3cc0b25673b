// Static files compressed once, at the best level, and kept: the web UI's HTML, JavaScript, CSS
// and SVG are the same for every visitor, so paying brotli 11 once per file version (on libuv's
// thread pool, not the balancer's thread) beats a low level on every request. Keyed by path,
// size and modification time, so an edited file is compressed afresh; bounded in bytes, least
// recently used first out.
import type { Stats } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import type { Encoding } from './compression.ts';

const brotliAsync = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

/** Files larger than this are sent as they are (compressing them would hold much memory). */
export const MAX_STATIC_COMPRESS_BYTES = 4 * 1024 * 1024;

export class CompressedFiles {
  readonly #maxBytes: number;
  readonly #entries = new Map<string, Promise<Buffer>>();
  readonly #sizes = new Map<string, number>();
  #bytes = 0;

  constructor(maxBytes = 32 * 1024 * 1024) {
    this.#maxBytes = maxBytes;
  }

  get(file: string, info: Stats, encoding: Encoding): Promise<Buffer> {
    const key = `${encoding}:${info.size}:${info.mtimeMs}:${file}`;
    const found = this.#entries.get(key);
    if (found !== undefined) {
      this.#entries.delete(key); // most recently used last
      this.#entries.set(key, found);
      return found;
    }
    const made = (async () => {
      const body = await readFile(file);
      return encoding === 'br'
        ? brotliAsync(body, {
            params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: body.length },
          })
        : gzipAsync(body, { level: 9 });
    })();
    this.#entries.set(key, made);
    made.then(
      (out) => {
        if (!this.#entries.has(key)) return;
        this.#sizes.set(key, out.length);
        this.#bytes += out.length;
        this.#evict();
      },
      () => this.#entries.delete(key),
    );
    return made;
  }

  #evict(): void {
    for (const key of this.#entries.keys()) {
      if (this.#bytes <= this.#maxBytes) return;
      const size = this.#sizes.get(key);
      if (size === undefined) continue; // still being made
      this.#entries.delete(key);
      this.#sizes.delete(key);
      this.#bytes -= size;
    }
  }
}
