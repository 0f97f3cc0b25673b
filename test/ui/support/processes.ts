// Child processes for the browser tests: the app in SERVICE=all mode and the supervisor, each on
// ports from the UI tests' range (30000-30999), each stopped for certain by the suite's after hook.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, startTsx, type NodeProcess } from '../../helpers/node-process.ts';
import { portFree } from '../../../testkit/ports.ts';

const RANGE_START = 30000;
const RANGE_SIZE = 1000;

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

export interface Child extends NodeProcess {
  /** The last 20 000 characters it wrote, for failure messages. */
  output(): string;
}

/** Starts `node --import tsx <entry> ...args` from the repository root, keeping its output. */
export function startNode(entry: string, args: string[], env: Record<string, string>): Child {
  const node = startTsx(entry, args, { ...process.env, ...env });
  let log = '';
  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString('utf8')).slice(-20_000);
  };
  node.child.stdout?.on('data', keep);
  node.child.stderr?.on('data', keep);
  return { ...node, output: () => log };
}

/** Polls `url` until it answers 200, the child exits, or the deadline passes. */
export async function waitForOk(url: string, child: Child, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (child.child.exitCode !== null) {
      throw new Error(`process exited with ${child.child.exitCode} before ${url} answered:\n${child.output()}`);
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

/**
 * The app with both services and the site, on SQLite in a fresh temporary directory. `env`
 * adds to its environment (API_ACCESS: the app's own default is owner).
 */
export async function startApp(env: Record<string, string> = {}): Promise<RunningApp> {
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
      ...env,
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
