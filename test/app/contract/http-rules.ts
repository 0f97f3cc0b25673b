// Rules for every route: 405 for every other method, 404 for unknown paths, the body limit
// (413), malformed input (400, never 500), {"error"} bodies, and security headers.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { request } from 'undici';
import type { Backend } from '../support/backends.ts';
import { sessionCookie, type Api, type HttpMethod } from '../support/client.ts';
import { addCategory, addUser, PASSWORD } from '../support/data.ts';
import { expectError, expectReply, freshServices } from '../support/fixture.ts';

type Service = 'users' | 'acts' | 'both';
const METHODS: HttpMethod[] = ['GET', 'POST', 'DELETE', 'PUT', 'PATCH'];

/** Every route of the spec with a concrete path, and the methods it answers. */
const ROUTES: [Service, string, HttpMethod[]][] = [
  ['users', '/api/v1/users', ['GET', 'POST']],
  ['users', '/api/v1/users/someone', ['DELETE']],
  ['users', '/api/v1/users/someone/exists', ['GET']],
  ['users', '/api/v1/sessions', ['POST', 'DELETE']],
  ['users', '/api/v1/sessions/me', ['GET']],
  ['acts', '/api/v1/categories', ['GET', 'POST']],
  ['acts', '/api/v1/categories/some', ['DELETE']],
  ['acts', '/api/v1/categories/some/acts', ['GET']],
  ['acts', '/api/v1/categories/some/acts/size', ['GET']],
  ['acts', '/api/v1/acts', ['POST']], // GET without start and end is 405 too (row 19)
  ['acts', '/api/v1/acts/upvote', ['POST']],
  ['acts', '/api/v1/acts/count', ['GET']],
  ['acts', '/api/v1/acts/1', ['DELETE']],
  ['acts', '/api/v1/acts/1/image', ['GET']],
  ['both', '/api/v1/_count', ['GET', 'DELETE']],
  ['both', '/api/v1/_health', ['GET']],
  ['both', '/api/v1/_crash', ['POST']],
];

