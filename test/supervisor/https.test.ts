// The public edge over TLS, with real clients: curl (HTTP/2 and HTTP/1.1, checking the chain
// against the test CA), Node's HTTP/2 and HTTPS clients, the plain port's redirects and ACME
// challenges, HSTS, compression by Accept-Encoding, and the certificate replaced on disk and
// by SIGHUP while clients keep sending requests (none may fail). Process runtime, echo
// replicas; certificates from openssl. Ports 31000-31099.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readFile, rename, writeFile, copyFile } from 'node:fs/promises';
import { connect as http2Connect, constants as h2 } from 'node:http2';
import { Agent, request as httpsRequest } from 'node:https';
import path from 'node:path';
import { describe, test } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { echoService, eventually, supervisorSuite, writeConfig } from '../../testkit/supervisor.ts';
import { makeCa, makeLeaf, type TestCa, type TestLeaf } from '../../testkit/tls.ts';

const LISTEN = 31000;
const ADMIN = 31001;
const REDIRECT = 31002;
const ACTS = 31010;
const base = `https://127.0.0.1:${LISTEN}`;
const run = promisify(execFile);

let ca: TestCa;
let first: TestLeaf;
/** Where the config points: the test replaces these files. */
let certFile = '';
let keyFile = '';
let webroot = '';

interface CurlReply {
  status: number;
  version: string;
  headers: Record<string, string>;
  body: Buffer;
}

/** curl against the balancer, verifying the chain with the test CA. */
async function curl(url: string, args: string[] = []): Promise<CurlReply> {
  const dir = ca.dir;
  const headersFile = path.join(dir, `h-${process.hrtime.bigint()}`);
  const bodyFile = `${headersFile}.body`;
  const { stdout } = await run('curl', [
    '-sS',
    '--cacert',
    ca.caFile,
    '-D',
    headersFile,
    '-o',
    bodyFile,
    '-w',
    '%{http_code} %{http_version}',
    '--max-time',
    '10',
    ...args,
    url,
  ]);
  const [status, version] = stdout.trim().split(' ');
  const headers: Record<string, string> = {};
  for (const line of (await readFile(headersFile, 'latin1')).split('\r\n').slice(1)) {
    const at = line.indexOf(':');
    if (at > 0) headers[line.slice(0, at).toLowerCase()] = line.slice(at + 1).trim();
  }
  return {
    status: Number(status),
    version: version!,
    headers,
    body: await readFile(bodyFile).catch(() => Buffer.alloc(0)),
  };
}

/** The certificate a new TLS connection is given. */
function servedFingerprint(): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect(
      { host: '127.0.0.1', port: LISTEN, ca: ca.ca, servername: 'localhost', ALPNProtocols: ['http/1.1'] },
      () => {
        const fp = socket.getPeerCertificate().fingerprint256;
        socket.destroy();
        resolve(fp);
      },
    );
    socket.on('error', reject);
  });
}

/** Replaces the configured files the way certbot and our deploy hook do: write aside, rename over. */
async function install(leaf: TestLeaf): Promise<void> {
  await copyFile(leaf.keyFile, `${keyFile}.new`);
  await copyFile(leaf.certFile, `${certFile}.new`);
  await rename(`${keyFile}.new`, keyFile);
  await rename(`${certFile}.new`, certFile);
}

