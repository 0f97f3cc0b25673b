// Cross-site refusal on the routes that set or use the session cookie (http/csrf.ts), at the
// HTTP level: what a browser says about where a request comes from (Sec-Fetch-Site, Origin)
// decides, in both modes; the Chromium suite (test/ui/cross-site.test.ts) shows real pages.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Backend } from '../support/backends.ts';
import type { Api } from '../support/client.ts';
import { actBody, addUser, PASSWORD } from '../support/data.ts';
import { expectError, expectReply, freshServices } from '../support/fixture.ts';
import { PNG } from '../support/images.ts';
import { image, multipart } from '../support/multipart.ts';
import { logIn } from './owner-rules.ts';

/** Headers a browser sends for a request from a page elsewhere, and from the site itself. */
function from(api: Api): Record<string, Record<string, string>> {
  const host = new URL(api.url).host;
  return {
    'a cross-site page (Sec-Fetch-Site)': { 'sec-fetch-site': 'cross-site', origin: 'http://evil.example' },
    'a page on another port (same-site)': { 'sec-fetch-site': 'same-site', origin: `http://127.0.0.1:1` },
    'another origin, no fetch metadata': { origin: 'http://evil.example' },
    'Origin: null (a sandboxed frame)': { origin: 'null' },
    'an Origin on this host, another port': { origin: `http://${host.replace(/:\d+$/, ':1')}` },
  };
}

function sameSite(api: Api): Record<string, Record<string, string>> {
  const host = new URL(api.url).host;
  return {
    'the site itself (same-origin)': { 'sec-fetch-site': 'same-origin', origin: `http://${host}` },
    'the site behind a proxy (X-Forwarded-Host)': {
      origin: 'https://acts.example',
      host: 'upstream:8000',
      'x-forwarded-host': 'acts.example',
    },
    'the site over HTTPS, Host with the default port': {
      origin: 'https://acts.example',
      host: 'acts.example:443',
      'x-forwarded-proto': 'https',
    },
    'a typed URL (none)': { 'sec-fetch-site': 'none' },
    'a client that is not a browser (no headers)': {},
  };
}

const login = (api: Api, headers: Record<string, string>) =>
  api.call('POST', '/api/v1/sessions', { json: { username: 'zoe', password: PASSWORD }, headers });

export function crossSite(backend: Backend): void {
  describe('cross-site requests are refused where the session cookie is set or used', () => {
    const f = freshServices(backend, { apiAccess: 'owner' });
    let cookie = '';

    test('setup', async () => {
      await addUser(f.users, 'zoe');
      cookie = await logIn(f.users, 'zoe');
      expectReply(await f.acts.post('/api/v1/categories', ['porch'], { cookie }), 201, {});
      expectReply(
        await f.acts.post('/api/v1/acts', actBody({ actId: 1, username: 'zoe', categoryName: 'porch' }), { cookie }),
        201,
        {},
      );
    });

    test('row 4 (log in): refused from elsewhere → 403, no cookie set; accepted from the site itself', async () => {
      for (const [name, headers] of Object.entries(from(f.users))) {
        const reply = await login(f.users, headers);
        expectError(reply, 403);
        assert.equal(reply.headers['set-cookie'], undefined, name);
      }
      for (const [name, headers] of Object.entries(sameSite(f.users))) {
        const reply = await login(f.users, headers);
        assert.equal(reply.status, 200, `${name}: ${reply.text}`);
      }
    });

    test('row 4 (log in): the cookie is Secure when the balancer says the request came over TLS, and only then', async () => {
      const cookieOf = (reply: { headers: Record<string, unknown> }) => String(reply.headers['set-cookie']);
      const overTls = await login(f.users, { 'x-forwarded-proto': 'https' });
      assert.equal(overTls.status, 200);
      assert.match(cookieOf(overTls), /; Secure/i);
      const plain = await login(f.users, {});
      assert.equal(plain.status, 200);
      assert.doesNotMatch(cookieOf(plain), /Secure/i);
      const logOut = await f.users.call('DELETE', '/api/v1/sessions', {
        headers: { 'x-forwarded-proto': 'https' },
        cookie: await logIn(f.users, 'zoe'),
      });
      assert.match(cookieOf(logOut), /; Secure/i, 'the cookie is cleared with the same attributes');
      cookie = await logIn(f.users, 'zoe');
    });

    test('owner-mode writes (category, upload, upvote, removal, log-out) from elsewhere → 403, nothing changed', async () => {
      const writes: [string, Api, 'POST' | 'DELETE', string, unknown][] = [
        ['category', f.acts, 'POST', '/api/v1/categories', ['evil']],
        ['upload', f.acts, 'POST', '/api/v1/acts', actBody({ actId: 2, username: 'zoe', categoryName: 'porch' })],
        ['upvote', f.acts, 'POST', '/api/v1/acts/upvote', [1]],
        ['removal', f.acts, 'DELETE', '/api/v1/acts/1', undefined],
        ['category removal', f.acts, 'DELETE', '/api/v1/categories/porch', undefined],
        ['log-out', f.users, 'DELETE', '/api/v1/sessions', undefined],
        ['account removal', f.users, 'DELETE', '/api/v1/users/zoe', undefined],
      ];
      for (const [name, api, method, path, json] of writes) {
        for (const [origin, headers] of Object.entries(from(api))) {
          const reply = await api.call(method, path, { ...(json === undefined ? {} : { json }), headers, cookie });
          assert.equal(reply.status, 403, `${name} from ${origin}: ${reply.text}`);
        }
      }
      const { body, headers } = multipart([
        { name: 'caption', value: 'x' },
        { name: 'categoryName', value: 'porch' },
        image(PNG),
      ]);
      expectError(
        await f.acts.call('POST', '/api/v1/acts', {
          body,
          headers: { ...headers, 'sec-fetch-site': 'same-site' },
          cookie,
        }),
        403,
      );
      expectReply(await f.acts.get('/api/v1/categories'), 200, { porch: 1 });
      const listed = (await f.acts.get('/api/v1/categories/porch/acts')).json as { upvotes: number }[];
      assert.equal(listed[0]!.upvotes, 0);
      expectReply(await f.users.get('/api/v1/sessions/me', { cookie }), 200, { username: 'zoe' });
    });
  });

  describe('open mode: the session routes refuse cross-site requests too; anonymous writes do not care', () => {
    const f = freshServices(backend, { apiAccess: 'open' });

    test('log-in, log-out and the multipart upload from elsewhere → 403; a JSON upload (no session) → 201', async () => {
      await addUser(f.users, 'zoe');
      const cookie = await logIn(f.users, 'zoe');
      expectReply(
        await f.acts.post('/api/v1/categories', ['porch'], { headers: { 'sec-fetch-site': 'cross-site' } }),
        201,
        {},
      );
      const evil = { 'sec-fetch-site': 'cross-site', origin: 'http://evil.example' };
      expectError(await login(f.users, evil), 403);
      expectError(await f.users.call('DELETE', '/api/v1/sessions', { headers: evil, cookie }), 403);
      const { body, headers } = multipart([
        { name: 'caption', value: 'x' },
        { name: 'categoryName', value: 'porch' },
        image(PNG),
      ]);
      expectError(await f.acts.call('POST', '/api/v1/acts', { body, headers: { ...headers, ...evil }, cookie }), 403);
      expectReply(await f.acts.call('POST', '/api/v1/acts', { body, headers, cookie }), 201);
      expectReply(await f.users.get('/api/v1/sessions/me', { cookie }), 200, { username: 'zoe' });
    });
  });
}
