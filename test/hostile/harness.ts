// What the bad-input suite runs on: the users and acts services as two real processes (as the
// orchestrator runs them), a health watch in a worker thread (so the test's own work cannot
// delay its clock), and a sender that records every answer.
import { connect } from 'node:net';
import { Worker } from 'node:worker_threads';
import { Agent } from 'undici';
import type { ApiAccess } from '../../app/config.ts';
import { spawnApp, type AppProcess } from '../app/support/app-process.ts';
import type { FreshStorage } from '../app/support/backends.ts';

export const SECRET = 'hostile-suite-session-secret-0123456789';

export interface Services {
  users: AppProcess;
  acts: AppProcess;
  usersUrl: string;
  actsUrl: string;
  stop(): Promise<{ users: number | null; acts: number | null }>;
}

export async function startServices(store: FreshStorage, mode: ApiAccess): Promise<Services> {
  const storage: Record<string, string> = store.storage.databaseUrl
    ? { DATABASE_URL: store.storage.databaseUrl }
    : { DATA_DIR: store.storage.dataDir };
  const common = { PORT: '0', HOST: '127.0.0.1', SESSION_SECRET: SECRET, API_ACCESS: mode, ...storage };
  const users = spawnApp({ SERVICE: 'users', ...common });
  let acts: AppProcess | undefined;
  try {
    const usersUrl = await users.started;
    acts = spawnApp({ SERVICE: 'acts', USERS_URL: usersUrl, ...common });
    const actsUrl = await acts.started;
    const both = acts;
    return {
      users,
      acts: both,
      usersUrl,
      actsUrl,
      async stop() {
        const [a, u] = [await both.stop(), await users.stop()];
        return { users: u.code, acts: a.code };
      },
    };
  } catch (err) {
    await acts?.stop();
    await users.stop();
    throw err;
  }
}

export interface HealthReport {
  checks: number;
  worstMs: number;
  /** Every check's latency, in the order they ran. */
  latenciesMs: number[];
  /** The five slowest checks, for the failure message. */
  slowest: string[];
  /** Checks that were not a 200 (or got no answer in 5 s). */
  failures: string[];
}

const WATCH = `
const { parentPort, workerData } = require('node:worker_threads');
let stop = false;
const report = { checks: 0, worstMs: 0, latenciesMs: [], failures: [], slowest: [] };
const slow = [];
parentPort.on('message', () => { stop = true; });
(async () => {
  // One uncounted round first: the thread's first fetch loads and compiles undici itself.
  for (const url of workerData.urls) await fetch(url).then((res) => res.arrayBuffer(), () => {});
  parentPort.postMessage('ready');
  while (!stop) {
    for (const url of workerData.urls) {
      const started = performance.now();
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
        await res.arrayBuffer();
        if (res.status !== 200) report.failures.push(url + ' answered ' + res.status);
      } catch (err) {
        report.failures.push(url + ': ' + err.message);
      }
      const ms = performance.now() - started;
      report.checks += 1;
      report.worstMs = Math.max(report.worstMs, ms);
      report.latenciesMs.push(ms);
      slow.push([ms, url + ' at +' + (Date.now() - workerData.t0) + ' ms']);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  report.slowest = slow.sort((a, b) => b[0] - a[0]).slice(0, 5).map(([ms, what]) => Math.round(ms) + ' ms ' + what);
  parentPort.postMessage(report);
})();
`;

/** Polls every URL's _health every 20 ms until stopped; the worst latency it saw. */
export async function healthWatch(baseUrls: string[]): Promise<{ stop(): Promise<HealthReport> }> {
  const worker = new Worker(WATCH, {
    eval: true,
    workerData: { urls: baseUrls.map((u) => `${u}/api/v1/_health`), t0: Date.now() },
  });
  await new Promise<void>((resolve) => worker.once('message', () => resolve()));
  const report = new Promise<HealthReport>((resolve) => worker.once('message', resolve));
  return {
    async stop() {
      worker.postMessage('stop');
      const result = await report;
      await worker.terminate();
      return result;
    },
  };
}

export interface Sent {
  status: number;
  body: string;
}

const agent = new Agent({ connections: 16, headersTimeout: 60_000, bodyTimeout: 60_000 });

/** One HTTP request with the path exactly as given; the status and body of the answer. */
export async function send(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string | Buffer,
): Promise<Sent> {
  // The dispatcher API sends the path as written (a URL would be normalised first).
  const res = await agent.request({ origin: base, path, method: method as 'GET', headers, body: body ?? null });
  const text = await res.body.text();
  return { status: res.statusCode, body: text };
}

/**
 * A raw exchange on its own connection: writes `chunks` (pausing `gapMs` between them), then
 * either ends or, with `abort`, destroys the socket; the status line of an answer, if any.
 */
export function rawExchange(
  base: string,
  chunks: (string | Buffer)[],
  { abort = false, gapMs = 0 } = {},
): Promise<string> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    let answer = '';
    const timer = setTimeout(() => finish(), 10_000);
    function finish() {
      clearTimeout(timer);
      socket.destroy();
      resolve(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? (abort ? 'aborted' : 'closed without an answer'));
    }
    socket.on('data', (data: Buffer) => {
      answer += data.toString('latin1');
      if (answer.includes('\r\n\r\n')) finish();
    });
    socket.on('error', () => finish());
    socket.on('close', () => finish());
    socket.on('connect', async () => {
      for (const chunk of chunks) {
        if (socket.destroyed) return;
        socket.write(chunk);
        if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
      }
      if (abort) finish();
    });
  });
}
