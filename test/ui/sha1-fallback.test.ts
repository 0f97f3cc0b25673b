// The site's own SHA-1, used where crypto.subtle is missing (plain http on a public address),
// must agree with Node's for every length around the 64-byte block and padding boundaries.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '../helpers/node-process.ts';

type Sha1Module = { sha1Fallback(bytes: Uint8Array): string; sha1Hex(text: string): Promise<string> };
const { sha1Fallback, sha1Hex } = (await import(pathToFileURL(join(repoRoot, 'public/js/sha1.js')).href)) as Sha1Module;

const nodeSha1 = (bytes: Uint8Array) => createHash('sha1').update(bytes).digest('hex');

test('matches node:crypto for lengths 0-200 (every padding case)', () => {
  for (let n = 0; n <= 200; n++) {
    const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 31 + n) & 0xff);
    assert.equal(sha1Fallback(bytes), nodeSha1(bytes), `length ${n}`);
  }
});

test('known vectors and non-ASCII passwords', async () => {
  assert.equal(sha1Fallback(new TextEncoder().encode('abc')), 'a9993e364706816aba3e25717850c26c9cd0d89d');
  const text = 'pässwörd 🔑 with spaces';
  assert.equal(sha1Fallback(new TextEncoder().encode(text)), nodeSha1(Buffer.from(text, 'utf8')));
  // Node has crypto.subtle, so this is the path browsers on https or localhost take.
  assert.equal(await sha1Hex(text), nodeSha1(Buffer.from(text, 'utf8')));
});

test('a megabyte (many blocks, length bits above 2^16)', () => {
  const bytes = Uint8Array.from({ length: 1 << 20 }, (_, i) => (i ^ (i >> 8)) & 0xff);
  assert.equal(sha1Fallback(bytes), nodeSha1(bytes));
});
