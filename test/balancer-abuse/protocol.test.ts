// What no HTTP client would send, through the real balancer (two threads) to real replicas:
// the request smuggling set, pipelining, oversized heads, odd targets, Upgrade and CONNECT.
// For each: the answer, and exactly what the replicas received whole (the request as sent,
// minus hop-by-hop headers and re-framed, or nothing). Ports 30000-30029.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { replicaCount, resetCount } from '../../testkit/supervisor.ts';
import {
  abuseSuite,
  baseline,
  clearJournal,
  journal,
  raw,
  servedThroughout,
  statuses,
  type ProbeStats,
} from './support.ts';

const a = abuseSuite({ suite: 'abuse-protocol', port: 30000, threads: 2 });
const H = 'Host: 127.0.0.1\r\n';

interface Row {
  name: string;
  request: string;
  /** Status of each response, in order. */
  want: number[];
  /** Targets (method and URL) the replicas received whole. */
  reaches: string[];
}

const SMUGGLED = `GET /api/v1/smuggled HTTP/1.1\r\n${H}\r\n`;
const smuggling: Row[] = [
  {
    name: 'Content-Length with Transfer-Encoding',
    request: `POST /api/v1/upload HTTP/1.1\r\n${H}Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`,
    want: [400],
    reaches: [],
  },
  {
    name: 'Transfer-Encoding before Content-Length',
    request: `POST /api/v1/upload HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 40\r\n\r\n0\r\n\r\n${SMUGGLED}`,
    want: [400],
    reaches: [],
  },
  {
    name: 'two different Content-Lengths',
    request: `POST /api/v1/upload HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 40\r\n\r\nhello${SMUGGLED}`,
    want: [400],
    reaches: [],
  },
  {
    name: 'a Content-Length list',
    request: `POST /api/v1/upload HTTP/1.1\r\n${H}Content-Length: 5, 5\r\n\r\nhello`,
    want: [400],
    reaches: [],
  },
  {
    name: 'a signed Content-Length',
    request: `POST /api/v1/upload HTTP/1.1\r\n${H}Content-Length: +5\r\n\r\nhello`,
    want: [400],
    reaches: [],
  },
  {
    name: 'space before the colon',
    request: `POST /api/v1/upload HTTP/1.1\r\n${H}Content-Length : 5\r\n\r\nhello`,
    want: [400],
    reaches: [],
  },
  {
    name: 'Transfer-Encoding not ending in chunked',
    request: `POST /api/v1/upload HTTP/1.1\r\n${H}Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n${SMUGGLED}`,
    want: [400],
    reaches: [],
  },
  {
    name: 'an unknown transfer coding',
    request: `POST /api/v1/upload HTTP/1.1\r\n${H}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n${SMUGGLED}`,
    want: [400],
    reaches: [],
  },
  {
    name: 'Transfer-Encoding twice',
    request: `POST /api/v1/upload HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`,
    want: [400],
    reaches: [],
  },
  {
    name: 'obs-fold (a header continued on the next line)',
    request: `GET /api/v1/folded HTTP/1.1\r\n${H}X-A: one\r\n two\r\n\r\n`,
    want: [400],
    reaches: [],
  },
  {
    name: 'bare LF line ends',
    request: `GET /api/v1/lf HTTP/1.1\n${H.replace('\r\n', '\n')}\n`,
    want: [400],
    reaches: [],
  },
  { name: 'bare CR', request: `GET /api/v1/cr HTTP/1.1\rHost: x\r\n\r\n`, want: [400], reaches: [] },
  {
    name: 'NUL in a header value',
    request: `GET /api/v1/nul HTTP/1.1\r\n${H}X-A: a\u0000b\r\n\r\n`,
    want: [400],
    reaches: [],
  },
  {
    name: 'chunk size overflowing 64 bits',
    request: `POST /api/v1/upload HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nx\r\n0\r\n\r\n`,
    want: [400],
    reaches: [],
  },
  {
    name: 'negative chunk size',
    request: `POST /api/v1/upload HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n-1\r\nx\r\n0\r\n\r\n`,
    want: [400],
    reaches: [],
  },
  {
    name: 'chunk size with 0x',
    request: `POST /api/v1/upload HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n`,
    want: [400],
    reaches: [],
  },
  {
    name: 'chunk size with trailing space',
    request: `POST /api/v1/upload HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n`,
    want: [400],
    reaches: [],
  },
  {
    name: 'chunk extension ended by bare LF',
    request: `POST /api/v1/upload HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5;a=b\nhello\r\n0\r\n\r\n`,
    want: [400],
    reaches: [],
  },
  {
    name: 'chunk data longer than its size',
    request: `POST /api/v1/upload HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nhelloX0\r\n\r\n`,
    want: [400],
    reaches: [],
  },
  { name: 'a lower-case method', request: `get /api/v1/x HTTP/1.1\r\n${H}\r\n`, want: [400], reaches: [] },
  {
    name: 'two Host headers',
    request: `GET /api/v1/two-hosts HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n`,
    want: [400],
    reaches: [],
  },
  { name: 'no Host in HTTP/1.1', request: 'GET /api/v1/no-host HTTP/1.1\r\n\r\n', want: [400], reaches: [] },
];