describe('HTTPS at the balancer', () => {
  const suite = supervisorSuite({
    suite: 'https',
    adminPort: ADMIN,
    config: async (dir) => {
      const tlsDir = path.join(dir, 'tls');
      await mkdir(tlsDir);
      ca = await makeCa(tlsDir);
      first = await makeLeaf(ca, 'first');
      certFile = path.join(tlsDir, 'live', 'fullchain.pem');
      keyFile = path.join(tlsDir, 'live', 'privkey.pem');
      await mkdir(path.dirname(certFile));
      await install(first);
      webroot = path.join(dir, 'acme');
      await mkdir(path.join(webroot, '.well-known', 'acme-challenge'), { recursive: true });
      await writeFile(path.join(webroot, '.well-known', 'acme-challenge', 'Tok3n_-x'), 'Tok3n_-x.thumbprint');
      await mkdir(path.join(dir, 'public'));
      await writeFile(
        path.join(dir, 'public', 'index.html'),
        `<!doctype html><title>home</title>${'<p>selfless acts</p>'.repeat(200)}`,
      );
      return writeConfig({
        suite: 'https',
        dir,
        runtime: 'process',
        listenPort: LISTEN,
        adminPort: ADMIN,
        services: {
          acts: echoService({
            replicas: { initial: 2, min: 2, max: 2 },
            startPort: ACTS,
            routes: ['/api/v1'],
            env: { ECHO_JOURNAL: '1' },
          }),
        },
        extra: {
          balancer: {
            threads: 2,
            tls: { certFile, keyFile, redirectPort: REDIRECT, hstsMaxAgeSeconds: 600, acmeWebroot: webroot },
          },
        },
      });
    },
    ready: { acts: 2 },
    readyTimeoutMs: 30_000,
  });

  test('curl --http2 and --http1.1: the chain verifies against the test CA; HSTS; the replica learns https and the host', async () => {
    for (const [flag, version] of [
      ['--http2', '2'],
      ['--http1.1', '1.1'],
    ] as const) {
      const reply = await curl(`${base}/api/v1/headers`, [
        flag,
        '-H',
        'X-Forwarded-Proto: http',
        '-H',
        'X-Forwarded-For: 203.0.113.9',
        '-H',
        'X-Forwarded-Host: attacker.example',
      ]);
      assert.equal(reply.status, 200, flag);
      assert.equal(reply.version, version, `${flag}: the protocol negotiated by ALPN`);
      assert.equal(reply.headers['strict-transport-security'], 'max-age=600');
      const seen = (JSON.parse(reply.body.toString()) as { headers: Record<string, string> }).headers;
      assert.equal(seen['x-forwarded-proto'], 'https', `${flag}: the client's X-Forwarded-Proto is overwritten`);
      assert.equal(seen['x-forwarded-for'], '127.0.0.1');
      assert.equal(seen['x-forwarded-host'], `127.0.0.1:${LISTEN}`);
      assert.equal(seen.host, `127.0.0.1:${LISTEN}`, `${flag}: Host (from :authority over HTTP/2)`);
      assert.equal(
        Object.keys(seen).filter((k) => k.startsWith(':')).length,
        0,
        'no pseudo-header reaches the replica',
      );
    }
    const page = await curl(`${base}/`, ['--http2']);
    assert.equal(page.status, 200);
    assert.equal(
      page.headers['strict-transport-security'],
      'max-age=600',
      "static files carry the configured HSTS, not helmet's",
    );
  });

  test('HTTP/2: a streamed upload and a streamed download arrive whole; a Host that contradicts :authority is 400', async () => {
    const body = Buffer.alloc(300_000, 'u');
    const up = await curl(`${base}/api/v1/upload`, [
      '--http2',
      '--data-binary',
      `@${await tmpFile(body)}`,
      '-H',
      'content-type: application/octet-stream',
    ]);
    assert.equal(up.status, 200);
    assert.equal((JSON.parse(up.body.toString()) as { bytes: number }).bytes, body.length);
    const down = await curl(`${base}/api/v1/bytes?n=2000000`, ['--http2']);
    assert.equal(down.body.length, 2_000_000);
    const session = http2Connect(base, { ca: ca.ca, servername: 'localhost' });
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const req = session.request({
          ':path': '/api/v1/headers',
          ':authority': `127.0.0.1:${LISTEN}`,
          host: 'other.example',
        });
        req.on('response', (h) => resolve(Number(h[':status'])));
        req.on('error', reject);
        req.end();
      });
      assert.equal(status, 400);
    } finally {
      session.close();
    }
  });

  test('the plain port: 301 (GET) and 308 (POST) to the same path on HTTPS; ACME challenges answered; nothing else served', async () => {
    const plain = `http://127.0.0.1:${REDIRECT}`;
    const get = await fetch(`${plain}/api/v1/categories?x=1`, { redirect: 'manual' });
    assert.equal(get.status, 301);
    assert.equal(get.headers.get('location'), `https://127.0.0.1:${LISTEN}/api/v1/categories?x=1`);
    const post = await fetch(`${plain}/api/v1/sessions`, { method: 'POST', body: '{}', redirect: 'manual' });
    assert.equal(post.status, 308);
    const challenge = await fetch(`${plain}/.well-known/acme-challenge/Tok3n_-x`);
    assert.equal(challenge.status, 200);
    assert.equal(await challenge.text(), 'Tok3n_-x.thumbprint');
    assert.equal((await fetch(`${plain}/.well-known/acme-challenge/missing`)).status, 404);
    assert.equal(
      (await fetch(`${plain}/.well-known/acme-challenge/a.b`)).status,
      404,
      'not a token: never a file lookup',
    );
    const traversal = await curl(`${plain}/.well-known/acme-challenge/..%2f..%2f..%2fetc%2fpasswd`, ['--path-as-is']);
    assert.equal(traversal.status, 400);
    const noHost = await curl(`${plain}/x`, ['-H', 'Host:', '--http1.0']);
    assert.equal(noHost.status, 301, "no Host: the certificate's own name");
    assert.equal(noHost.headers.location, `https://localhost:${LISTEN}/x`);
    const forged = await curl(`${plain}/login`, ['-H', 'Host: evil.example']);
    assert.equal(forged.status, 301);
    assert.equal(
      forged.headers.location,
      `https://localhost:${LISTEN}/login`,
      'a Host the certificate does not name is never reflected',
    );
    const plainPage = await curl(`${plain}/`, ['-H', 'Host: localhost']);
    assert.equal(plainPage.headers['strict-transport-security'], undefined, 'no HSTS over plain HTTP');
  });

  test('TLS 1.2 offers Mozilla "intermediate" suites only: no CBC with SHA-1 or SHA-384, no static RSA; AEAD ones work', async () => {
    const handshake = (ciphers: string) =>
      new Promise<string>((resolve) => {
        const socket = tlsConnect(
          { host: '127.0.0.1', port: LISTEN, ca: ca.ca, servername: 'localhost', maxVersion: 'TLSv1.2', ciphers },
          () => {
            resolve(socket.getCipher().name);
            socket.destroy();
          },
        );
        socket.on('error', (err: NodeJS.ErrnoException) => resolve(`refused ${err.code}`));
      });
    for (const weak of [
      'ECDHE-ECDSA-AES128-SHA',
      'ECDHE-ECDSA-AES256-SHA',
      'ECDHE-ECDSA-AES128-SHA256',
      'ECDHE-ECDSA-AES256-SHA384',
      'AES128-GCM-SHA256',
    ]) {
      assert.match(await handshake(weak), /^refused/, weak);
    }
    for (const good of [
      'ECDHE-ECDSA-AES128-GCM-SHA256',
      'ECDHE-ECDSA-AES256-GCM-SHA384',
      'ECDHE-ECDSA-CHACHA20-POLY1305',
    ]) {
      assert.equal(await handshake(good), good);
    }
  });

  test('compression: brotli or gzip by Accept-Encoding for text, with Vary; images, small bodies and identity untouched', async () => {
    const url = `${base}/api/v1/bytes?n=200000&type=application/json&fill=ab`;
    for (const flag of ['--http2', '--http1.1']) {
      const br = await curl(url, [flag, '-H', 'accept-encoding: gzip, br']);
      assert.equal(br.headers['content-encoding'], 'br', flag);
      assert.equal(br.headers.vary, 'Accept-Encoding');
      assert.ok(br.body.length < 2000, `${flag}: ${br.body.length} bytes for 200,000`);
      assert.equal(brotliDecompressSync(br.body).toString(), 'ab'.repeat(100_000));
      const gz = await curl(url, [flag, '-H', 'accept-encoding: gzip']);
      assert.equal(gz.headers['content-encoding'], 'gzip');
      assert.equal(gunzipSync(gz.body).length, 200_000);
      const refused = await curl(url, [flag, '-H', 'accept-encoding: br;q=0, gzip;q=0']);
      assert.equal(refused.headers['content-encoding'], undefined);
      assert.equal(refused.headers.vary, 'Accept-Encoding', 'the response could have been encoded: caches must know');
      assert.equal(refused.body.length, 200_000);
    }
    const image = await curl(`${base}/api/v1/bytes?n=200000&type=image/png`, ['-H', 'accept-encoding: br, gzip']);
    assert.equal(image.headers['content-encoding'], undefined, 'never an image');
    assert.equal(image.headers.vary, undefined);
    const small = await curl(`${base}/api/v1/bytes?n=300&type=application/json&length=1`, [
      '-H',
      'accept-encoding: br',
    ]);
    assert.equal(small.headers['content-encoding'], undefined, 'below minBytes');
    const smallChunked = await curl(`${base}/api/v1/bytes?n=300&type=application/json`, ['-H', 'accept-encoding: br']);
    assert.equal(smallChunked.headers['content-encoding'], undefined, 'found small once it all arrived');
    assert.equal(smallChunked.headers['content-length'], '300');
    const whole = await curl(`${base}/api/v1/bytes?n=50000&type=text/html&length=1`, ['-H', 'accept-encoding: gzip']);
    assert.equal(whole.headers['content-encoding'], 'gzip');
    assert.equal(
      Number(whole.headers['content-length']),
      whole.body.length,
      'a body that arrived whole goes out with its length',
    );
    const head = await curl(`${base}/api/v1/bytes?n=50000&type=text/html&length=1`, [
      '-I',
      '-H',
      'accept-encoding: gzip',
    ]);
    assert.equal(head.headers['content-encoding'], undefined, 'HEAD: no body to encode');
    const page = await curl(`${base}/`, ['-H', 'accept-encoding: br']);
    assert.equal(page.headers['content-encoding'], 'br', 'static files too');
    assert.match(brotliDecompressSync(page.body).toString(), /selfless acts/);
    const etag = page.headers.etag!;
    const again = await curl(`${base}/`, ['-H', 'accept-encoding: br', '-H', `if-none-match: ${etag}`]);
    assert.equal(again.status, 304, 'the encoded variant revalidates with its own ETag');
    const plainEtag = (await curl(`${base}/`)).headers.etag;
    assert.notEqual(plainEtag, etag, 'each encoding has its own ETag');
  });

  test('certificate reload under load: files replaced, then SIGHUP; 0 failed requests; new connections get the new certificate', async () => {
    assert.equal(await servedFingerprint(), first.fingerprint256);
    const second = await makeLeaf(ca, 'second');
    const third = await makeLeaf(ca, 'third');
    const load = new Load();
    try {
      await sleep(500);
      await install(second);
      await eventually(
        async () => ((await servedFingerprint()) === second.fingerprint256 ? true : undefined),
        'the second certificate on new connections',
        10_000,
      );
      await sleep(300);
      // SIGHUP after a change the watch could not see (the files written in place, then signalled).
      const before = (await suite.admin.events()).filter((e) => e.type === 'certificate.reloaded').length;
      await writeFile(keyFile, await readFile(third.keyFile));
      await writeFile(certFile, await readFile(third.certFile));
      suite.sup.child.kill('SIGHUP');
      await eventually(
        async () => ((await servedFingerprint()) === third.fingerprint256 ? true : undefined),
        'the third certificate after SIGHUP',
        10_000,
      );
      assert.ok((await suite.admin.events()).filter((e) => e.type === 'certificate.reloaded').length > before);
      await sleep(500);
    } finally {
      await load.stop();
    }
    assert.deepEqual(load.failures, [], 'no request failed during the reloads');
    assert.ok(load.ok > 50, `${load.ok} requests answered during the test`);
    assert.ok(load.connections > 20, `${load.connections} new connections during the test`);
    assert.ok(suite.sup.running, 'SIGHUP reloads, it does not stop the supervisor');
  });

  test('a certificate that does not match its key is refused; the one in use stays', async () => {
    const serving = await servedFingerprint();
    const mismatched = await makeLeaf(ca, 'mismatched');
    const other = await makeLeaf(ca, 'other');
    await writeFile(`${certFile}.new`, await readFile(mismatched.certFile));
    await rename(`${certFile}.new`, certFile);
    await writeFile(`${keyFile}.new`, await readFile(other.keyFile));
    await rename(`${keyFile}.new`, keyFile);
    suite.sup.child.kill('SIGHUP');
    const rejected = await eventually(
      async () => (await suite.admin.events()).find((e) => e.type === 'certificate.rejected'),
      'a certificate.rejected event',
      10_000,
    );
    assert.match(rejected.reason, /balancer\.tls\.keyFile/);
    assert.equal(await servedFingerprint(), serving);
    assert.equal((await curl(`${base}/api/v1/headers`, ['--http2'])).status, 200);
  });
});

