// Child processes for the browser tests: the app in SERVICE=all mode and the supervisor, each on
// ports from the UI tests' range (30000-30999), each stopped for certain by the suite's after hook.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const repoRoot = resolve(import.meta.dirname, '../../..');

const RANGE_START = 30000;
const RANGE_SIZE = 1000;

/** Whether nothing listens on 127.0.0.1:port right now. */
function portFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen(port, '127.0.0.1', () => server.close(() => done(true)));
  });
}

/**
 * `count` consecutive free ports in 30000-30999, starting at a random offset so that suites
 * running side by side rarely collide. Bounded: gives up after a full sweep.
 */
export async function freePorts(count: number): Promise<number[]> {
  const offset = Math.floor(Math.random() * RANGE_SIZE);
  for (let i = 0; i < RANGE_SIZE; i++) {
    const first = RANGE_START + ((offset + i) % (RANGE_SIZE - count + 1));
    const ports = Array.from({ length: count }, (_, k) => first + k);
    let ok = true;
    for (const p of ports) {
      if (!(await portFree(p))) {
        ok = false;
        break;
      }
    }
    if (ok) return ports;
  }
  throw new Error(`no ${count} consecutive free ports in ${RANGE_START}-${RANGE_START + RANGE_SIZE - 1}`);
}

export interface Child {
  process: ChildProcess;
  /** Everything it wrote, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

/** Starts `node --import tsx <entry> ...args` from the repository root. */
export function startNode(entry: string, args: string[], env: Record<string, string>): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString('utf8')).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  return {
    process: child,
    output: () => log,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Polls `url` until it answers 200, the child exits, or the deadline passes. */
export async function waitForOk(url: string, child: Child, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (child.process.exitCode !== null) {
      throw new Error(`process exited with ${child.process.exitCode} before ${url} answered:\n${child.output()}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
      last = `status ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms (${last}):\n${child.output()}`);
}

export interface RunningApp {
  baseUrl: string;
  stop(): Promise<void>;
}

/** The app with both services and the site, on SQLite in a fresh temporary directory. */
export async function startApp(): Promise<RunningApp> {
  const dataDir = await mkdtemp(join(tmpdir(), 'selfless-ui-'));
  let child: Child | undefined;
  try {
    const [port] = await freePorts(1);
    child = startNode('app/main.ts', [], {
      SERVICE: 'all',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATA_DIR: dataDir,
      PUBLIC_DIR: join(repoRoot, 'public'),
    });
    const baseUrl = `http://127.0.0.1:${port}`;
    await waitForOk(`${baseUrl}/api/v1/_health`, child);
    const running = child;
    return {
      baseUrl,
      async stop() {
        await running.stop();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await child?.stop();
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
}
