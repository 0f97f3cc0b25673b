// HTTP/2 abuse against the real balancer over TLS, with frames written by hand
// (testkit/raw-h2.ts): rapid reset, streams past the advertised limit, header lists past any
// limit (in one frame, and as an endless run of CONTINUATION frames), a connection that never
// opens a stream, a stalled request body. Each time a well-behaved HTTPS client keeps being
// served and no balancer thread dies. Ports 31100-31199.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ERROR, FRAME, RawH2, frame, hpack } from '../../testkit/raw-h2.ts';
import { eventually } from '../../testkit/supervisor.ts';
import { makeCa, makeLeaf } from '../../testkit/tls.ts';
import { MAX_RESETS } from '../../supervisor/balancer/h2-session.ts';
import {
  abuseSuite,
  baseline,
  clearJournal,
  journal,
  servedThroughout,
  TEST_LIMITS,
  type ProbeStats,
} from './support.ts';

const dir = await mkdtemp(path.join(tmpdir(), 'sa-abuse-h2-'));
const leaf = await makeLeaf(await makeCa(dir), 'abuse');
const a = abuseSuite({
  suite: 'abuse-h2',
  port: 31100,
  threads: 2,
  tls: { certFile: leaf.certFile, keyFile: leaf.keyFile },
});
after(() => rm(dir, { recursive: true, force: true }));

