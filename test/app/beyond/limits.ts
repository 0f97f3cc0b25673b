// Hostile bodies and a flaky neighbour: the body limit counts bytes whatever the headers say
// (chunked JSON and multipart), the answer comes while a never-ending body is still being
// sent, large JSON is parsed off the event loop with exact numbers, and the acts service's
// lookups survive a keep-alive socket the users service reset.
import assert from 'node:assert/strict';
import { connect, createConnection, createServer, type Server, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import type { Backend } from '../support/backends.ts';
import { actBody, addAct, addCategory, addUser, PASSWORD } from '../support/data.ts';
import { expectError, expectReply, freshServices } from '../support/fixture.ts';
import { PNG } from '../support/images.ts';
import { multipart } from '../support/multipart.ts';
import { startActs } from '../support/services.ts';
import { api } from '../support/client.ts';
import { logIn } from './owner-rules.ts';

const LIMIT = 64 * 1024;

interface EndlessUpload {
  status: number;
  /** Body bytes the client had written when the answer arrived. */
  sentBeforeAnswer: number;
}

/**
 * Sends `head` (request line and headers, chunked) then `chunk` over and over, at most
 * `maxBytes`, until the server answers or closes; the status line it answered with.
 */
function endlessChunkedUpload(url: string, head: string, chunk: Buffer, maxBytes: number): Promise<EndlessUpload> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(Number(port), hostname);
    let sent = 0;
    let answer = '';
    let answeredAt = -1;
    const timer = setTimeout(() => finish(new Error('no answer in 20 s')), 20_000);
    function finish(err?: Error) {
      clearTimeout(timer);
      socket.destroy();
      const status = /^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1];
      if (status !== undefined) resolve({ status: Number(status), sentBeforeAnswer: answeredAt });
      else reject(err ?? new Error(`no status line: ${JSON.stringify(answer.slice(0, 200))}`));
    }
    socket.on('data', (data: Buffer) => {
      if (answeredAt === -1) answeredAt = sent;
      answer += data.toString('latin1');
      if (answer.includes('\r\n\r\n')) finish();
    });
    socket.on('error', (err) => finish(err));
    socket.on('close', () => finish());
    socket.on('connect', async () => {
      socket.write(head);
      const frame = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]);
      while (sent < maxBytes && answeredAt === -1 && !socket.destroyed) {
        sent += chunk.length;
        if (!socket.write(frame)) await new Promise((r) => socket.once('drain', r));
      }
    });
  });
}

/**
 * A TCP forwarder to the users service that resets the first connection the acts service
 * reuses: when a second request arrives on a connection that already had its answer, the
 * connection is reset instead of forwarded (what the acts service saw after the users service
 * closed an idle keep-alive socket under it).
 */