const accepted: Row[] = [
  {
    name: 'a chunked body with an extension and a trailer reaches the replica de-chunked',
    request: `POST /api/v1/upload HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n0\r\nX-T: 1\r\n\r\n`,
    want: [200],
    reaches: ['POST /api/v1/upload'],
  },
  {
    name: 'an HTTP/1.0 request without Host',
    request: 'GET /api/v1/old HTTP/1.0\r\n\r\n',
    want: [200],
    reaches: ['GET /api/v1/old'],
  },
  {
    name: 'Upgrade: websocket is not offered: a plain GET, without Upgrade',
    request: `GET /api/v1/ws HTTP/1.1\r\n${H}Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    want: [200],
    reaches: ['GET /api/v1/ws'],
  },
  {
    name: 'Upgrade: h2c is ignored, HTTP2-Settings dropped',
    request: `GET /api/v1/h2c HTTP/1.1\r\n${H}Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n`,
    want: [200],
    reaches: ['GET /api/v1/h2c'],
  },
];

const targets: Row[] = [
  {
    name: 'absolute-form target',
    request: `GET http://127.0.0.1:30010/api/v1/absolute HTTP/1.1\r\n${H}\r\n`,
    want: [400],
    reaches: [],
  },
  { name: 'asterisk-form target', request: `OPTIONS * HTTP/1.1\r\n${H}\r\n`, want: [400], reaches: [] },
  { name: 'a fragment in the target', request: `GET /api/v1/x#y HTTP/1.1\r\n${H}\r\n`, want: [400], reaches: [] },
  { name: 'a backslash in the path', request: `GET /api/v1\\x HTTP/1.1\r\n${H}\r\n`, want: [400], reaches: [] },
  {
    name: 'raw UTF-8 in the target',
    request: `GET /api/v1/caf\u00c3\u00a9 HTTP/1.1\r\n${H}\r\n`,
    want: [400],
    reaches: [],
  },
  { name: 'an encoded slash', request: `GET /api/v1/a%2Fb HTTP/1.1\r\n${H}\r\n`, want: [400], reaches: [] },
  {
    name: 'dot segments are resolved before routing and forwarding',
    request: `GET /api/v1/a/../b/./c HTTP/1.1\r\n${H}\r\n`,
    want: [200],
    reaches: ['GET /api/v1/b/c'],
  },
  {
    name: 'the admin API is not on the listener unless configured',
    request: `POST /admin/workers/balancer/kill HTTP/1.1\r\n${H}X-Admin-Token: x\r\nContent-Length: 0\r\n\r\n`,
    want: [404],
    reaches: [],
  },
  { name: 'nor is the dashboard', request: `GET /DashBoard/ HTTP/1.1\r\n${H}\r\n`, want: [404], reaches: [] },
  {
    name: 'CONNECT is not a proxy service here: closed, nothing forwarded',
    request: 'CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n',
    want: [],
    reaches: [],
  },
];