async function tmpFile(body: Buffer): Promise<string> {
  const file = path.join(ca.dir, `body-${process.hrtime.bigint()}`);
  await writeFile(file, body);
  return file;
}

/**
 * Clients that keep the balancer busy while its certificate changes: one HTTP/2 session with
 * streams in a loop, keep-alive HTTPS, and HTTPS on a new connection per request (each of
 * those handshakes with whichever certificate is current). Bounded: at most 60 s.
 */
class Load {
  ok = 0;
  connections = 0;
  readonly failures: string[] = [];
  #running = true;
  readonly #loops: Promise<void>[];

  constructor() {
    const deadline = Date.now() + 60_000;
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 2, ca: ca.ca, servername: 'localhost' });
    const session = http2Connect(base, { ca: ca.ca, servername: 'localhost' });
    session.on('error', (err) => this.failures.push(`h2 session: ${err.message}`));
    const h2get = () =>
      new Promise<number>((resolve, reject) => {
        const req = session.request({ ':path': '/api/v1/h2' });
        req.on('response', (h) => resolve(Number(h[h2.HTTP2_HEADER_STATUS])));
        req.on('error', reject);
        req.resume();
        req.end();
      });
    const get = (agent: Agent | false) =>
      new Promise<number>((resolve, reject) => {
        if (agent === false) this.connections++;
        const req = httpsRequest(
          `${base}/api/v1/h1`,
          { agent, ca: ca.ca, servername: 'localhost', timeout: 5000 },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode!));
          },
        );
        req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
        req.on('error', reject);
        req.end();
      });
    const loop = (name: string, once: () => Promise<number>) =>
      (async () => {
        while (this.#running && Date.now() < deadline) {
          try {
            const status = await once();
            if (status === 200) this.ok++;
            else this.failures.push(`${name}: status ${status}`);
          } catch (err) {
            this.failures.push(`${name}: ${(err as Error).message}`);
          }
        }
      })();
    this.#loops = [
      loop('h2 stream', h2get),
      loop('h2 stream', h2get),
      loop('https keep-alive', () => get(keepAlive)),
      loop('https new connection', () => get(false)),
      loop('https new connection', () => get(false)),
    ];
    this.#close = () => {
      session.close();
      keepAlive.destroy();
    };
  }

  readonly #close: () => void;

  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#loops);
    this.#close();
  }
}
