// Image work bounded and fair (hostile-clients finding 2): one user's queue of big photos
// delays another user's photo by the one image being made at most; more than fit in the queue
// get 503 with Retry-After; an image with more pixels than its format may decode is refused at
// once from the site's upload (row 17), before libvips decodes a byte; row 15 keeps it opaque.
import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import { describe, test } from 'node:test';
import sharp from 'sharp';
import type { Backend } from '../support/backends.ts';
import { sessionCookie } from '../support/client.ts';
import { actBody, addUser, PASSWORD } from '../support/data.ts';
import { expectError, expectReply, freshServices } from '../support/fixture.ts';
import { PNG } from '../support/images.ts';
import { image, upload } from '../support/multipart.ts';

/** A valid 1-bit PNG of width × height, all black: a few KB for a hundred megapixels. */
function bilevelPng(width: number, height: number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (bytes: Buffer) => {
    let c = 0xffffffff;
    for (const b of bytes) c = crcTable[(c ^ b) & 0xff]! ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc(body), 8 + data.length);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 1; // bit depth
  header[9] = 0; // grayscale
  const row = Math.ceil(width / 8) + 1; // the filter byte, then the pixels
  const pixels = deflateSync(Buffer.alloc(row * height), { level: 9 });
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', pixels),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

export function imageWork(backend: Backend): void {
  describe('image work: bounded, and fair between users', () => {
    // A short line, so that four photos at once fill it (the default takes a couple of dozen).
    const f = freshServices(backend, { apiAccess: 'owner', imageQueue: { maxWaiting: 8, maxWaitingPerUser: 2 } });
    const cookies: Record<string, string> = {};
    const post = (who: string, bytes: Buffer, name = 'p.png', type = 'image/png') =>
      upload(f.acts, cookies[who], [
        { name: 'caption', value: who },
        { name: 'categoryName', value: 'work' },
        image(bytes, name, type),
      ]);

    test('setup: two users and a category', async () => {
      for (const who of ['ann', 'bob']) {
        await addUser(f.users, who);
        cookies[who] = sessionCookie(await f.users.post('/api/v1/sessions', { username: who, password: PASSWORD }));
      }
      expectReply(await f.acts.post('/api/v1/categories', ['work'], { cookie: cookies.ann }), 201, {});
    });

    test("a 100-megapixel PNG (a few KB) is refused at once by the site's upload; row 15 keeps it as bytes", async () => {
      const bomb = bilevelPng(10_000, 10_000);
      assert.ok(bomb.length < 100_000, `${bomb.length} bytes`);
      const started = performance.now();
      const replies = await Promise.all([post('ann', bomb), post('ann', bomb), post('ann', bomb), post('ann', bomb)]);
      for (const reply of replies) {
        expectError(reply, 400);
        assert.match((reply.json as { error: string }).error, /too many pixels/);
      }
      const small = await post('bob', PNG);
      expectReply(small, 201);
      assert.ok(
        performance.now() - started < 5_000,
        `four bombs and a small photo took ${Math.round(performance.now() - started)} ms`,
      );
      expectReply(
        await f.acts.post(
          '/api/v1/acts',
          actBody({ actId: 900, username: 'ann', categoryName: 'work', imgB64: bomb.toString('base64') }),
          { cookie: cookies.ann },
        ),
        201,
        {},
      );
    });

    test("one user's queued photos delay another's by the one being made; a full line is 503 with Retry-After", async () => {
      // 20 MP: within the cap for a PNG, and a second or so of work each.
      const big = await sharp({ create: { width: 5000, height: 4000, channels: 3, background: '#4a7' } })
        .png({ compressionLevel: 1 })
        .toBuffer();
      const done: string[] = [];
      const track = (label: string, reply: Promise<Awaited<ReturnType<typeof post>>>) =>
        reply.then((r) => {
          done.push(label);
          return r;
        });
      // Four at once: one is made, two wait in ann's line, the fourth finds it full.
      const anns = [1, 2, 3, 4].map((i) => track(`ann${i}`, post('ann', big)));
      await new Promise((r) => setTimeout(r, 150));
      const bob = await track('bob', post('bob', PNG));
      const replies = await Promise.all(anns);
      const refused = replies.filter((r) => r.status === 503);
      assert.equal(refused.length, 1, `one of ann's four is refused: ${replies.map((r) => r.status).join(' ')}`);
      expectError(refused[0]!, 503);
      assert.ok(Number(refused[0]!.headers['retry-after']) >= 1, 'Retry-After');
      expectReply(bob, 201);
      for (const reply of replies) if (reply.status !== 503) expectReply(reply, 201);
      const made = done.filter((label) => replies[Number(label.slice(3)) - 1]?.status !== 503);
      assert.ok(made.indexOf('bob') <= 1, `bob waited for at most the photo being made: ${made.join(', ')}`);
    });
  });
}
