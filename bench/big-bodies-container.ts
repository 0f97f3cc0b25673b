// `npm run bench:bodies -- --container`: the same hostile bodies against the shipped image with
// the shipped limits (acts:latest, 256 MB, 0.5 CPU, as config/orchestrator.json runs a replica),
// then 4 large photo uploads at once (row 17 multipart and row 15 JSON, each resized by sharp).
// Before the body budget (issue 12) such a replica was OOM-killed by 4 × 16 MiB bodies (cgroup
// peak 253-256 MiB); here the container must survive every phase, its health answered
// throughout. Figures per phase: health latency, answers, and the cgroup's peak memory
// (memory.max_usage_in_bytes, cgroup v1; memory.peak on v2), OOM kills from the engine.
import { readFile } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { request } from 'undici';
import { DockerEngine } from '../engine-client/index.ts';
import { ensureImages } from '../scripts/images.ts';
import { photoJpeg } from '../testkit/photos.ts';
import { percentile } from './stats.ts';

const MIB = 1024 * 1024;
const LIMITS = { memoryBytes: 256 * MIB, cpus: 0.5 };
const LABELS = { 'selflessacts.bench': 'big-bodies' };
const REQUEST_TIMEOUT_MS = 180_000;
const SECRET = 'bench-big-bodies-secret-0123456789';

export interface PhaseFigures {
  phase: string;
  requests: number;
  statuses: Record<string, number>;
  wallSeconds: number;
  healthChecks: number;
  healthFailed: number;
  healthWorstMs: number;
  healthP99Ms: number;
  /** The cgroup's peak since the container started (it only grows), after this phase. */
  cgroupPeakMb: number;
  oomKilled: boolean;
  running: boolean;
}

/** A worker thread that times GET `workerData.url` every `workerData.everyMs` until told to stop. */
export const HEALTH_POLLER = `
const { parentPort, workerData } = require('node:worker_threads');
const samples = [];
let stop = false;
parentPort.on('message', () => { stop = true; });
(async () => {
  while (!stop) {
    const started = performance.now();
    let ok = false;
    try {
      const res = await fetch(workerData.url, { signal: AbortSignal.timeout(10000) });
      await res.arrayBuffer();
      ok = res.status === 200;
    } catch {}
    samples.push({ ms: performance.now() - started, ok });
    await new Promise((r) => setTimeout(r, workerData.everyMs));
  }
  parentPort.postMessage(samples);
})();
`;

export interface HealthSample {
  ms: number;
  ok: boolean;
}

/** Starts HEALTH_POLLER on `url`; `stop()` lets the last check land, then returns every sample. */
export function startHealthPoller(url: string, everyMs: number): { stop(): Promise<HealthSample[]> } {
  const poller = new Worker(HEALTH_POLLER, { eval: true, workerData: { url, everyMs } });
  const samples = new Promise<HealthSample[]>((resolve) => poller.once('message', resolve));
  return {
    async stop() {
      await new Promise((r) => setTimeout(r, 300));
      poller.postMessage('stop');
      const checks = await samples;
      await poller.terminate();
      return checks;
    },
  };
}

/** The memory cgroup's peak of a container's process (cgroup v2 memory.peak, else v1 max usage). */
async function cgroupPeakBytes(pid: number): Promise<number> {
  const lines = (await readFile(`/proc/${pid}/cgroup`, 'utf8')).trim().split('\n');
  const v1 = lines.find((line) => line.split(':')[1]?.split(',').includes('memory'));
  if (v1 !== undefined)
    return Number(await readFile(`/sys/fs/cgroup/memory${v1.split(':')[2]}/memory.max_usage_in_bytes`, 'utf8'));
  const v2 = lines.find((line) => line.startsWith('0::'));
  return Number(await readFile(`/sys/fs/cgroup${v2!.slice(3)}/memory.peak`, 'utf8'));
}

type Send = () => Promise<string>;

async function post(url: string, body: Buffer, headers: Record<string, string> = {}): Promise<string> {
  return request(url, {
    method: 'POST',
    headers,
    body,
    headersTimeout: REQUEST_TIMEOUT_MS,
    bodyTimeout: REQUEST_TIMEOUT_MS,
  }).then(
    async (res) => {
      await res.body.dump();
      return String(res.statusCode);
    },
    (err: Error) => (err as { code?: string }).code ?? err.message,
  );
}

