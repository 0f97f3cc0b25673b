// Fault tolerance against real containers: a replica that answers 500 after _crash, one the
// engine kills, one that hangs — each replaced by a new container on the same port, in
// rotation once healthy — and a crash-looping image that backs off. Ports 22000-22099.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { median } from '../../bench/stats.ts';
import { CRASH_TO_ROTATION_MEDIAN_MS } from '../../testkit/bounds.ts';
import { skipUnlessEngine } from '../helpers/requirements.ts';
import { TEST_ENGINE } from '../../testkit/engine.ts';
import {
  containersByPort,
  echoService,
  eventually,
  http,
  supervisorSuite,
  type EventRecord,
} from '../../testkit/supervisor.ts';

const SUITE = 'faults';
const LISTEN = 22000;
const ADMIN = 22001;
const PORT_A = 22010;
const PORT_B = 22011;
const LOOP_PORT = 22020;
const base = `http://127.0.0.1:${LISTEN}`;
const skip = await skipUnlessEngine();

describe('fault tolerance (real containers)', { skip }, () => {
  const engine = TEST_ENGINE.client();
  const suite = supervisorSuite({
    suite: SUITE,
    adminPort: ADMIN,
    engine,
    config: {
      runtime: TEST_ENGINE.name,
      listenPort: LISTEN,
      heartbeat: { intervalMs: 400, timeoutMs: 300, failureThreshold: 3 },
      services: {
        acts: echoService({ replicas: { initial: 2, min: 2, max: 2 }, startPort: PORT_A, routes: ['/api/v1'] }),
        loop: echoService({
          replicas: { initial: 1, min: 1, max: 1 },
          startPort: LOOP_PORT,
          routes: ['/loop'],
          env: { CRASH_AT_START: '1' },
        }),
      },
    },
    ready: { acts: 2 },
    readyTimeoutMs: 60_000,
  });
  const { admin } = suite;
  /** Break → new instance in rotation, ms, for each break below. */
  const replacements: number[] = [];

  /** The replica instance answering on a port (the echo app's x-replica header). */
  async function instanceOn(port: number): Promise<string> {
    return String((await http('GET', `http://127.0.0.1:${port}/api/v1/_health`)).headers['x-replica']);
  }

  /**
   * Breaks the replica on `port` with `breakIt`, then waits until the balancer routes to a new
   * instance on that port. Returns the time from the break to the first proxied answer from it.
   */
  async function breakAndWatch(
    port: number,
    breakIt: (id: string) => Promise<void>,
  ): Promise<{ ms: number; oldId: string; newId: string }> {
    const before = await admin.status();
    const old = before.services.acts!.replicas.find((r) => r.port === port)!;
    const instances = new Set([await instanceOn(PORT_A), await instanceOn(PORT_B)]);
    const started = performance.now();
    await breakIt(old.id);
    await eventually(
      async () => {
        const reply = await http('GET', `${base}/api/v1/probe`);
        return reply.status === 200 && !instances.has(String(reply.headers['x-replica'])) ? true : undefined;
      },
      `a new instance on ${port} in rotation`,
      30_000,
      50,
    );
    const ms = Math.round(performance.now() - started);
    replacements.push(ms);
    const now = await admin.status();
    const replica = now.services.acts!.replicas.find((r) => r.port === port)!;
    assert.equal(replica.state, 'ready');
    assert.equal(replica.health, 'ok');
    assert.notEqual(replica.id, old.id, 'a new container id');
    const onPort = (await containersByPort(engine, SUITE)).get(port) ?? [];
    assert.deepEqual(
      onPort.map((c) => c.id),
      [replica.id],
      'the old container is removed, one container on the port',
    );
    assert.equal(now.services.acts!.replicas.length, 2, 'still two replicas');
    // Both replicas in rotation again: 4 requests, 2 each.
    const seen = new Map<string, number>();
    for (let i = 0; i < 4; i++) {
      const id = String((await http('GET', `${base}/api/v1/after`)).headers['x-replica']);
      seen.set(id, (seen.get(id) ?? 0) + 1);
    }
    assert.deepEqual([...seen.values()], [2, 2]);
    return { ms, oldId: old.id, newId: replica.id };
  }

  function eventsFor(events: EventRecord[], ids: string[]): string[] {
    return events
      .filter((e) => e.id !== undefined && ids.includes(e.id))
      .map((e) => `${e.type}:${e.id === ids[0] ? 'old' : 'new'}`);
  }

  test('_crash: out of rotation, stopped, removed, a new container on the same port, healthy, in rotation', async (t) => {
    const { ms, oldId, newId } = await breakAndWatch(PORT_A, async () => {
      assert.equal((await http('POST', `http://127.0.0.1:${PORT_A}/api/v1/_crash`)).status, 200);
    });
    t.diagnostic(`_crash → new healthy replica in rotation: ${ms} ms`);
    const events = await admin.events();
    assert.deepEqual(
      eventsFor(events, [oldId, newId])
        .filter((e) => !e.startsWith('replica.started') && !e.startsWith('replica.adopted'))
        .slice(-6),
      [
        'replica.ready:old',
        'replica.failed:old',
        'replica.output:old',
        'replica.stopped:old',
        'replica.replaced:new',
        'replica.ready:new',
      ],
    );
    const failed = events.find((e) => e.type === 'replica.failed' && e.id === oldId)!;
    assert.match(
      failed.reason,
      /^[3-9] health checks failed in a row and its liveness check failed too \(last: HTTP 500\)/,
    );
    assert.equal(events.find((e) => e.type === 'replica.replaced' && e.id === newId)!.previousId, oldId);
  });

  test('engine kill: the exited container is replaced on the same port', async (t) => {
    const { ms, oldId } = await breakAndWatch(PORT_B, (id) => engine.containers.kill(id));
    t.diagnostic(`kill → new healthy replica in rotation: ${ms} ms`);
    const failed = (await admin.events()).find((e) => e.type === 'replica.failed' && e.id === oldId);
    assert.ok(failed, 'a replica.failed event');
  });

  test('a hanging replica: health checks time out, it is replaced on the same port', async (t) => {
    const { ms, oldId } = await breakAndWatch(PORT_A, async () => {
      assert.equal((await http('POST', `http://127.0.0.1:${PORT_A}/api/v1/_hang`)).status, 200);
    });
    t.diagnostic(`hang → new healthy replica in rotation: ${ms} ms`);
    const failed = (await admin.events()).find((e) => e.type === 'replica.failed' && e.id === oldId)!;
    // Alive or not is the liveness check's to say (heartbeat.livenessTimeoutMs, 5 s by default):
    // a replica that is slow but answers it is only taken out of rotation.
    assert.match(
      failed.reason,
      /^stuck: no answer to its liveness check within 5000 ms, and \d+ health checks failed in a row \(last: no answer within 300 ms\)/,
    );
  });

  test('a crash-looping image backs off instead of spinning the engine', async () => {
    // The loop service exits at every start. Its first five starts, from the supervisor's
    // events: the restart after the 1st failure is immediate, then backoff.initialMs (1 s)
    // doubling. Load only lengthens the gaps, so lower bounds hold on any machine.
    const starts = await eventually(
      async () => {
        const found = (await admin.events())
          .filter((e) => e.port === LOOP_PORT && (e.type === 'replica.started' || e.type === 'replica.replaced'))
          .map((e) => Date.parse(e.time));
        return found.length >= 5 ? found.slice(0, 5) : undefined;
      },
      'five starts of the crash-looping service',
      60_000,
      250,
    );
    const gaps = starts.slice(1).map((t, i) => t - starts[i]!);
    const delays = [0, 1000, 2000, 4000];
    gaps.forEach((gap, i) => {
      assert.ok(gap >= delays[i]! - 50, `gap ${i + 1} is ${gap} ms, backoff ${delays[i]} ms: ${gaps.join(', ')}`);
    });
    const status = await admin.status();
    assert.ok(status.services.loop!.replicas.every((r) => r.state !== 'ready'));
    // The cause reaches the operator: each failure keeps the replica's last output, read before
    // its removal (after which `docker logs` finds nothing), in an event and in /status.
    const output = (await admin.events()).filter((e) => e.type === 'replica.output' && e.port === LOOP_PORT);
    assert.ok(output.length >= 4, `${output.length} replica.output events`);
    for (const e of output) assert.ok(e.output?.includes('echo-app: CRASH_AT_START=1, exiting'), JSON.stringify(e));
    const failures = status.services.loop!.failures;
    assert.ok(failures.length >= 3 && failures.length <= 5, `${failures.length} failures kept (at most 5)`);
    assert.ok(
      failures.every(
        (f) => f.port === LOOP_PORT && f.reason !== '' && f.output.includes('echo-app: CRASH_AT_START=1, exiting'),
      ),
      JSON.stringify(failures[0]),
    );
    assert.equal((await http('GET', `${base}/loop/x`)).status, 503);
  });

  test('replacement times', () => {
    // One figure per way of breaking a replica above: their median is bounded, not each one.
    assert.equal(replacements.length, 3, 'the three breaks above ran');
    assert.ok(
      median(replacements) <= CRASH_TO_ROTATION_MEDIAN_MS,
      `break → new replica in rotation: median ${median(replacements)} ms > ${CRASH_TO_ROTATION_MEDIAN_MS} ms (${replacements.join(', ')})`,
    );
  });
});
