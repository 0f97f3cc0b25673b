// A replica's output from the log file the process runtime appends it to, as `tail -n N -f`
// would give it: the last lines (found by reading back from the end, never the whole file),
// then what is appended, until the writer is gone and everything is read, or the caller aborts.
import { open, type FileHandle } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ReplicaLogOptions, ReplicaOutput } from './runtime.ts';

const BLOCK = 64 * 1024;
const POLL_MS = 200;

export async function* readLogFile(
  file: string,
  options: ReplicaLogOptions & { writing: () => boolean },
): AsyncGenerator<ReplicaOutput, void, undefined> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // nothing written yet
    throw err;
  }
  try {
    let position = options.tail === undefined ? 0 : await tailStart(handle, options.tail);
    for (;;) {
      const { size } = await handle.stat();
      while (position < size) {
        const chunk = Buffer.alloc(Math.min(BLOCK, size - position));
        const { bytesRead } = await handle.read(chunk, 0, chunk.length, position);
        if (bytesRead === 0) break;
        position += bytesRead;
        yield { stream: 'stdout', data: chunk.subarray(0, bytesRead) };
      }
      // Read once more after the writer is gone: what it wrote last is not lost.
      if (!options.follow || options.signal.aborted) return;
      const writing = options.writing();
      try {
        await sleep(POLL_MS, undefined, { signal: options.signal });
      } catch {
        return; // aborted
      }
      if (!writing && (await handle.stat()).size === position) return;
    }
  } finally {
    await handle.close();
  }
}

/** Offset of the first of the last `lines` lines (a final newline ends a line, it starts none). */
async function tailStart(handle: FileHandle, lines: number): Promise<number> {
  const { size } = await handle.stat();
  if (lines <= 0) return size;
  let end = size;
  let found = 0;
  while (end > 0) {
    const start = Math.max(0, end - BLOCK);
    const block = Buffer.alloc(end - start);
    await handle.read(block, 0, block.length, start);
    for (let i = block.length - 1; i >= 0; i--) {
      if (block[i] !== 0x0a || start + i === size - 1) continue;
      found += 1;
      if (found === lines) return start + i + 1;
    }
    end = start;
  }
  return 0;
}