describe('protocol abuse against the real balancer (2 threads)', () => {
  let usual: ProbeStats;
  before(async () => {
    usual = await baseline(a.base);
  });

  for (const row of [...smuggling, ...accepted, ...targets]) {
    test(`${row.name} → ${row.want.join(', ') || 'closed'}`, async () => {
      await clearJournal(a.replicas);
      const reply = await raw(a.port, Buffer.from(row.request, 'latin1'), {
        waitMs: 1500,
        responses: row.want.length || undefined,
      });
      assert.deepEqual(statuses(reply.text), row.want, reply.text.slice(0, 300));
      if (row.want.some((s) => s >= 400)) assert.match(reply.text, /\r\n\r\n\{"error":".+"\}/, 'a JSON error body');
      const seen = await journal(a.replicas);
      assert.deepEqual(
        seen.map((s) => `${s.method} ${s.url}`),
        row.reaches,
      );
      for (const s of seen) {
        const names = s.headers.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
        for (const hop of ['upgrade', 'connection', 'http2-settings', 'transfer-encoding', 'te', 'keep-alive'])
          assert.ok(!names.includes(hop), `${hop} reached the replica`);
      }
    });
  }

  test('strict round robin over both threads: 6 requests on 6 new connections → 3 and 3', async () => {
    for (const port of a.replicas) await resetCount(port);
    const order: string[] = [];
    for (let i = 0; i < 6; i++) {
      const reply = await raw(a.port, `GET /api/v1/turn/${i} HTTP/1.1\r\n${H}Connection: close\r\n\r\n`);
      order.push(/x-replica-port: (\d+)/.exec(reply.text)?.[1] ?? '?');
    }
    assert.deepEqual([await replicaCount(a.replicas[0]!), await replicaCount(a.replicas[1]!)], [3, 3]);
    for (let i = 2; i < 6; i++) assert.equal(order[i], order[i - 2], `alternating: ${order.join(',')}`);
  });

  test('a chunked body arrives whole and exact', async () => {
    await clearJournal(a.replicas);
    const reply = await raw(
      a.port,
      `POST /api/v1/upload HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n`,
      { responses: 1 },
    );
    assert.match(reply.text, /"bytes":5,"sha256":"36bbe50ed96841d10443bcb670d6554f0a34b761be67ec9c4a8ad2c0c44ca42c"/);
  });

  test('pipelined requests: answered in order, each reaching a replica exactly once', async () => {
    await clearJournal(a.replicas);
    const requests = Array.from({ length: 20 }, (_, i) =>
      i === 7
        ? `POST /api/v1/upload HTTP/1.1\r\n${H}Content-Length: 3\r\n\r\nabc`
        : `GET /api/v1/pipelined/${i} HTTP/1.1\r\n${H}\r\n`,
    ).join('');
    const reply = await raw(a.port, `${requests}GET /api/v1/last HTTP/1.1\r\n${H}Connection: close\r\n\r\n`, {
      waitMs: 5000,
    });
    assert.equal(reply.closed, true);
    assert.deepEqual(statuses(reply.text), Array(21).fill(200));
    const paths = [...reply.text.matchAll(/"path":"([^"]+)"/g)].map((m) => m[1]);
    assert.deepEqual(paths, [
      ...Array.from({ length: 20 }, (_, i) => `/api/v1/pipelined/${i}`).filter((_, i) => i !== 7),
      '/api/v1/last',
    ]);
    const bodies = reply.text.split('\r\n\r\n').map((b) => b.slice(0, 40));
    assert.ok(
      bodies.some((b) => b.startsWith('{"bytes":3,')),
      'the POST in the middle answered in its place',
    );
    const seen = (await journal(a.replicas)).map((s) => s.url).sort();
    assert.deepEqual(
      seen,
      [
        ...Array.from({ length: 20 }, (_, i) => (i === 7 ? '/api/v1/upload' : `/api/v1/pipelined/${i}`)),
        '/api/v1/last',
      ].sort(),
    );
  });

  test('a flood of 2000 pipelined requests in one write: answered or refused, never crashing, others served', async () => {
    await servedThroughout(a, usual, async () => {
      const flood = Array.from({ length: 2000 }, (_, i) => `GET /api/v1/flood/${i} HTTP/1.1\r\n${H}\r\n`).join('');
      const reply = await raw(a.port, flood, { waitMs: 8000 });
      const got = statuses(reply.text);
      assert.ok(got.length > 0, 'answers came back');
      assert.ok(
        got.every((s) => s === 200 || s === 503),
        `only 200 or 503: ${[...new Set(got)]}`,
      );
    });
  });

  test('an oversized head: 431 with a JSON error, nothing forwarded', async () => {
    await clearJournal(a.replicas);
    const big = `GET /api/v1/big HTTP/1.1\r\n${H}X-Big: ${'a'.repeat(20_000)}\r\n\r\n`;
    const reply = await raw(a.port, big);
    assert.deepEqual(statuses(reply.text), [431]);
    assert.match(reply.text, /larger than 16384 bytes/);
    const longUrl = await raw(a.port, `GET /api/v1/${'u'.repeat(20_000)} HTTP/1.1\r\n${H}\r\n`);
    assert.deepEqual(statuses(longUrl.text), [431]);
    assert.deepEqual(await journal(a.replicas), []);
  });

  test("many small headers: 800 reach the replica, none dropped; 1500 (over Node's count) get 431", async () => {
    const head = (n: number) => `GET /api/v1/many HTTP/1.1\r\n${H}${'x:0\r\n'.repeat(n)}\r\n`;
    await clearJournal(a.replicas);
    assert.deepEqual(statuses((await raw(a.port, head(800), { responses: 1 })).text), [200]);
    const [seen] = await journal(a.replicas);
    assert.equal(seen!.headers.filter((h, i) => i % 2 === 0 && h === 'x').length, 800);
    await clearJournal(a.replicas);
    assert.deepEqual(statuses((await raw(a.port, head(1500), { responses: 1 })).text), [431]);
    assert.deepEqual(await journal(a.replicas), []);
  });

  test('header bytes beyond ASCII pass unchanged (latin1 both ways)', async () => {
    await clearJournal(a.replicas);
    const reply = await raw(a.port, Buffer.from(`GET /api/v1/obs HTTP/1.1\r\n${H}X-Obs: caf\u00e9\r\n\r\n`, 'latin1'), {
      responses: 1,
    });
    assert.deepEqual(statuses(reply.text), [200]);
    const [seen] = await journal(a.replicas);
    assert.equal(seen!.headers[seen!.headers.indexOf('X-Obs') + 1], 'caf\u00e9');
  });
});
