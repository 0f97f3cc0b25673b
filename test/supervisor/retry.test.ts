// The balancer's retry rule through the real supervisor (docs/architecture.md, "Passive
// checks"): a request whose connection fails before any answer goes to the next replica when
// that is safe: GET and HEAD always; other methods only when the connection was refused and no
// byte of the body was read (bodies are pulled lazily, LazyBody), else 502. Two echo replicas
// under the process runtime; a long heartbeat interval keeps the heartbeat from taking a
// broken replica out of rotation before the request under test reaches it. Passive failover:
// a replica answering 500 (_crash) or not at all (_hang) costs a GET nothing but the per-attempt
// deadline, a POST gets the 500 as it is, or a 502 once the heartbeat confirms the hang.
// Ports 30100-30199.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  echoService,
  eventually,
  http,
  replicaCount,
  resetCount,
  supervisorSuite,
  type LogLine,
} from '../../testkit/supervisor.ts';

const LISTEN = 30100;
const ADMIN = 30101;
const PORTS = [30110, 30111] as const;
const base = `http://127.0.0.1:${LISTEN}`;
const HEAD_TIMEOUT_MS = 1000;

describe('retry rule of the balancer (process runtime)', () => {
  const suite = supervisorSuite({
    suite: 'retry',
    adminPort: ADMIN,
    config: {
      runtime: 'process',
      listenPort: LISTEN,
      heartbeat: { intervalMs: 30_000, timeoutMs: 1000, failureThreshold: 3, fastIntervalMs: 100 },
      services: {
        acts: echoService({ replicas: { initial: 2, min: 2, max: 2 }, startPort: PORTS[0], routes: ['/api/v1'] }),
      },
      extra: {
        balancer: { upstreamHeaderTimeoutMs: HEAD_TIMEOUT_MS, retryStatuses: [500, 502, 503, 504], suspectAfter5xx: 2 },
      },
    },
    ready: { acts: 2 },
    readyTimeoutMs: 30_000,
  });
  const { admin } = suite;

  /** The port of the replica that answered a request through the balancer. */
  const portOf = (reply: { headers: Record<string, unknown> }) => Number(reply.headers['x-replica-port']);

  /** Sends GETs until the replica on `port` answered one: round robin then picks the other next. */
  async function lastServedBy(port: number): Promise<void> {
    for (let i = 0; i < 3; i++) if (portOf(await http('GET', `${base}/api/v1/where`)) === port) return;
    throw new Error(`round robin never reached ${port}`);
  }

  /** The supervisor's log line for the balancer's `suspect` report. */
  const suspects = (id: string, reasons: string[]) => (l: LogLine) =>
    l.msg === 'replica refused a connection' && l.id === id && reasons.includes(String(l.reason));

  async function counts(): Promise<number[]> {
    return [await replicaCount(PORTS[0]), await replicaCount(PORTS[1])];
  }

  // The refusal first: until a replica has been suspect, round robin is plain and predictable.
  test('POST refused before a byte of its body was read: retried on the other replica, body intact', async () => {
    const [first, second] = await admin.waitReady('acts', 2);
    // The refusing replica answers its last request with `connection: close`, so the balancer
    // holds no open socket to it: the POST below must open one and be refused.
    await lastServedBy(first!.port);
    const refuse = await http('POST', `${base}/api/v1/_refuse`);
    assert.equal(portOf(refuse), second!.port);
    await lastServedBy(first!.port);
    await resetCount(first!.port);
    const body = randomBytes(2 * 1024 * 1024);
    const reply = await http('POST', `${base}/api/v1/upload`, {
      body,
      headers: { 'content-type': 'application/octet-stream' },
    });
    assert.equal(reply.status, 200, reply.text);
    const echoed = JSON.parse(reply.text) as { bytes: number; sha256: string };
    assert.equal(portOf(reply), first!.port, 'answered by the replica that still listens');
    assert.deepEqual(echoed, {
      ...echoed,
      bytes: body.length,
      sha256: createHash('sha256').update(body).digest('hex'),
    });
    assert.equal(await replicaCount(first!.port), 1, 'the POST reached it once');
    // Proof that the POST went to the refusing replica first: the balancer reported it. (A
    // heartbeat check between the refusal and the POST would have taken it out of rotation
    // first: the status then says so.)
    await suite.sup
      .waitForLine(suspects(second!.id, ['ECONNREFUSED']), 'the refusal reported as suspect', 5000)
      .catch(async (err: Error) => {
        const replica = (await admin.status()).services.acts!.replicas.find((r) => r.id === second!.id);
        throw new Error(`${err.message}; the refusing replica in the status: ${JSON.stringify(replica)}`);
      });
    // The heartbeat, asked to check the suspect at once, replaces it.
    await admin.waitFor(
      (s) =>
        s.services.acts!.replicas.find((r) => r.port === second!.port && r.id !== second!.id && r.state === 'ready'),
      'the refusing replica replaced',
      20_000,
    );
  });

  test('POST reset after its body was read: 502, not retried (the replica may have acted on it)', async () => {
    const replicas = await admin.waitReady('acts', 2);
    await resetCount(PORTS[0]);
    await resetCount(PORTS[1]);
    const reply = await http('POST', `${base}/api/v1/reset-after-body`, {
      body: 'x'.repeat(1000),
      headers: { 'content-type': 'text/plain' },
    });
    assert.equal(reply.status, 502, reply.text);
    assert.match(reply.text, /not retried, the request may have reached it/);
    const [a, b] = await counts();
    assert.equal(a! + b!, 1, 'exactly one replica saw the POST');
    const hit = replicas[a === 1 ? 0 : 1]!;
    await suite.sup.waitForLine(
      suspects(hit.id, ['ECONNRESET', 'UND_ERR_SOCKET']),
      'the reset reported as suspect',
      5000,
    );
  });

  test('GET reset by a replica before any answer: retried on the other one', async () => {
    await resetCount(PORTS[0]);
    await resetCount(PORTS[1]);
    const seen = suite.sup.lines.length;
    // Both replicas reset this route after reading the request: the GET tries each once.
    const reply = await http('GET', `${base}/api/v1/reset-after-body`);
    assert.equal(reply.status, 502, reply.text);
    assert.match(reply.text, /no replica of acts could be reached/);
    assert.deepEqual(await counts(), [1, 1], 'each replica saw the GET once: it was retried, not repeated');
    const reported = () => suite.sup.lines.slice(seen).filter((l) => l.msg === 'replica refused a connection').length;
    await eventually(async () => (reported() >= 2 ? true : undefined), 'both resets reported as suspect', 5000);
    assert.equal(reported(), 2);
  });

  /** Waits until a new instance replaced the one on `port` and both replicas are ready again. */
  async function replacedOn(port: number, oldId: string): Promise<void> {
    await admin.waitFor(
      (st) => st.services.acts!.replicas.find((r) => r.port === port && r.id !== oldId && r.state === 'ready'),
      `a new replica on ${port}`,
      30_000,
    );
    await admin.waitReady('acts', 2);
  }

  test('_crash (500 to everything): GETs answered by the other replica, a POST gets the 500, suspect after 2 in a row', async () => {
    const [a, b] = await admin.waitReady('acts', 2);
    // Before the crash: a GET that reached the crashed one here would be its first 5xx, and the
    // POST below its second, reporting it suspect before the GETs under test are sent.
    await lastServedBy(b!.port); // round robin's next pick is the one about to crash
    assert.equal((await http('POST', `http://127.0.0.1:${a!.port}/api/v1/_crash`)).status, 200);
    const post = await http('POST', `${base}/api/v1/things`, {
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    assert.deepEqual([post.status, portOf(post)], [500, a!.port], 'a POST is never sent twice: the 500 as it is');
    const seen = suite.sup.lines.length;
    for (let i = 0; i < 6; i++) {
      const reply = await http('GET', `${base}/api/v1/things/${i}`);
      assert.deepEqual([reply.status, portOf(reply)], [200, b!.port], reply.text);
    }
    const line = await suite.sup.waitForLine(
      (l) => l.msg === 'replica answered 5xx in a row' && l.id === a!.id,
      'the crashed replica reported suspect',
      5000,
    );
    assert.ok(suite.sup.lines.indexOf(line) >= seen);
    await replacedOn(a!.port, a!.id);
  });

  test('a hung replica: a GET waits the per-attempt deadline, then the other answers; a POST gets 502 once the hang is confirmed', async () => {
    const [a, b] = await admin.waitReady('acts', 2);
    await lastServedBy(b!.port); // before the hang: a GET on the hung one would make it suspect
    assert.equal((await http('POST', `http://127.0.0.1:${a!.port}/api/v1/_hang`)).status, 200);
    const postStarted = performance.now();
    const post = http('POST', `${base}/api/v1/things`, {
      body: '{}',
      headers: { 'content-type': 'application/json' },
    }).then((reply) => ({ reply, ms: performance.now() - postStarted }));
    const quick = await http('GET', `${base}/api/v1/quick`);
    assert.equal(
      portOf(quick),
      b!.port,
      'round robin: the POST took the hung one, this GET the other, the next GET the hung one',
    );
    const started = performance.now();
    const reply = await http('GET', `${base}/api/v1/slowpoke`);
    const ms = performance.now() - started;
    assert.deepEqual([reply.status, portOf(reply)], [200, b!.port], reply.text);
    // The sweep runs every 250 ms: the deadline fires within that of its time.
    assert.ok(
      ms >= HEAD_TIMEOUT_MS - 50 && ms < HEAD_TIMEOUT_MS + 1500,
      `the GET took ${Math.round(ms)} ms, per-attempt deadline ${HEAD_TIMEOUT_MS} ms`,
    );
    await suite.sup.waitForLine(
      (l) => l.msg === 'replica did not answer in time' && l.id === a!.id,
      'the timeout reported as suspect',
      5000,
    );
    // The heartbeat (timeout 1 s, 3 in a row) confirms the hang; the balancer then ends the POST.
    const { reply: late, ms: postMs } = await post;
    assert.equal(late.status, 502, late.text);
    assert.match(late.text, /not retried, the request may have reached it/);
    assert.ok(postMs < 15_000, `the POST waited ${Math.round(postMs)} ms (upstreamTimeoutMs is 60 s)`);
    await replacedOn(a!.port, a!.id);
  });
});
