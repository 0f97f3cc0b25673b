// Acts service, rows 17 and 18: the web UI's multipart upload and the image route.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import type { Backend } from '../support/backends.ts';
import { sessionCookie } from '../support/client.ts';
import { actBody, addAct, addCategory, addUser, PASSWORD } from '../support/data.ts';
import { expectError, expectReply, freshServices } from '../support/fixture.ts';
import { GIF, JPEG, PNG, pngWithoutText, WEBP } from '../support/images.ts';
import { image, upload, type Part } from '../support/multipart.ts';

export function multipartContract(backend: Backend): void {
  describe('multipart upload and images (rows 17, 18)', () => {
    const f = freshServices(backend);
    let cookie = '';
    const fields = (caption = 'fed the cat') => [
      { name: 'caption', value: caption },
      { name: 'categoryName', value: 'pets' },
    ];

    test('setup: a user logged in, a category, and act 41 uploaded as JSON with a PNG', async () => {
      await addUser(f.users, 'lea');
      await addCategory(f.acts, 'pets');
      cookie = sessionCookie(await f.users.post('/api/v1/sessions', { username: 'lea', password: PASSWORD }));
      await addAct(
        f.acts,
        actBody({ actId: 41, username: 'lea', categoryName: 'pets', imgB64: PNG.toString('base64') }),
      );
    });

    // Row 17 keeps a photo without its metadata (the PNG's dates go; the others carry none).
    const formats: [string, Buffer, string][] = [
      ['PNG', PNG, 'image/png'],
      ['JPEG', JPEG, 'image/jpeg'],
      ['GIF', GIF, 'image/gif'],
      ['WebP', WEBP, 'image/webp'],
    ];
    for (const [name, bytes, type] of formats) {
      test(`row 17: a real ${name} → 201 {"actId"}; row 18 serves it back as ${type}`, async () => {
        const reply = await upload(f.acts, cookie, [
          ...fields(`a ${name}`),
          image(bytes, 'upload.bin', 'application/octet-stream'),
        ]);
        expectReply(reply, 201);
        const { actId } = reply.json as { actId: number };
        assert.deepEqual(Object.keys(reply.json as object), ['actId']);
        assert.equal(typeof actId, 'number');
        const served = await f.acts.get(`/api/v1/acts/${actId}/image`);
        expectReply(served, 200);
        assert.equal(served.headers['content-type'], type);
        assert.deepEqual(served.raw, name === 'PNG' ? pngWithoutText(bytes) : bytes);
      });
    }

    test('row 17: the server assigns the next actId and its own timestamp; the session names the user', async () => {
      const reply = await upload(f.acts, cookie, [...fields('numbered'), image(PNG)]);
      expectReply(reply, 201);
      const { actId } = reply.json as { actId: number };
      assert.equal(actId, 46, 'largest actId (41, then four uploads) + 1');
      const [act] = (await f.acts.get('/api/v1/acts?username=lea&start=1&end=1')).json as Record<string, unknown>[];
      assert.equal(act?.actId, 46);
      assert.equal(act?.username, 'lea');
      assert.equal(act?.upvotes, 0);
      assert.equal(act?.imgB64, pngWithoutText(PNG).toString('base64'), 'the photo without its text chunks');
      const now = new Date();
      const two = (n: number) => String(n).padStart(2, '0');
      assert.match(
        String(act?.timestamp),
        new RegExp(
          `^${two(now.getUTCDate())}-${two(now.getUTCMonth() + 1)}-${now.getUTCFullYear()}:\\d\\d-\\d\\d-\\d\\d$`,
        ),
      );
    });

    test('row 17: twenty uploads at once get twenty different actIds, all stored', async () => {
      const before = ((await f.acts.get('/api/v1/acts/count')).json as number[])[0]!;
      const replies = await Promise.all(
        Array.from({ length: 20 }, (_, i) => upload(f.acts, cookie, [...fields(`batch ${i}`), image(JPEG)])),
      );
      for (const reply of replies) expectReply(reply, 201);
      const assigned = new Set(replies.map((reply) => (reply.json as { actId: number }).actId));
      assert.equal(assigned.size, 20);
      expectReply(await f.acts.get('/api/v1/acts/count'), 200, [before + 20]);
    });

    test('row 17: no session → 401; a tampered session → 401; nothing stored', async () => {
      const before = (await f.acts.get('/api/v1/acts/count')).json;
      expectError(await upload(f.acts, undefined, [...fields(), image(PNG)]), 401);
      expectError(await upload(f.acts, cookie.replace('lea', 'max'), [...fields(), image(PNG)]), 401);
      assert.deepEqual((await f.acts.get('/api/v1/acts/count')).json, before);
    });

    const invalid: [string, Part[]][] = [
      [
        'a text file named .png and declared image/png',
        [...fields(), image(Buffer.from('just some text, honestly'), 'cat.png', 'image/png')],
      ],
      ['an empty file', [...fields(), image(Buffer.alloc(0))]],
      ['a truncated PNG signature', [...fields(), image(PNG.subarray(0, 4))]],
      ['no image', fields()],
      ['the image under another field name', [...fields(), { ...image(PNG), name: 'file' }]],
      ['two images', [...fields(), image(PNG), image(PNG)]],
      ['categoryName missing', [{ name: 'caption', value: 'x' }, image(PNG)]],
      ['caption missing', [{ name: 'categoryName', value: 'pets' }, image(PNG)]],
      [
        'an unknown category',
        [{ name: 'caption', value: 'x' }, { name: 'categoryName', value: 'nothing' }, image(PNG)],
      ],
      ['an upvotes field', [...fields(), { name: 'upvotes', value: '5' }, image(PNG)]],
      ['an actId field (the server assigns it)', [...fields(), { name: 'actId', value: '99' }, image(PNG)]],
      ['an unknown field', [...fields(), { name: 'mood', value: 'good' }, image(PNG)]],
      ['caption sent twice', [...fields(), { name: 'caption', value: 'again' }, image(PNG)]],
    ];
    for (const [name, parts] of invalid) {
      test(`row 17: ${name} → 400, nothing stored`, async () => {
        const before = (await f.acts.get('/api/v1/acts/count')).json;
        expectError(await upload(f.acts, cookie, parts), 400);
        assert.deepEqual((await f.acts.get('/api/v1/acts/count')).json, before);
      });
    }

    test('row 17: a body that is not valid multipart → 400', async () => {
      const reply = await f.acts.call('POST', '/api/v1/acts', {
        body: '--nope\r\nthis is not a form',
        headers: { 'content-type': 'multipart/form-data; boundary=nope' },
        cookie,
      });
      expectError(reply, 400);
    });

    test('row 17: a deleted user’s session cannot upload → 400', async () => {
      await addUser(f.users, 'temp');
      const tempCookie = sessionCookie(
        await f.users.post('/api/v1/sessions', { username: 'temp', password: PASSWORD }),
      );
      expectReply(await f.users.del('/api/v1/users/temp'), 200, {});
      expectError(await upload(f.acts, tempCookie, [...fields(), image(PNG)]), 400);
    });

    test('row 18: ETag, immutable caching, and 304 on If-None-Match', async () => {
      const first = await f.acts.get('/api/v1/acts/41/image');
      expectReply(first, 200);
      assert.equal(first.headers['content-type'], 'image/png');
      assert.equal(first.headers['cache-control'], 'public, max-age=31536000, immutable');
      assert.equal(first.headers['x-content-type-options'], 'nosniff');
      const etag = String(first.headers.etag);
      assert.match(etag, /^"[0-9a-f]{64}"$/);
      const again = await f.acts.get('/api/v1/acts/41/image', { headers: { 'if-none-match': etag } });
      expectReply(again, 304);
      assert.equal(again.raw.length, 0);
      assert.equal(again.headers.etag, etag);
      const listed = await f.acts.get('/api/v1/acts/41/image', { headers: { 'if-none-match': `"other", W/${etag}` } });
      expectReply(listed, 304);
      const stale = await f.acts.get('/api/v1/acts/41/image', { headers: { 'if-none-match': '"0000"' } });
      expectReply(stale, 200);
      assert.deepEqual(stale.raw, PNG);
      expectReply(await f.acts.get('/api/v1/acts/0041/image'), 200);
    });

    test('row 18: an act uploaded as JSON with bytes that are no image → application/octet-stream', async () => {
      await addAct(f.acts, actBody({ actId: 9000, username: 'lea', categoryName: 'pets' }));
      const reply = await f.acts.get('/api/v1/acts/9000/image');
      expectReply(reply, 200);
      assert.equal(reply.headers['content-type'], 'application/octet-stream');
    });

    test('row 18: no such act → 404; not an unsigned integer → 400', async () => {
      expectError(await f.acts.get('/api/v1/acts/999999/image'), 404);
      expectError(await f.acts.get('/api/v1/acts/abc/image'), 400);
      expectError(await f.acts.get('/api/v1/acts/-1/image'), 400);
    });

    test('images larger than one storage part (1 MiB) round-trip byte for byte', async () => {
      const big = Buffer.concat([PNG.subarray(0, 8), randomBytes(2.5 * 1024 * 1024)]);
      const reply = await upload(f.acts, cookie, [...fields('big'), image(big)]);
      expectReply(reply, 201);
      const { actId } = reply.json as { actId: number };
      const served = await f.acts.get(`/api/v1/acts/${actId}/image`);
      assert.ok(served.raw.equals(big));
      const listed = (await f.acts.get(`/api/v1/acts?username=lea&start=1&end=1`)).json as { imgB64: string }[];
      assert.equal(listed[0]?.imgB64, big.toString('base64'));
    });
  });
}
