// The nginx configurations shipped for running without our supervisor, served by a real nginx:
// deploy/nginx.conf (Docker Compose: routes, 403, the UI) and the UI server of
// deploy/kubernetes/ui.yaml. Only addresses change: service names become two local HTTP
// servers that say who they are, the listen port an ephemeral one, the web root public/.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'yaml';
import { skipUnless } from '../helpers/requirements.ts';
import { freePorts, repoRoot, run, which } from './exec.ts';

const nginxBin =
  process.env.NGINX_BIN ?? (await which('nginx')) ?? (existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : undefined);
const skip = skipUnless({ missing: nginxBin ? undefined : 'no nginx binary (apt-get install nginx)' }, 'nginx');
const PUBLIC = path.join(repoRoot, 'public');

interface Echo {
  service: string;
  method: string;
  url: string;
  bytes: number;
  forwardedFor: string | undefined;
}

/** A backend that answers with its name and what it received. */
async function echoServer(service: string): Promise<Server> {
  const server = createServer((req, res) => {
    let bytes = 0;
    req.on('data', (chunk: Buffer) => (bytes += chunk.length));
    req.on('end', () => {
      const body: Echo = {
        service,
        method: req.method!,
        url: req.url!,
        bytes,
        forwardedFor: req.headers['x-forwarded-for'] as string | undefined,
      };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

/** Runs nginx in the foreground on `serverBlock` (plus upstreams) until stopped. */
async function startNginx(dir: string, serverBlock: string, port: number): Promise<{ stop(): Promise<void> }> {
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((name) => `${name}_temp_path ${dir}/${name};`)
    .join('\n  ');
  const conf = `daemon off;
pid ${dir}/nginx.pid;
error_log stderr warn;
events { worker_connections 64; }
http {
  access_log off;
  ${temp}
  types { text/html html; text/css css; text/javascript js; image/svg+xml svg; }
${serverBlock}
}
`;
  await writeFile(path.join(dir, 'nginx.conf'), conf);
  const check = await run(nginxBin!, ['-t', '-p', dir, '-c', path.join(dir, 'nginx.conf')]);
  assert.equal(check.code, 0, check.output);
  const child = spawn(nginxBin!, ['-p', dir, '-c', path.join(dir, 'nginx.conf')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (
      await fetch(`http://127.0.0.1:${port}/`).then(
        () => true,
        () => false,
      )
    )
      break;
    if (child.exitCode !== null) throw new Error(`nginx exited: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGQUIT'); // graceful: workers finish, then exit
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

describe('nginx configurations, served by nginx', { skip }, () => {
  let dir: string;
  let users: Server;
  let acts: Server;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'selflessacts-nginx-'));
    users = await echoServer('users');
    acts = await echoServer('acts');
  });
  after(async () => {
    await Promise.all([users, acts].map((s) => new Promise((r) => s?.close(r))));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('deploy/nginx.conf routes like the balancer, refuses _crash, serves the UI, passes 16 MiB', async (t) => {
    const [port] = await freePorts(1);
    const conf = (await readFile(path.join(repoRoot, 'deploy/nginx.conf'), 'utf8'))
      .replace('server users:8080;', `server 127.0.0.1:${(users.address() as AddressInfo).port};`)
      .replace('server acts:8000;', `server 127.0.0.1:${(acts.address() as AddressInfo).port};`)
      .replace('listen 80;', `listen 127.0.0.1:${port};`)
      .replace('root /usr/share/nginx/html;', `root ${PUBLIC};`);
    const nginx = await startNginx(dir, conf, port!);
    t.after(() => nginx.stop());
    const base = `http://127.0.0.1:${port}`;

    const routes: Array<[string, string, string]> = [
      ['GET', '/api/v1/users', 'users'],
      ['DELETE', '/api/v1/users/alice', 'users'],
      ['GET', '/api/v1/users/alice/exists', 'users'],
      ['POST', '/api/v1/sessions', 'users'],
      ['GET', '/api/v1/sessions/me', 'users'],
      ['GET', '/api/v1/previews/u/alice', 'users'],
      ['GET', '/api/v1/previews/a/37', 'acts'],
      ['GET', '/api/v1/categories', 'acts'],
      ['GET', '/api/v1/categories/cats/acts?start=1&end=2', 'acts'],
      ['POST', '/api/v1/acts/upvote', 'acts'],
      ['GET', '/api/v1/_health', 'acts'],
      ['GET', '/api/v1/_count', 'acts'],
      ['GET', '/api/v1', 'acts'],
    ];
    for (const [method, url, service] of routes) {
      const res = await fetch(`${base}${url}`, { method });
      assert.equal(res.status, 200, `${method} ${url}`);
      const echo = (await res.json()) as Echo;
      assert.deepEqual([echo.service, echo.method, echo.url], [service, method, url], `${method} ${url}`);
      assert.equal(echo.forwardedFor, '127.0.0.1');
    }
    for (const url of ['/api/v1/_crash', '/API/V1/_CRASH', '/api/v1/_crash/']) {
      const res = await fetch(`${base}${url}`, { method: 'POST' });
      assert.equal(res.status, 403, url);
      assert.match(((await res.json()) as { error: string }).error, /_crash/);
    }
    const index = await fetch(`${base}/`);
    assert.equal(index.status, 200);
    assert.equal(await index.text(), await readFile(path.join(PUBLIC, 'index.html'), 'utf8'));
    assert.equal((await fetch(`${base}/dashboard/`)).status, 200);
    assert.equal((await fetch(`${base}/no-such-page`)).status, 404);
    // Shareable addresses are the page (the web UI routes them).
    for (const shared of ['/a/37', '/c/Porch%20%26%20Garden', '/u/alice/'])
      assert.equal(
        await (await fetch(`${base}${shared}`)).text(),
        await readFile(path.join(PUBLIC, 'index.html'), 'utf8'),
      );

    // Uploads up to the app's limit reach it whole; the app answers 413 itself beyond that.
    const upload = await fetch(`${base}/api/v1/acts`, { method: 'POST', body: new Uint8Array(16 * 1024 * 1024) });
    assert.equal(((await upload.json()) as Echo).bytes, 16 * 1024 * 1024);
  });

  test('the UI server of deploy/kubernetes/ui.yaml serves public/ and refuses _crash', async (t) => {
    const [port] = await freePorts(1);
    const docs = (await readFile(path.join(repoRoot, 'deploy/kubernetes/ui.yaml'), 'utf8'))
      .split(/^---$/m)
      .map((d) => parse(d) as { kind: string; data?: Record<string, string> });
    const conf = docs
      .find((d) => d.kind === 'ConfigMap')!
      .data!['default.conf']!.replace('listen 8080;', `listen 127.0.0.1:${port};`)
      .replace('root /usr/share/nginx/html;', `root ${PUBLIC};`);
    const nginx = await startNginx(dir, conf, port!);
    t.after(() => nginx.stop());
    const base = `http://127.0.0.1:${port}`;
    assert.equal(await (await fetch(`${base}/`)).text(), await readFile(path.join(PUBLIC, 'index.html'), 'utf8'));
    assert.equal((await fetch(`${base}/_ui_health`)).status, 200);
    const page = await readFile(path.join(PUBLIC, 'index.html'), 'utf8');
    for (const shared of ['/a/37', '/u/alice'])
      assert.equal(await (await fetch(`${base}${shared}`)).text(), page, shared);
    const crash = await fetch(`${base}/api/v1/_crash`, { method: 'POST' });
    assert.equal(crash.status, 403);
    assert.equal(crash.headers.get('content-type'), 'application/json');
  });
});
