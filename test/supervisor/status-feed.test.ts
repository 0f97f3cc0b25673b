// The dashboard's feed keeps the times docs/status-api.md gives it (GET /events): "a snapshot
// follows every change of replica state (coalesced over 100 ms) and, at least, every 2 s".
// Measured on the stream as a client receives it: the gaps between snapshots while nothing
// happens, and the time from each replica event of a crash and replacement to the snapshot
// after it. Bounds in testkit/bounds.ts. Echo replica, process runtime. Ports 30500-30599.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SNAPSHOT_AFTER_CHANGE_MEDIAN_MS, SNAPSHOT_GAP_MEDIAN_MS } from '../../testkit/bounds.ts';
import { echoService, eventually, http, supervisorSuite } from '../../testkit/supervisor.ts';
import { median } from '../../bench/stats.ts';

const LISTEN = 30500;
const ADMIN = 30501;
const ACTS = 30510;

interface Frame {
  name: string;
  data: { type?: string; id?: string };
  /** performance.now() when the frame arrived. */
  at: number;
}

/** The SSE stream of /events, frames collected as they arrive, until close(). */
async function feed(url: string): Promise<{ frames: Frame[]; close(): void }> {
  const abort = new AbortController();
  const res = await fetch(url, { signal: abort.signal });
  assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
  const frames: Frame[] = [];
  const reader = res.body!.getReader();
  void (async () => {
    let buffered = '';
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true as const }));
      if (done) return;
      buffered += Buffer.from(value).toString('utf8');
      let end: number;
      while ((end = buffered.indexOf('\n\n')) !== -1) {
        const block = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        const name = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (name && data) frames.push({ name, data: JSON.parse(data) as Frame['data'], at: performance.now() });
      }
    }
  })();
  return { frames, close: () => abort.abort() };
}

describe('the status feed keeps its documented times (process runtime)', () => {
  const { admin } = supervisorSuite({
    suite: 'status-feed',
    adminPort: ADMIN,
    config: {
      runtime: 'process',
      listenPort: LISTEN,
      services: {
        acts: echoService({ replicas: { initial: 1, min: 1, max: 1 }, startPort: ACTS, routes: ['/api/v1'] }),
      },
    },
    ready: { acts: 1 },
    readyTimeoutMs: 30_000,
  });

  test('idle: a snapshot at least every 2 s', async (t) => {
    const stream = await feed(`${admin.base}/events`);
    try {
      const snapshots = () => stream.frames.filter((f) => f.name === 'snapshot');
      await eventually(async () => (snapshots().length >= 6 ? true : undefined), 'six snapshots', 30_000, 100);
      // The first comes on connect; the gaps after it are the timer's.
      const times = snapshots().map((f) => f.at);
      const gaps = times.slice(2).map((at, i) => at - times[i + 1]!);
      t.diagnostic(`gaps between snapshots: ${gaps.map(Math.round).join(', ')} ms`);
      assert.ok(median(gaps) <= SNAPSHOT_GAP_MEDIAN_MS, `median gap ${median(gaps)} ms > ${SNAPSHOT_GAP_MEDIAN_MS} ms`);
    } finally {
      stream.close();
    }
  });

  test('a change of replica state: a snapshot follows each event, well before the 2 s timer', async (t) => {
    const stream = await feed(`${admin.base}/events`);
    try {
      const [old] = await admin.waitReady('acts', 1);
      const seen = stream.frames.length;
      assert.equal((await http('POST', `http://127.0.0.1:${ACTS}/api/v1/_crash`)).status, 200);
      await admin.waitFor(
        (s) => s.services.acts!.replicas.find((r) => r.id !== old!.id && r.state === 'ready'),
        'the replacement ready',
        30_000,
      );
      // The snapshot that follows the replacement's ready event must have arrived too.
      const isReady = (f: Frame) => f.name === 'event' && f.data.type === 'replica.ready' && f.data.id !== old!.id;
      await eventually(
        async () => {
          const i = stream.frames.findIndex((f, j) => j >= seen && isReady(f));
          return i !== -1 && stream.frames.slice(i).some((f) => f.name === 'snapshot') ? true : undefined;
        },
        'the snapshot after the last event',
        5000,
        50,
      );
      const frames = stream.frames.slice(seen);
      const delays = frames
        .map((f, i) => ({ f, next: frames.slice(i + 1).find((g) => g.name === 'snapshot') }))
        .filter(({ f, next }) => f.name === 'event' && f.data.type?.startsWith('replica.') && next)
        .map(({ f, next }) => next!.at - f.at);
      t.diagnostic(`event → next snapshot: ${delays.map(Math.round).join(', ')} ms`);
      assert.ok(delays.length >= 3, `${delays.length} replica events seen`);
      assert.ok(
        median(delays) <= SNAPSHOT_AFTER_CHANGE_MEDIAN_MS,
        `median ${median(delays)} ms > ${SNAPSHOT_AFTER_CHANGE_MEDIAN_MS} ms`,
      );
    } finally {
      stream.close();
    }
  });
});
