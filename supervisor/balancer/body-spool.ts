// Request bodies too large to keep in memory, buffered at the edge in a temporary file (nginx's
// proxy_request_buffering, HAProxy's http-buffer-request): the balancer reads the client's body
// at the client's pace into the file and picks a replica only once it is complete, so a slow
// client costs a file descriptor and some disk, never a replica's connection or memory, and the
// balancer never pauses a client for a replica (its idle deadline then times the client's own
// silence only). The file is read back for each attempt, so a body refused by one replica goes
// whole to the next. Files live under dataDir/spool, mode 0600, one per body, removed when the
// exchange ends (and a thread's leftovers when it starts).
import {
  createReadStream,
  createWriteStream,
  mkdirSync,
  readdirSync,
  rmSync,
  unlink,
  type ReadStream,
  type WriteStream,
} from 'node:fs';
import path from 'node:path';

/** Large writes: a socket's reads are up to 64 KiB, and a pause per read would cost more than it saves. */
const WRITE_BUFFER = 1 << 20;
const READ_CHUNK = 256 << 10;

export class SpoolFile {
  readonly path: string;
  #out: WriteStream;
  #error: Error | undefined;
  #onError: ((err: Error) => void) | undefined;

  constructor(file: string) {
    this.path = file;
    this.#out = createWriteStream(file, { flags: 'wx', mode: 0o600, highWaterMark: WRITE_BUFFER });
    this.#out.on('error', (err) => {
      this.#error = err;
      this.#onError?.(err);
    });
  }

  /** Called once if writing fails (the disk full, the directory gone). */
  onError(callback: (err: Error) => void): void {
    this.#onError = callback;
    if (this.#error) callback(this.#error);
  }

  /** False when the file's buffer is full: wait for `drained` before writing more. */
  write(chunk: Buffer): boolean {
    return this.#out.write(chunk);
  }

  drained(callback: () => void): void {
    this.#out.once('drain', callback);
  }

  /** Resolves once every byte written is in the file. */
  finish(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.#error) return reject(this.#error);
      this.#out.once('error', reject);
      this.#out.end(() => resolve());
    });
  }

  /** The body from its first byte (a new stream for each attempt). */
  reader(): ReadStream {
    return createReadStream(this.path, { highWaterMark: READ_CHUNK });
  }

  dispose(): void {
    this.#out.destroy();
    unlink(this.path, () => undefined);
  }
}

/** One balancer thread's spool: its files, named by thread, and the bytes they may hold at once. */
export class Spool {
  readonly #dir: string;
  readonly #prefix: string;
  #free: number;
  #next = 0;

  /** Creates the directory and removes what this thread left there in an earlier life. */
  constructor(dir: string, thread: number, capacityBytes: number) {
    this.#dir = dir;
    this.#prefix = `t${thread}-`;
    this.#free = capacityBytes;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    for (const name of readdirSync(dir))
      if (name.startsWith(this.#prefix)) rmSync(path.join(dir, name), { force: true });
  }

  /** Takes room for `bytes`; false when the spool is full. */
  reserve(bytes: number): boolean {
    if (bytes > this.#free) return false;
    this.#free -= bytes;
    return true;
  }

  release(bytes: number): void {
    this.#free += bytes;
  }

  open(): SpoolFile {
    return new SpoolFile(path.join(this.#dir, `${this.#prefix}${process.pid}-${++this.#next}.body`));
  }
}
