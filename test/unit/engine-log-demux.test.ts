import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LogDemuxer, type LogChunk } from '../../engine-client/index.ts';
import { logChunks } from '../../engine-client/logs.ts';

function frame(stream: number, text: string): Buffer {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

const WIRE = Buffer.concat([
  frame(1, 'out 1\n'),
  frame(2, 'err 1\n'),
  frame(1, 'out é😀\n'),
  frame(1, ''),
  frame(2, 'x'.repeat(70_000)),
  frame(1, 'last'),
]);
const EXPECTED = [
  'stdout:out 1\n',
  'stderr:err 1\n',
  'stdout:out é😀\n',
  `stderr:${'x'.repeat(70_000)}`,
  'stdout:last',
];

function run(chunks: Buffer[]): string[] {
  const demuxer = new LogDemuxer();
  const out: LogChunk[] = chunks.flatMap((c) => demuxer.push(c));
  demuxer.end();
  return out.map((c) => `${c.stream}:${c.data.toString('utf8')}`);
}

describe('log demultiplexing (8-byte frame headers)', () => {
  test('the whole stream at once', () => assert.deepEqual(run([WIRE]), EXPECTED));

  test('one byte at a time gives the same frames', () => {
    const bytes = [...WIRE].map((b) => Buffer.from([b]));
    const demuxer = new LogDemuxer();
    const out = bytes.flatMap((b) => demuxer.push(b));
    demuxer.end();
    // Frames arrive whole: never a partial payload.
    assert.deepEqual(
      out.map((c) => `${c.stream}:${c.data.toString('utf8')}`),
      EXPECTED,
    );
  });

  test('headers split across chunks', () => {
    assert.deepEqual(run([WIRE.subarray(0, 3), WIRE.subarray(3, 11), WIRE.subarray(11)]), EXPECTED);
  });

  test('a stream cut inside a frame is a STREAM_ERROR at the end', () => {
    const demuxer = new LogDemuxer();
    demuxer.push(frame(1, 'hello').subarray(0, 10));
    assert.throws(
      () => demuxer.end(),
      (e: unknown) => (e as { code?: string }).code === 'STREAM_ERROR',
    );
  });

  test('raw TTY bytes are not frames: a PROTOCOL_ERROR, not garbage', () => {
    assert.throws(
      () => new LogDemuxer().push(Buffer.from('hello world, a tty')),
      (e: unknown) => (e as { code?: string }).code === 'PROTOCOL_ERROR',
    );
  });

  test('logChunks passes TTY output through as it is', async () => {
    async function* body() {
      yield Buffer.from('plain ');
      yield Buffer.from('text');
    }
    const out: LogChunk[] = [];
    for await (const c of logChunks(body(), true)) out.push(c);
    assert.deepEqual(
      out.map((c) => [c.stream, c.data.toString()]),
      [
        ['tty', 'plain '],
        ['tty', 'text'],
      ],
    );
  });
});
