import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import tar from 'tar-stream';
import { tarBuffer, tarStream } from '../../engine-client/index.ts';

async function entriesOf(archive: Readable | Buffer) {
  const extract = tar.extract();
  const out: Array<{ name: string; type: string; mode: number; uid: number; linkname: string | null; body: string }> =
    [];
  const done = (async () => {
    for await (const entry of extract) {
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      const h = entry.header;
      out.push({
        name: h.name,
        type: h.type,
        mode: h.mode,
        uid: h.uid,
        linkname: h.linkname ?? null,
        body: Buffer.concat(chunks).toString(),
      });
    }
  })();
  const source = Buffer.isBuffer(archive) ? Readable.from([archive]) : archive;
  for await (const chunk of source) extract.write(chunk);
  extract.end(undefined);
  await done;
  return out;
}

describe('tar for build contexts and rootfs imports', () => {
  test('files from memory and from disk, directories, symlinks, modes and owners', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sa-engine-tar-'));
    try {
      const big = 'x'.repeat(200_000); // several chunks through the stream
      await writeFile(path.join(dir, 'big.txt'), big);
      async function* entries() {
        yield { name: 'app', type: 'directory' as const };
        yield { name: 'app/hello.txt', content: 'héllo' };
        yield { name: 'app/big.txt', sourcePath: path.join(dir, 'big.txt'), mode: 0o600, uid: 10001, gid: 10001 };
        yield { name: 'tmp', type: 'directory' as const, mode: 0o1777 };
        yield { name: 'lib', type: 'symlink' as const, linkname: 'usr/lib' };
      }
      const got = await entriesOf(tarStream(entries()));
      assert.deepEqual(
        got.map((e) => [
          e.name,
          e.type,
          e.mode.toString(8),
          e.uid,
          e.type === 'symlink' ? e.linkname : Buffer.byteLength(e.body),
        ]),
        [
          ['app', 'directory', '755', 0, 0],
          ['app/hello.txt', 'file', '644', 0, 6],
          ['app/big.txt', 'file', '600', 10001, 200_000],
          ['tmp', 'directory', '1777', 0, 0],
          ['lib', 'symlink', '777', 0, 'usr/lib'],
        ],
      );
      assert.equal(got[2]?.body, big);
      const buffered = await entriesOf(await tarBuffer(entries()));
      assert.deepEqual(buffered, got);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a file that cannot be read fails the stream', async () => {
    const stream = tarStream([{ name: 'missing', sourcePath: '/nonexistent/file' }]);
    await assert.rejects(async () => {
      for await (const _ of stream) {
        // drain
      }
    }, /ENOENT/);
  });
});