describe('HTTP/2 abuse', () => {
  let usual: ProbeStats;
  before(async () => {
    usual = await baseline(a.base);
  });

  /** Opens `count` streams, each reset (CANCEL) right after its HEADERS, `gapMs` apart (0: in bursts of 50). */
  async function rapidReset(from: string, count: number, gapMs: number): Promise<{ c: RawH2; sent: number }> {
    const c = await RawH2.open(a.port, from);
    let sent = 0;
    for (let i = 0; i < count && !c.closed; i++) {
      const id = c.request(`/api/v1/slow?ms=2000&from=${from}&i=${i}`);
      c.write(frame(FRAME.RST_STREAM, 0, id, Buffer.from([0, 0, 0, ERROR.CANCEL])));
      sent++;
      if (gapMs > 0) await sleep(gapMs);
      else if (i % 50 === 49) await sleep(5);
    }
    await Promise.race([c.ended, sleep(3000)]);
    return { c, sent };
  }

  const calmedDown = (c: RawH2) =>
    c.goaway()?.code === ERROR.ENHANCE_YOUR_CALM || c.resets(ERROR.ENHANCE_YOUR_CALM).length > 0;

  /**
   * Which of the client's streams (1st, 2nd, ...) the server cut the connection at: the one it
   * reset with ENHANCE_YOUR_CALM, or else the last one its GOAWAY says it processed. The
   * server's word, not the client's count of what it wrote: a loaded server reads far behind.
   */
  function cutAt(c: RawH2): number | undefined {
    const id = c.resets(ERROR.ENHANCE_YOUR_CALM)[0]?.stream ?? c.goaway()?.lastStream;
    return id === undefined ? undefined : (id + 1) / 2;
  }

  test(`rapid reset in bursts: nghttp2 cuts the connection (ENHANCE_YOUR_CALM) within the first ${MAX_RESETS} streams; no request reaches a replica`, async () => {
    await clearJournal(a.replicas);
    await servedThroughout(a, usual, async () => {
      const { c, sent } = await rapidReset('127.0.0.21', 1000, 0);
      assert.ok(c.closed, `still open after ${sent} streams`);
      assert.ok(calmedDown(c), 'with ENHANCE_YOUR_CALM');
      const at = cutAt(c);
      // The documented limit (MAX_RESETS) holds for bursts too: the HTTP/2 session (nghttp2
      // with the limits set in secure.ts) usually cuts them first (at the 151st stream here);
      // when it has not yet, the balancer's own count does, at the stream after the limit's
      // last reset (201: seen once on a CI run).
      assert.ok(at !== undefined && at <= MAX_RESETS + 1, `cut at stream ${at} of the ${sent} sent`);
      c.close();
      await sleep(600); // the probe keeps measuring just after the attack
    });
    await sleep(300);
    const reached = (await journal(a.replicas)).filter((s) => s.url.includes('from=127.0.0.21')).length;
    assert.ok(reached < 50, `${reached} cancelled requests reached a replica`);
  });

  test(`rapid reset paced under nghttp2's radar: the balancer's own count sends GOAWAY after ${MAX_RESETS} resets`, async () => {
    await clearJournal(a.replicas);
    await servedThroughout(a, usual, async () => {
      const { c, sent } = await rapidReset('127.0.0.28', MAX_RESETS + 100, 8);
      assert.ok(c.closed, 'closed');
      assert.equal(c.goaway()?.code, ERROR.ENHANCE_YOUR_CALM, 'GOAWAY says why');
      const at = cutAt(c);
      assert.ok(
        at !== undefined && at > MAX_RESETS && at <= MAX_RESETS + 20,
        `GOAWAY after stream ${at} of the ${sent} sent`,
      );
      c.close();
    });
  });

  test('streams past the advertised limit are refused; those accepted reach the replicas a few at a time', async () => {
    await clearJournal(a.replicas);
    await servedThroughout(a, usual, async () => {
      const c = await RawH2.open(a.port, '127.0.0.22');
      for (let i = 0; i < 150; i++) c.request(`/api/v1/hold?key=h2-${i}`);
      await eventually(
        async () => (c.resets(ERROR.REFUSED_STREAM).length > 0 || c.goaway() ? true : undefined),
        'streams beyond 100 refused',
        5000,
      );
      await sleep(500);
      const held = (await journal(a.replicas)).filter((s) => s.url.startsWith('/api/v1/hold?key=h2-')).length;
      assert.ok(held > 0 && held <= 8, `${held} requests of one connection at the replicas at once (at most 8)`);
      c.close();
    });
  });

  test('a header list over maxHeaderBytes: 431, nothing forwarded; a huge one in CONTINUATION frames: the connection is cut', async () => {
    await clearJournal(a.replicas);
    await servedThroughout(a, usual, async () => {
      const c = await RawH2.open(a.port, '127.0.0.23');
      const id = c.request('/api/v1/too-big', { extra: [['x-big', 'b'.repeat(20_000)]] });
      await eventually(
        async () => (c.statuses().has(id) || c.resets().some((f) => f.stream === id) || c.closed ? true : undefined),
        'an answer to the oversized request',
        5000,
      );
      const status = c.statuses().get(id);
      assert.ok(
        status === 431 || c.resets().some((f) => f.stream === id),
        `431 or a reset, not a forwarded request (status ${status})`,
      );
      c.close();

      const flood = await RawH2.open(a.port, '127.0.0.24');
      const stream = flood.stream();
      flood.write(
        frame(
          FRAME.HEADERS,
          0,
          stream,
          hpack([
            [':method', 'GET'],
            [':scheme', 'https'],
            [':path', '/api/v1/flood'],
            [':authority', 'localhost'],
          ]),
        ),
      );
      const piece = hpack(Array.from({ length: 150 }, (_, i) => [`x-flood-${i}`, 'f'.repeat(100)] as [string, string]));
      let bytes = 0;
      for (let i = 0; i < 2000 && !flood.closed; i++) {
        if (!flood.write(frame(FRAME.CONTINUATION, 0, stream, piece)))
          await Promise.race([new Promise((r) => flood.socket.once('drain', r)), flood.ended]);
        bytes += piece.length;
      }
      await Promise.race([flood.ended, sleep(5000)]);
      assert.ok(flood.closed, `the connection was cut (after ${(bytes / 1e6).toFixed(1)} MB of CONTINUATION frames)`);
      flood.close();
      await sleep(600);
    });
    const seen = (await journal(a.replicas)).filter((s) => s.url === '/api/v1/too-big' || s.url === '/api/v1/flood');
    assert.deepEqual(seen, [], 'neither request reached a replica');
  });

  test('a connection that never opens a stream is closed at the head deadline', async () => {
    const c = await RawH2.open(a.port, '127.0.0.25');
    const started = Date.now();
    await Promise.race([c.ended, sleep(TEST_LIMITS.headersTimeoutMs + 3000)]);
    const ms = Date.now() - started;
    assert.ok(c.closed, 'closed');
    assert.ok(ms >= TEST_LIMITS.headersTimeoutMs - 200 && ms < TEST_LIMITS.headersTimeoutMs + 2500, `after ${ms} ms`);
  });

  test('a request body that stalls: 408 at the body deadline, the stream ended', async () => {
    const c = await RawH2.open(a.port, '127.0.0.26');
    const id = c.request('/api/v1/upload', {
      method: 'POST',
      body: true,
      extra: [['content-type', 'application/octet-stream']],
    });
    c.write(frame(FRAME.DATA, 0, id, Buffer.alloc(1000, 's')));
    const started = Date.now();
    await eventually(
      async () => (c.statuses().has(id) ? true : undefined),
      'an answer to the stalled body',
      TEST_LIMITS.bodyIdleTimeoutMs + 3000,
    );
    assert.equal(c.statuses().get(id), 408);
    assert.ok(Date.now() - started >= TEST_LIMITS.bodyIdleTimeoutMs - 300, 'not before the deadline');
    c.close();
  });

  test('plain HTTP/2 requests still work on a connection beside them (END_STREAM GET → 200)', async () => {
    const c = await RawH2.open(a.port, '127.0.0.27');
    const id = c.request('/api/v1/fine');
    await eventually(async () => (c.statuses().has(id) ? true : undefined), 'an answer', 5000);
    assert.equal(c.statuses().get(id), 200);
    c.write(frame(FRAME.GOAWAY, 0, 0, Buffer.alloc(8)));
    c.close();
  });
});