async function resettingProxy(
  targetPort: number,
): Promise<{ port: number; resets: () => number; close(): Promise<void> }> {
  let resets = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
    let answered = false;
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    upstream.on('data', (data) => {
      answered = true;
      client.write(data);
    });
    client.on('data', (data) => {
      if (answered && resets === 0) {
        resets += 1;
        client.resetAndDestroy();
        upstream.destroy();
        return;
      }
      upstream.write(data);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    resets: () => resets,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export function hostileBodies(backend: Backend): void {
  describe('a chunked body reserves memory by the bytes it sends, not by the limit (finding 1)', () => {
    // The shipped body limit (16 MiB) and body memory (16 MiB): one chunked body used to reserve
    // all of it before its first byte, so one client trickling it stalled every log-in.
    const f = freshServices(backend, { apiAccess: 'owner' });

    test('a log-in trickled as chunks, byte by byte: other log-ins answer at once meanwhile', async (t) => {
      await addUser(f.users, 'tess');
      const { hostname, port } = new URL(f.users.url);
      const tricklers = Array.from({ length: 3 }, () => connect(Number(port), hostname));
      t.after(() => {
        for (const s of tricklers) s.destroy();
      });
      for (const s of tricklers) {
        await new Promise((r) => s.once('connect', r));
        s.write(
          `POST /api/v1/sessions HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{\r\n`,
        );
      }
      await new Promise((r) => setTimeout(r, 200));
      for (let i = 0; i < 3; i++) {
        const started = performance.now();
        const reply = await Promise.race([
          f.users.post('/api/v1/sessions', { username: 'tess', password: PASSWORD }),
          new Promise<never>((_, reject) =>
            setTimeout(() => reject(new Error('a log-in waited 5 s behind the trickled bodies')), 5000).unref(),
          ),
        ]);
        expectReply(reply, 200);
        const ms = performance.now() - started;
        assert.ok(ms < 2000, `a log-in beside three trickled ones took ${Math.round(ms)} ms`);
      }
      for (const s of tricklers) s.write('1\r\n"\r\n');
    });
  });

  describe('the body limit counts bytes, whatever the headers say', () => {
    const f = freshServices(backend, { apiAccess: 'open', bodyLimit: LIMIT });
    let cookie = '';

    test('setup', async () => {
      await addUser(f.users, 'max');
      await addCategory(f.acts, 'c');
      cookie = await logIn(f.users, 'max');
    });

    test('a chunked multipart of many fields, each under the limit, all over it → 413, nothing stored', async () => {
      const parts = Array.from({ length: 8 }, (_, i) => ({ name: `f${i}`, value: 'x'.repeat(LIMIT / 2) }));
      const { body, headers } = multipart(parts);
      const { Readable } = await import('node:stream');
      const { request } = await import('undici');
      const reply = await request(`${f.acts.url}/api/v1/acts`, {
        method: 'POST',
        headers: { ...headers, cookie },
        body: Readable.from([body]),
      });
      assert.equal(reply.statusCode, 413, await reply.body.text());
      expectReply(await f.acts.get('/api/v1/acts/count'), 200, [0]);
    });

    test('a chunked JSON body of exactly the limit is read; one byte more → 413, nothing stored', async () => {
      const { Readable } = await import('node:stream');
      const { request } = await import('undici');
      const body = (name: string, bytes: number) => {
        const json = Buffer.from(JSON.stringify([name]));
        return Buffer.concat([json, Buffer.alloc(bytes - json.length, 0x20)]); // trailing whitespace is valid JSON
      };
      const post = (bytes: Buffer) => {
        const half = Math.floor(bytes.length / 2); // two chunks, each under the limit: only their sum is over it
        return request(`${f.acts.url}/api/v1/categories`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', cookie },
          body: Readable.from([bytes.subarray(0, half), bytes.subarray(half)]),
        });
      };
      const atLimit = await post(body('at-limit', LIMIT));
      assert.equal(atLimit.statusCode, 201, await atLimit.body.text());
      const over = await post(body('over-limit', LIMIT + 1));
      assert.equal(over.statusCode, 413, await over.body.text());
      const names = ((await f.acts.get('/api/v1/categories')).json ?? {}) as Record<string, number>;
      assert.ok('at-limit' in names && !('over-limit' in names), JSON.stringify(names));
      expectReply(await f.acts.del('/api/v1/categories/at-limit'), 200, {});
    });

    const endless: [string, string, Buffer][] = [
      ['JSON (row 15)', 'Content-Type: application/json', Buffer.from(`${'["'}${'x'.repeat(16 * 1024 - 2)}`)],
      [
        'multipart (row 17), before the file',
        'Content-Type: multipart/form-data; boundary=b',
        Buffer.from(`--b\r\nContent-Disposition: form-data; name="caption"\r\n\r\n${'y'.repeat(16 * 1024)}`),
      ],
    ];
    for (const [name, type, chunk] of endless) {
      test(`a never-ending chunked ${name} body → 413 while it is still being sent`, async () => {
        const head = `POST /api/v1/acts HTTP/1.1\r\nHost: ${new URL(f.acts.url).host}\r\nCookie: ${cookie}\r\n${type}\r\nTransfer-Encoding: chunked\r\n\r\n`;
        const result = await endlessChunkedUpload(f.acts.url, head, chunk, 256 * 1024 * 1024);
        assert.equal(result.status, 413);
        // Loopback socket buffers hold a few MB on either side: far less than the whole body.
        assert.ok(
          result.sentBeforeAnswer > 0 && result.sentBeforeAnswer < 64 * 1024 * 1024,
          `answered after ${result.sentBeforeAnswer} bytes`,
        );
      });
    }

    test('row 17: a UTF-8 caption arrives as sent; bytes that are not UTF-8 → 400, not U+FFFD', async () => {
      const caption = 'Grüße ✓ 😀';
      const good = multipart([
        { name: 'caption', value: caption },
        { name: 'categoryName', value: 'c' },
        { name: 'image', value: PNG, filename: 'a.png', type: 'image/png' },
      ]);
      expectReply(await f.acts.call('POST', '/api/v1/acts', { body: good.body, headers: good.headers, cookie }), 201);
      const listed = (await f.acts.get('/api/v1/categories/c/acts')).json as { caption: string }[];
      assert.equal(listed[0]!.caption, caption);
      const lone = multipart([
        { name: 'caption', value: Buffer.from([0xed, 0xa0, 0x80]) },
        { name: 'categoryName', value: 'c' },
        { name: 'image', value: PNG, filename: 'a.png', type: 'image/png' },
      ]);
      expectError(await f.acts.call('POST', '/api/v1/acts', { body: lone.body, headers: lone.headers, cookie }), 400);
      expectReply(await f.acts.del(`/api/v1/categories/c`), 200, {});
      await addCategory(f.acts, 'c');
    });

    test('a Content-Length over the limit → 413 before a byte of the body is read', async () => {
      const head = `POST /api/v1/categories HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${1024 * 1024 * 1024}\r\n\r\n`;
      const { hostname, port } = new URL(f.acts.url);
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), hostname, () => socket.write(head));
        socket.once('data', (data) => {
          socket.destroy();
          resolve(data.toString('latin1'));
        });
        socket.once('error', reject);
      });
      assert.match(answer, /^HTTP\/1\.1 413/);
    });
  });

  describe('large JSON bodies: parsed off the event loop, numbers exact, structure bounded', () => {
    const f = freshServices(backend, { apiAccess: 'open' });

    test('a 3 MiB row 15 upload with a 2^53 + 1 actId → 201, and the actId lists exactly', async () => {
      await addUser(f.users, 'big');
      await addCategory(f.acts, 'big');
      const imgB64 = Buffer.alloc(2 * 1024 * 1024 + 2, 7).toString('base64');
      await addAct(f.acts, actBody({ actId: 9007199254740993n, username: 'big', categoryName: 'big', imgB64 }));
      const listed = (await f.acts.get('/api/v1/categories/big/acts')).json as { actId: bigint; imgB64: string }[];
      assert.equal(listed[0]!.actId, 9007199254740993n);
      assert.equal(listed[0]!.imgB64, imgB64);
    });

    test('16 MiB of structure on any JSON route → 400 {"error"} at once, the service still answering', async () => {
      const body = `[${'[],'.repeat(5 * 1024 * 1024)}[]]`;
      for (const [service, path] of [
        ['acts', '/api/v1/acts/upvote'],
        ['acts', '/api/v1/categories'],
        ['users', '/api/v1/users'],
        ['users', '/api/v1/sessions'],
      ] as const) {
        const started = performance.now();
        expectError(await f[service].post(path, body), 400);
        assert.ok(performance.now() - started < 5000, `${path}: ${performance.now() - started} ms`);
      }
      expectReply(await f.acts.get('/api/v1/_health'), 200);
    });

    test('a large body with a duplicated key → 400', async () => {
      const body = `{"username":"a","password":"${PASSWORD}","pad":"${'p'.repeat(100_000)}","username":"b"}`;
      expectError(await f.users.post('/api/v1/users', body), 400);
    });
  });

  describe('the users lookup retries once on a reset keep-alive socket', () => {
    const f = freshServices(backend, { apiAccess: 'open' });

    test('two uploads in a row through a users service that resets the reused socket: both 201', async (t) => {
      await addUser(f.users, 'rae');
      await addCategory(f.acts, 'r');
      const proxy = await resettingProxy(f.pair.usersApp.port);
      t.after(() => proxy.close());
      const actsApp = await startActs(f.store.storage, `http://127.0.0.1:${proxy.port}`, { apiAccess: 'open' });
      t.after(() => actsApp.close());
      const acts = api(actsApp.url);
      for (const actId of [1, 2, 3]) await addAct(acts, actBody({ actId, username: 'rae', categoryName: 'r' }));
      assert.equal(proxy.resets(), 1, 'the proxy did reset a reused connection');
      expectReply(await acts.get('/api/v1/acts/count'), 200, [3]);
    });
  });
}
