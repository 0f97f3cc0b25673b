// Tar archives for build contexts and image imports, written as a stream with tar-stream:
// entries come from memory or from files on disk read one at a time, so a context of a hundred
// megabytes never sits in memory whole.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import tar from 'tar-stream';

export interface TarEntry {
  /** Path inside the archive, relative ("app/main.ts", "usr/bin/node"). */
  name: string;
  type?: 'file' | 'directory' | 'symlink';
  /** File contents from memory... */
  content?: Uint8Array | string;
  /** ...or from this file on disk. */
  sourcePath?: string;
  /** Symlink target. */
  linkname?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: Date;
}

/** A readable tar archive of the entries, produced as it is read. */
export function tarStream(entries: Iterable<TarEntry> | AsyncIterable<TarEntry>): Readable {
  const pack = tar.pack();
  void (async () => {
    for await (const entry of entries) await addEntry(pack, entry);
    pack.finalize();
  })().catch((error: unknown) => pack.destroy(error instanceof Error ? error : new Error(String(error))));
  // tar-stream's pack is a streamx stream; wrap it so undici and Node see a standard Readable.
  return Readable.from(pack);
}

export async function tarBuffer(entries: Iterable<TarEntry> | AsyncIterable<TarEntry>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of tarStream(entries)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

type TarHeader = Parameters<tar.Pack['entry']>[0];

async function addEntry(pack: tar.Pack, entry: TarEntry): Promise<void> {
  const type = entry.type ?? 'file';
  const header: TarHeader = {
    name: entry.name,
    type,
    mode: entry.mode ?? (type === 'directory' ? 0o755 : type === 'symlink' ? 0o777 : 0o644),
    uid: entry.uid ?? 0,
    gid: entry.gid ?? 0,
    mtime: entry.mtime ?? new Date(0),
  };
  if (type === 'directory') return write(pack, header);
  if (type === 'symlink') return write(pack, { ...header, linkname: entry.linkname ?? '' });
  if (entry.sourcePath !== undefined) {
    const info = await stat(entry.sourcePath);
    let sink!: ReturnType<tar.Pack['entry']>;
    const finished = new Promise<void>((resolve, reject) => {
      sink = pack.entry({ ...header, size: info.size }, (error) => (error ? reject(error) : resolve()));
    });
    for await (const chunk of createReadStream(entry.sourcePath)) {
      if (!sink.write(chunk)) await new Promise<void>((resolve) => sink.once('drain', () => resolve()));
    }
    sink.end(undefined);
    return finished;
  }
  const content = typeof entry.content === 'string' ? Buffer.from(entry.content) : Buffer.from(entry.content ?? []);
  return write(pack, { ...header, size: content.length }, content);
}

function write(pack: tar.Pack, header: TarHeader, content: Buffer = Buffer.alloc(0)): Promise<void> {
  return new Promise((resolve, reject) => {
    pack.entry(header, content, (error) => (error ? reject(error) : resolve()));
  });
}