export function httpRulesContract(backend: Backend): void {
  describe('405 on every route, 404 elsewhere', () => {
    const f = freshServices(backend);
    const on = (service: 'users' | 'acts'): Api => (service === 'users' ? f.users : f.acts);

    for (const [service, path, allowed] of ROUTES) {
      const others = METHODS.filter((m) => !allowed.includes(m));
      test(`${path}: ${others.join(', ')} → 405, with and without a body`, async () => {
        for (const target of service === 'both' ? (['users', 'acts'] as const) : [service]) {
          for (const method of others) {
            expectError(await on(target).call(method, path), 405);
            expectError(await on(target).call(method, path, { json: { anything: [1, 2, 3] } }), 405);
            expectError(
              await on(target).call(method, path, {
                body: 'not json at all {',
                headers: { 'content-type': 'application/json' },
              }),
              405,
            );
          }
        }
      });
    }

    test('DELETE /api/v1/acts/upvote and /api/v1/acts/count are 405, not "remove act"', async () => {
      expectError(await f.acts.del('/api/v1/acts/upvote'), 405);
      expectError(await f.acts.del('/api/v1/acts/count'), 405);
    });

    test('GET and POST on /api/v1/users/{username} → 405', async () => {
      expectError(await f.users.get('/api/v1/users/someone'), 405);
      expectError(await f.users.post('/api/v1/users/someone', {}), 405);
    });

    const unknown: [string, 'users' | 'acts', string][] = [
      ['an unknown API path', 'acts', '/api/v1/nothing'],
      ['another API version', 'users', '/api/v2/users'],
      ['a path below a route', 'users', '/api/v1/users/a/b/c'],
      ['the root, outside SERVICE=all', 'acts', '/'],
      ['an acts route on the users service', 'users', '/api/v1/categories'],
      ['a users route on the acts service', 'acts', '/api/v1/users'],
      ['a sessions route on the acts service', 'acts', '/api/v1/sessions/me'],
    ];
    for (const [name, service, path] of unknown) {
      test(`${name} → 404`, async () => {
        expectError(await on(service).get(path), 404);
        expectError(await on(service).call('PATCH', path), 404);
      });
    }

    test('a malformed percent-encoding in a path → 400', async () => {
      expectError(await f.users.del('/api/v1/users/%E0%A4%A'), 400);
      expectError(await f.acts.del('/api/v1/categories/%FF'), 400);
    });

    test('a body that is not UTF-8 → 400', async () => {
      const body = Buffer.from([0x5b, 0x22, 0xff, 0xfe, 0x22, 0x5d]); // ["\xff\xfe"]
      expectError(
        await f.acts.call('POST', '/api/v1/categories', { body, headers: { 'content-type': 'application/json' } }),
        400,
      );
    });

    test('a JSON body without a Content-Type is still read', async () => {
      expectReply(await f.acts.call('POST', '/api/v1/categories', { body: '["no header"]' }), 201, {});
    });

    test('strings with a lone UTF-16 surrogate are refused → 400', async () => {
      expectError(await f.acts.post('/api/v1/categories', '["bad \\ud800 name"]'), 400);
    });

    test('security headers (helmet) on answers and errors; no X-Powered-By', async () => {
      for (const reply of [await f.users.get('/api/v1/users'), await f.acts.get('/api/v1/nothing')]) {
        assert.equal(reply.headers['x-content-type-options'], 'nosniff');
        assert.equal(reply.headers['x-frame-options'], 'SAMEORIGIN');
        assert.ok(reply.headers['content-security-policy']);
        assert.equal(reply.headers['x-powered-by'], undefined);
        assert.equal(reply.headers['strict-transport-security'], undefined, "HSTS is the edge's, over TLS only");
      }
    });
  });

  describe('body limit (413)', () => {
    const f = freshServices(backend, { bodyLimit: 2048 });

    test('a JSON body over the limit → 413 {"error"} on both services', async () => {
      expectError(await f.users.post('/api/v1/users', { username: 'x'.repeat(4096), password: PASSWORD }), 413);
      expectError(await f.acts.post('/api/v1/categories', ['y'.repeat(4096)]), 413);
      expectError(await f.acts.post('/api/v1/acts', { actId: 1, imgB64: 'A'.repeat(4096) }), 413);
    });

    test('just under the limit is fine', async () => {
      await addCategory(f.acts, 'z'.repeat(1900));
    });

    test('a 405 does not depend on the body, even one over the limit', async () => {
      expectError(await f.users.call('PUT', '/api/v1/users', { json: ['x'.repeat(10_000)] }), 405);
    });

    test('a multipart upload over the limit → 413; a chunked one whose image is over it → 400', async () => {
      await addUser(f.users, 'pat');
      await addCategory(f.acts, 'c');
      const cookie = sessionCookie(await f.users.post('/api/v1/sessions', { username: 'pat', password: PASSWORD }));
      const boundary = 'limit-test';
      const head = `--${boundary}\r\nContent-Disposition: form-data; name="categoryName"\r\n\r\nc\r\n--${boundary}\r\nContent-Disposition: form-data; name="caption"\r\n\r\nx\r\n--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n`;
      const body = Buffer.concat([
        Buffer.from(head),
        Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
        Buffer.alloc(4096),
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]);
      const headers = { 'content-type': `multipart/form-data; boundary=${boundary}` };
      expectError(await f.acts.call('POST', '/api/v1/acts', { body, headers, cookie }), 413);
      // A stream body has no Content-Length: undici sends it chunked.
      const chunked = await request(`${f.acts.url}/api/v1/acts`, {
        method: 'POST',
        headers: { ...headers, cookie },
        body: Readable.from([body]),
      });
      assert.equal(chunked.statusCode, 400, await chunked.body.text());
      expectReply(await f.acts.get('/api/v1/acts/count'), 200, [0]);
    });
  });
}
