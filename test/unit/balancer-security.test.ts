// Static files without an open redirect and with the UI's security headers; who may use the
// admin API. Static files are served by a real node:http server on 127.0.0.1 from a temp dir.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { checkAdminRequest, hostName, isLoopback, isLoopbackHost } from '../../supervisor/web/admin-access.ts';
import { UI_SECURITY_HEADERS } from '../../supervisor/web/security-headers.ts';
import { directoryLocation, serveStatic } from '../../supervisor/web/static.ts';

describe('static files', () => {
  let dir = '';
  let server: Server;
  let base = '';
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'sa-static-'));
    await mkdir(path.join(dir, 'css'));
    await writeFile(path.join(dir, 'index.html'), '<!doctype html><title>home</title>');
    await writeFile(path.join(dir, 'css', 'site.css'), 'body{}');
    // A sibling whose name starts with the root's: a prefix check without the separator lets it through.
    await mkdir(`${dir}-private`);
    await writeFile(path.join(`${dir}-private`, 'secret.txt'), 'secret');
    // As the admin listener uses it: the path decoded, escapes and all.
    server = createServer((req, res) => {
      const url = req.url ?? '/';
      const pathname = decodeURIComponent(url.split('?')[0]!);
      void serveStatic(dir, pathname, req, res).then((served) => {
        if (!served) res.writeHead(404).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
    await rm(`${dir}-private`, { recursive: true, force: true });
  });

  const rows: Array<[string, string]> = [
    ['/%2F%2Fevil.example%2F..%2Fcss', '/evil.example/../css/'],
    ['/%2F%5Cevil.example%2F..%2Fcss', '/%5Cevil.example/../css/'],
    ['/css', '/css/'],
    ['/css?x=1', '/css/?x=1'],
  ];
  for (const [target, location] of rows) {
    test(`GET ${target} redirects within the site, to ${location}`, async () => {
      const res = await fetch(`${base}${target}`, { redirect: 'manual' });
      assert.equal(res.status, 301);
      const got = res.headers.get('location')!;
      assert.equal(got, location);
      assert.equal(new URL(got, 'http://site.example/').host, 'site.example', 'a browser stays on the site');
    });
  }

  test('directoryLocation never yields a protocol-relative location, whatever the mount', () => {
    for (const p of ['//evil.example', '///evil.example', '/\\evil.example', '/\\\\evil.example']) {
      for (const mount of ['', '/dashboard']) {
        const loc = directoryLocation(mount, p, '');
        assert.ok(loc.startsWith('/') && !loc.startsWith('//') && !loc.startsWith('/\\'), loc);
        assert.equal(new URL(loc, 'http://site.example/').host, 'site.example', loc);
      }
    }
  });

  test('pages carry the UI security headers (CSP, frame options, nosniff)', async () => {
    const res = await fetch(`${base}/`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'.*frame-ancestors 'self'/);
    assert.equal(res.headers.get('x-frame-options'), 'SAMEORIGIN');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
    assert.equal(res.headers.get('strict-transport-security'), null, 'no HSTS over plain HTTP');
    for (const [name, value] of Object.entries(UI_SECURITY_HEADERS)) assert.equal(res.headers.get(name), value, name);
  });

  test('no escaping the root', async () => {
    assert.equal((await fetch(`${base}/..%2F..%2Fetc%2Fpasswd`)).status, 404);
  });

  test("no reaching a sibling directory whose name starts with the root's", async () => {
    const sibling = `${path.basename(dir)}-private`;
    const res = await fetch(`${base}/..%2F${sibling}%2Fsecret.txt`);
    assert.equal(res.status, 404);
    assert.notEqual(await res.text(), 'secret');
  });
});

describe('who may use the admin API', () => {
  const options = { listenerHost: '127.0.0.1', token: '' };
  const rows: Array<{
    name: string;
    method: string;
    host: string | undefined;
    token?: string;
    opts?: typeof options;
    ok: boolean;
  }> = [
    { name: 'GET addressed to 127.0.0.1:3001', method: 'GET', host: '127.0.0.1:3001', ok: true },
    { name: 'GET addressed to localhost', method: 'GET', host: 'localhost:3001', ok: true },
    { name: 'GET addressed to [::1]', method: 'GET', host: '[::1]:3001', ok: true },
    { name: 'DNS rebinding: GET addressed to evil.example', method: 'GET', host: 'evil.example:3001', ok: false },
    { name: 'a loopback-looking name is not loopback', method: 'GET', host: '127.0.0.1.evil.example', ok: false },
    { name: 'no Host at all', method: 'GET', host: undefined, ok: false },
    {
      name: 'POST without the token header (what a form or fetch without preflight sends)',
      method: 'POST',
      host: '127.0.0.1:3001',
      ok: false,
    },
    {
      name: 'POST with the header, no token known (none is ever "any value")',
      method: 'POST',
      host: '127.0.0.1:3001',
      token: '1',
      ok: false,
    },
    { name: 'POST with an empty header, no token known', method: 'POST', host: '127.0.0.1:3001', token: '', ok: false },
    {
      name: 'POST with the wrong token',
      method: 'POST',
      host: '127.0.0.1:3001',
      token: 'guess',
      opts: { listenerHost: '127.0.0.1', token: 's3cret' },
      ok: false,
    },
    {
      name: 'POST with the right token',
      method: 'POST',
      host: '127.0.0.1:3001',
      token: 's3cret',
      opts: { listenerHost: '127.0.0.1', token: 's3cret' },
      ok: true,
    },
    {
      name: 'an admin listener on a private address is reachable by that address',
      method: 'GET',
      host: '10.0.0.5:3001',
      opts: { listenerHost: '10.0.0.5', token: '' },
      ok: true,
    },
    {
      name: 'a wildcard admin listener admits no extra name',
      method: 'GET',
      host: '10.0.0.5:3001',
      opts: { listenerHost: '0.0.0.0', token: '' },
      ok: false,
    },
  ];
  for (const row of rows) {
    test(`${row.name} → ${row.ok ? 'allowed' : '403'}`, () => {
      const verdict = checkAdminRequest(
        { method: row.method, host: row.host, token: row.token, acts: true },
        row.opts ?? options,
      );
      assert.equal(verdict.ok, row.ok, JSON.stringify(verdict));
    });
  }
  test('a POST that would do nothing (wrong route) needs no token: the route answers 405', () => {
    assert.ok(checkAdminRequest({ method: 'POST', host: '127.0.0.1', token: undefined, acts: false }, options).ok);
  });
  test('host names and loopback addresses', () => {
    assert.equal(hostName('[::1]:3001'), '::1');
    assert.equal(hostName('LocalHost'), 'localhost');
    assert.equal(hostName('a b'), undefined);
    assert.ok(
      isLoopback('::ffff:127.0.0.1') &&
        isLoopback('127.1.2.3') &&
        !isLoopback('10.0.0.1') &&
        !isLoopback('127.0.0.1.evil'),
    );
    assert.ok(isLoopbackHost('127.0.0.1') && !isLoopbackHost('localhost.evil.example'));
  });
});