export async function measureContainer(
  shapes: Record<string, Buffer>,
  bodiesPerClient: number,
  clients: number,
): Promise<PhaseFigures[]> {
  const engine = new DockerEngine();
  await ensureImages({ engine, onProgress: (line) => console.log(line) });
  const { id } = await engine.containers.create({
    image: 'acts:latest',
    env: { SERVICE: 'all', API_ACCESS: 'open', SESSION_SECRET: SECRET, PORT: '8080', HOST: '0.0.0.0' },
    ports: [{ containerPort: 8080, hostIp: '127.0.0.1', hostPort: 0 }],
    labels: LABELS,
    ...LIMITS,
  });
  const phases: PhaseFigures[] = [];
  try {
    await engine.containers.start(id);
    const info = await engine.containers.inspect(id);
    const base = `http://127.0.0.1:${info.ports[0]!.hostPort}`;
    for (let i = 0; ; i++) {
      const up = await request(`${base}/api/v1/_health`).then(
        async (res) => {
          await res.body.dump();
          return res.statusCode === 200;
        },
        () => false,
      );
      if (up) break;
      if (i > 300) throw new Error('the container did not become healthy');
      await new Promise((r) => setTimeout(r, 100));
    }
    const cookie = await session(base);
    const photo = await largestPhoto();
    console.log(`container: a ${(photo.length / MIB).toFixed(1)} MiB photo for the uploads`);

    const names = Object.keys(shapes);
    const jsonBodies: Send[][] = Array.from({ length: clients }, (_, client) =>
      Array.from(
        { length: bodiesPerClient },
        (_, i) => () =>
          post(`${base}/api/v1/acts/upvote`, shapes[names[(client + i) % names.length]!]!, {
            'content-type': 'application/json',
          }),
      ),
    );
    phases.push(
      await phase(
        engine,
        id,
        base,
        `${clients} clients × ${bodiesPerClient} JSON bodies of 16 MiB (row 13)`,
        jsonBodies,
      ),
    );

    const form = () => {
      const data = new FormData();
      data.append('caption', 'a large photo');
      data.append('categoryName', 'bench');
      data.append('image', new Blob([new Uint8Array(photo)], { type: 'image/jpeg' }), 'large.jpg');
      return data;
    };
    // fetch, which encodes a FormData as multipart (undici's request() takes bytes only).
    const upload = () =>
      fetch(`${base}/api/v1/acts`, {
        method: 'POST',
        body: form(),
        headers: { cookie },
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      }).then(
        async (res) => {
          await res.arrayBuffer();
          return String(res.status);
        },
        (err: Error) => (err.cause as { code?: string } | undefined)?.code ?? err.name,
      );
    const multipart: Send[][] = Array.from({ length: 4 }, () => [upload]);
    phases.push(
      await phase(
        engine,
        id,
        base,
        `4 photo uploads of ${(photo.length / MIB).toFixed(1)} MiB at once (row 17, resized)`,
        multipart,
      ),
    );

    const asJson = (actId: number) =>
      Buffer.from(
        JSON.stringify({
          actId,
          username: 'bench',
          timestamp: '30-11-2026:00-00-12',
          caption: 'a large photo',
          categoryName: 'bench',
          imgB64: photo.toString('base64'),
        }),
      );
    const json: Send[][] = Array.from({ length: 4 }, (_, i) => [
      () => post(`${base}/api/v1/acts`, asJson(900_000 + i), { 'content-type': 'application/json' }),
    ]);
    phases.push(
      await phase(engine, id, base, '4 JSON uploads of the same photo at once (row 15, base64, resized)', json),
    );
  } finally {
    await engine.containers.remove(id, { force: true });
    await engine.close();
  }
  return phases;
}

/** A user and a category for the uploads; the session cookie (row 17 needs one). */
async function session(base: string): Promise<string> {
  const json = { 'content-type': 'application/json' };
  const password = 'a'.repeat(40);
  await post(`${base}/api/v1/users`, Buffer.from(JSON.stringify({ username: 'bench', password })), json);
  const res = await request(`${base}/api/v1/sessions`, {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ username: 'bench', password }),
  });
  await res.body.dump();
  await post(`${base}/api/v1/categories`, Buffer.from('["bench"]'), json);
  const setCookie = res.headers['set-cookie'];
  return (Array.isArray(setCookie) ? setCookie : [setCookie ?? '']).map((c) => c.split(';')[0]).join('; ');
}

/** A phone-sized photo as large as the body limit allows once base64 (row 15): about 12 MiB. */
async function largestPhoto(): Promise<Buffer> {
  let photo = await photoJpeg({ width: 6000, height: 4500, quality: 95 });
  for (let quality = 94; photo.length * (4 / 3) > 16 * MIB - 4096 && quality > 50; quality -= 4) {
    photo = await photoJpeg({ width: 6000, height: 4500, quality });
  }
  return photo;
}

async function phase(
  engine: DockerEngine,
  id: string,
  base: string,
  name: string,
  clients: Send[][],
): Promise<PhaseFigures> {
  const poller = startHealthPoller(`${base}/api/v1/_health`, 50);
  const statuses: Record<string, number> = {};
  const started = performance.now();
  await Promise.all(
    clients.map(async (sends) => {
      for (const send of sends) {
        const outcome = await send();
        statuses[outcome] = (statuses[outcome] ?? 0) + 1;
      }
    }),
  );
  const wallSeconds = (performance.now() - started) / 1000;
  const checks = await poller.stop();
  const latencies = checks.map((c) => c.ms).sort((a, b) => a - b);
  const state = (await engine.containers.inspect(id)).state;
  const figures: PhaseFigures = {
    phase: name,
    requests: clients.reduce((n, sends) => n + sends.length, 0),
    statuses,
    wallSeconds: Math.round(wallSeconds * 10) / 10,
    healthChecks: checks.length,
    healthFailed: checks.filter((c) => !c.ok).length,
    healthWorstMs: Math.round(latencies.at(-1) ?? 0),
    healthP99Ms: Math.round(percentile(latencies, 0.99)),
    cgroupPeakMb: state.running ? Math.round((await cgroupPeakBytes(state.pid)) / MIB) : -1,
    oomKilled: state.oomKilled,
    running: state.running,
  };
  console.log(
    `container: ${name}: ${JSON.stringify(statuses)} in ${figures.wallSeconds} s; health worst ${figures.healthWorstMs} ms, p99 ${figures.healthP99Ms} ms, ` +
      `${figures.healthFailed}/${figures.healthChecks} failed; cgroup peak ${figures.cgroupPeakMb} MiB; oomKilled ${figures.oomKilled}, running ${figures.running}`,
  );
  return figures;
}
