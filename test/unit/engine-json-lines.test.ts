import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { JsonLinesSplitter } from '../../engine-client/index.ts';
import { jsonLines } from '../../engine-client/json-lines.ts';

const MESSAGES = [
  { stream: 'Step 1/2 : FROM base\n' },
  { stream: 'multi-byte: é € 😀 ✓ 日本語\n' },
  { status: 'done', id: 'abc' },
  { errorDetail: { message: 'boom 💥' }, error: 'boom 💥' },
];
// The engine ends build lines with \r\n; events with \n; the last line may lack one.
const WIRE = Buffer.from(`${MESSAGES.map((m, i) => JSON.stringify(m) + (i % 2 ? '\n' : '\r\n')).join('')}\n`);

function feed(chunks: Uint8Array[]): unknown[] {
  const splitter = new JsonLinesSplitter();
  const lines = chunks.flatMap((chunk) => splitter.push(chunk));
  return [...lines, ...splitter.end()].map((line) => JSON.parse(line));
}

function cut(buffer: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buffer.length; i += size) out.push(buffer.subarray(i, i + size));
  return out;
}

describe('JSON-lines splitter', () => {
  const cases: Array<[string, Buffer[]]> = [
    ['whole buffer at once', [WIRE]],
    ['one byte at a time', cut(WIRE, 1)],
    ['two bytes at a time', cut(WIRE, 2)],
    ['three bytes at a time (splits 4-byte emoji unevenly)', cut(WIRE, 3)],
    ['seven bytes at a time', cut(WIRE, 7)],
    ['an empty chunk in between', [WIRE.subarray(0, 10), Buffer.alloc(0), WIRE.subarray(10)]],
  ];
  for (const [name, chunks] of cases) {
    test(`${name} gives the same messages`, () => {
      assert.deepEqual(feed(chunks), MESSAGES);
    });
  }

  test('a multi-byte character split across two chunks stays whole', () => {
    const line = Buffer.from('{"stream":"😀"}\n');
    const at = line.indexOf(Buffer.from('😀')) + 2; // in the middle of the 4 bytes
    assert.deepEqual(feed([line.subarray(0, at), line.subarray(at)]), [{ stream: '😀' }]);
  });

  test('a last line without a newline is flushed by end(); blank lines are dropped', () => {
    const splitter = new JsonLinesSplitter();
    assert.deepEqual(splitter.push(Buffer.from('\n\n{"a":1}\n\r\n{"b":')), ['{"a":1}']);
    assert.deepEqual(splitter.push(Buffer.from('2}')), []);
    assert.deepEqual(splitter.end(), ['{"b":2}']);
    assert.deepEqual(splitter.end(), []);
  });

  test('jsonLines parses a stream and rejects a line that is not JSON with PROTOCOL_ERROR', async () => {
    async function* body() {
      yield* cut(WIRE, 5);
    }
    const parsed: unknown[] = [];
    for await (const message of jsonLines(body())) parsed.push(message);
    assert.deepEqual(parsed, MESSAGES);

    async function* broken() {
      yield Buffer.from('{"ok":true}\nnot json\n');
    }
    await assert.rejects(
      async () => {
        for await (const _ of jsonLines(broken())) {
          // drain
        }
      },
      (error: unknown) => (error as { code?: string }).code === 'PROTOCOL_ERROR',
    );
  });
});
