// The balancer's limits and the security findings of issue 10, against the real balancer and
// admin listener (process runtime): connections per client address, requests queued per
// replica, no open redirect, the UI's security headers, routing on the path the replica sees,
// and the admin API out of a web page's reach. Ports 30060-30089.
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ADMIN_POST, http } from '../../testkit/supervisor.ts';
import { abuseSuite, clearJournal, journal, openSocket, raw, statuses } from './support.ts';

const CAP = 5;
const a = abuseSuite({
  suite: 'abuse-limits',
  port: 30060,
  users: true,
  adminOnListener: true,
  limits: { maxConnectionsPerClient: CAP, maxConnectionsPerReplica: 2, maxQueuedPerReplica: 2 },
});
const H = 'Host: 127.0.0.1\r\n';
const adminBase = `http://127.0.0.1:${a.port + 1}`;

describe('limits and security findings against the real balancer', () => {
  before(async () => {
    const pub = path.join(a.suite.dir, 'public');
    await mkdir(path.join(pub, 'css'), { recursive: true });
    await writeFile(path.join(pub, 'index.html'), '<!doctype html><title>home</title>');
    await writeFile(path.join(pub, 'css', 'site.css'), 'body{}');
  });

  test(`connections per client address: the ${CAP + 1}th gets 503 with Retry-After; other addresses are served`, async () => {
    const held = await Promise.all(Array.from({ length: CAP }, () => openSocket(a.port, '127.0.3.3')));
    await sleep(100);
    const extra = await raw(a.port, `GET /api/v1/x HTTP/1.1\r\n${H}\r\n`, { from: '127.0.3.3' });
    assert.deepEqual(statuses(extra.text), [503]);
    assert.match(extra.text, /\r\nretry-after: 1\r\n/);
    assert.match(extra.text, /"error":"too many connections from 127\.0\.3\.3/);
    const other = await raw(a.port, `GET /api/v1/x HTTP/1.1\r\n${H}Connection: close\r\n\r\n`, { from: '127.0.3.4' });
    assert.deepEqual(statuses(other.text), [200]);
    for (const s of held) s.destroy();
    await sleep(200);
    const again = await raw(a.port, `GET /api/v1/x HTTP/1.1\r\n${H}Connection: close\r\n\r\n`, { from: '127.0.3.3' });
    assert.deepEqual(statuses(again.text), [200], 'closed connections free their places');
  });

  test('requests queued per replica are capped: beyond it, 503 with Retry-After, at once', async () => {
    // 2 replicas × (2 connections + 2 queued) = 8 slow requests taken; the 9th is refused.
    const slow = Array.from({ length: 8 }, (_, i) =>
      raw(a.port, `GET /api/v1/slow?ms=1500&i=${i} HTTP/1.1\r\n${H}\r\n`, {
        from: `127.0.4.${i + 1}`,
        responses: 1,
        waitMs: 6000,
      }),
    );
    await sleep(300);
    const refused = await raw(a.port, `GET /api/v1/x HTTP/1.1\r\n${H}\r\n`, { from: '127.0.4.20', responses: 1 });
    assert.deepEqual(statuses(refused.text), [503]);
    assert.match(refused.text, /\r\nretry-after: 1\r\n/);
    assert.match(refused.text, /busy/);
    assert.ok(refused.ms < 1000, `refused at once (${refused.ms} ms)`);
    assert.deepEqual(
      (await Promise.all(slow)).map((r) => statuses(r.text)[0]),
      Array(8).fill(200),
      'the queued ones are served',
    );
  });

  test("no open redirect: the issue's target is refused, a directory redirects within the site", async () => {
    const evil = await http('GET', `${a.base}/%2F%2Fevil.example%2F..%2Fcss`);
    assert.equal(evil.status, 400);
    assert.equal(evil.headers.location, undefined);
    const dir = await raw(a.port, `GET //css HTTP/1.1\r\n${H}\r\n`, { responses: 1 });
    assert.match(dir.text, /^HTTP\/1\.1 301 [\s\S]*\r\nlocation: \/css\/\r\n/);
  });

  test('the UI from the balancer carries the security headers (CSP, frame options)', async () => {
    const home = await http('GET', `${a.base}/`);
    assert.equal(home.status, 200);
    assert.match(String(home.headers['content-security-policy']), /default-src 'self'.*frame-ancestors 'self'/);
    assert.equal(home.headers['x-frame-options'], 'SAMEORIGIN');
    assert.equal(home.headers['x-content-type-options'], 'nosniff');
    assert.equal(home.headers['strict-transport-security'], undefined, 'no HSTS over plain HTTP');
  });

  test('routing on the path the replica sees: DELETE /api/v1/users/%2E%2E is the acts path /api/v1/ at acts, nothing at users', async () => {
    const all = [...a.replicas, a.usersPort];
    await clearJournal(all);
    const reply = await http('DELETE', `${a.base}/api/v1/users/%2E%2E`);
    assert.equal(reply.status, 200);
    assert.deepEqual(
      (await journal([a.usersPort])).map((s) => s.url),
      [],
    );
    assert.deepEqual(
      (await journal(a.replicas)).map((s) => `${s.method} ${s.url}`),
      ['DELETE /api/v1/'],
    );
    const spelled = await http('GET', `${a.base}/api/v1/%75sers/bob`);
    assert.equal((JSON.parse(spelled.text) as { service: string; path: string }).service, 'users');
    assert.deepEqual(
      (await journal([a.usersPort])).map((s) => s.url),
      ['/api/v1/users/bob'],
    );
  });

  test('encoded slashes and backslashes cannot reach the dashboard around the loopback check', async () => {
    for (const target of ['/x%2f..%2fdashboard/index.html', '/x%2F..%2Fadmin/status', '/x%5c..%5cdashboard/']) {
      const reply = await raw(a.port, `GET ${target} HTTP/1.1\r\n${H}\r\n`, { responses: 1 });
      assert.deepEqual(statuses(reply.text), [400], target);
    }
    const dotted = await raw(a.port, `GET /x/../dashboard/ HTTP/1.1\r\nHost: evil.example\r\n\r\n`, { responses: 1 });
    assert.deepEqual(statuses(dotted.text), [403], 'resolved to /dashboard/, and the gate applies');
  });

  test('the admin API through the listener (configured here): loopback Host names only', async () => {
    assert.equal((await http('GET', `${a.base}/admin/status`)).status, 200);
    assert.equal((await http('GET', `${a.base}/admin/status`, { headers: { host: 'localhost' } })).status, 200);
    const rebound = await http('GET', `${a.base}/admin/status`, { headers: { host: 'evil.example' } });
    assert.equal(rebound.status, 403);
  });

  test('the admin listener refuses a browser page: DNS-rebound Host, or a POST without X-Admin-Token', async () => {
    const restarts = async () => (await a.suite.admin.events()).filter((e) => e.type === 'worker.restarted').length;
    const before = await restarts();
    const rebound = await http('GET', `${adminBase}/status`, { headers: { host: 'evil.example:3001' } });
    assert.equal(rebound.status, 403);
    assert.match(JSON.parse(rebound.text).error, /loopback host name/);
    // What a page can send without a preflight: a form POST, or fetch with simple headers.
    const form = await http('POST', `${adminBase}/workers/heartbeat/kill`, {
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://evil.example' },
      body: 'a=1',
    });
    assert.equal(form.status, 403);
    assert.match(JSON.parse(form.text).error, /x-admin-token/);
    const viaListener = await http('POST', `${a.base}/admin/workers/heartbeat/kill`, {
      headers: { 'content-type': 'text/plain' },
      body: 'x',
    });
    assert.equal(viaListener.status, 403);
    const preflight = await http('OPTIONS', `${adminBase}/workers/heartbeat/kill`, {
      headers: {
        origin: 'http://evil.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'x-admin-token',
      },
    });
    assert.equal(
      preflight.headers['access-control-allow-origin'],
      undefined,
      'no CORS grant, so a page cannot add the header',
    );
    await sleep(300);
    assert.equal(await restarts(), before, 'nothing was killed');
    const guessed = await http('POST', `${adminBase}/workers/heartbeat/kill`, {
      headers: { 'x-admin-token': 'anything' },
    });
    assert.equal(guessed.status, 403, 'a value that is not the token does not act');
    assert.equal(await restarts(), before);
    assert.equal((await http('POST', `${adminBase}/workers/heartbeat/kill`, ADMIN_POST)).status, 202);
  });
});
