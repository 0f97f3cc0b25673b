// The real supervisor for the dashboard test: process runtime (no Docker needed), every port in
// the UI range, a short scaling window, everything under a temporary directory.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../../../testkit/eventually.ts';
import { TEST_ADMIN_TOKEN } from '../../../testkit/supervisor.ts';
import { repoRoot } from '../../helpers/node-process.ts';
import { freePorts, startNode, waitForOk, type Child } from './processes.ts';

export interface ScalingSetup {
  windowSeconds: number;
  requestsPerReplica: number;
  maxActs: number;
}

export interface RunningSupervisor {
  listenUrl: string;
  /** Process ids of the replicas running now, by service (the process runtime's state file). */
  replicaPids(): Promise<Record<string, number[]>>;
  adminUrl: string;
  status(): Promise<StatusBody>;
  output(): string;
  stop(): Promise<void>;
}

interface ShippedConfig {
  heartbeat: Record<string, unknown>;
  scaling: Record<string, unknown>;
  services: Record<'users' | 'acts', Record<string, unknown>>;
  [key: string]: unknown;
}

/** The parts of GET /status (docs/status-api.md) the test reads. */
export interface StatusBody {
  runtime: string;
  services: Record<string, { desired: number; replicas: Array<{ port: number; state: string; health: string }> }>;
}

export async function startSupervisor(scaling: ScalingSetup): Promise<RunningSupervisor> {
  const dir = await mkdtemp(join(tmpdir(), 'selfless-ui-supervisor-'));
  const instance = `uitest${process.pid}`;
  let child: Child | undefined;
  const stopAll = async () => {
    await child?.stop();
    await killLeftovers(dir, instance);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const [listen, admin, users, ...acts] = await freePorts(3 + scaling.maxActs);
    // The shipped deployment, with what a test must change: process runtime, ports in the UI
    // range, a temporary data directory, quick heartbeats and a short scaling window.
    const shipped = JSON.parse(await readFile(join(repoRoot, 'config', 'orchestrator.json'), 'utf8')) as ShippedConfig;
    const config = {
      ...shipped,
      instance,
      runtime: 'process',
      listen: { host: '127.0.0.1', port: listen },
      admin: { host: '127.0.0.1', port: admin, token: TEST_ADMIN_TOKEN },
      publishHost: '127.0.0.1',
      dataDir: join(dir, 'data'),
      heartbeat: { ...shipped.heartbeat, intervalMs: 500, timeoutMs: 400 },
      scaling: {
        ...shipped.scaling,
        windowSeconds: scaling.windowSeconds,
        requestsPerReplica: scaling.requestsPerReplica,
        dampingWindows: 0,
      },
      drainTimeoutMs: 1000,
      stopGraceSeconds: 2,
      onShutdown: 'remove',
      staticDir: join(repoRoot, 'public'),
      // The test opens the dashboard through the listen port too, which is off unless configured.
      balancer: { ...(shipped.balancer as object | undefined), adminOnListener: true },
      services: {
        ...shipped.services,
        // One port is taken for users: its range must end there, not run into acts' first.
        users: { ...shipped.services.users, startPort: users, replicas: { initial: 1, min: 1, max: 1 } },
        acts: { ...shipped.services.acts, startPort: acts[0], replicas: { initial: 1, min: 1, max: scaling.maxActs } },
      },
    };
    const file = join(dir, 'orchestrator.json');
    await writeFile(file, JSON.stringify(config, null, 2));
    child = startNode('supervisor/main.ts', ['--config', file], {});
    const adminUrl = `http://127.0.0.1:${admin}`;
    await waitForOk(`${adminUrl}/status`, child, 30_000);
    const running = child;
    return {
      listenUrl: `http://127.0.0.1:${listen}`,
      adminUrl,
      async status() {
        const res = await fetch(`${adminUrl}/status`, { signal: AbortSignal.timeout(5000) });
        return (await res.json()) as StatusBody;
      },
      output: () => running.output(),
      replicaPids: () => replicaPids(dir, instance),
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

async function replicaPids(dir: string, instance: string): Promise<Record<string, number[]>> {
  const text = await readFile(join(dir, 'data', `process-replicas-${instance}.json`), 'utf8');
  const pids: Record<string, number[]> = {};
  for (const r of (JSON.parse(text) as { replicas: Array<{ pid: number; service: string }> }).replicas)
    (pids[r.service] ??= []).push(r.pid);
  return pids;
}

/**
 * The process runtime starts replicas in their own process groups so they outlive a crashed
 * supervisor; if the supervisor did not stop them, the test does, from the runtime's state file.
 */
async function killLeftovers(dir: string, instance: string): Promise<void> {
  let pids: number[] = [];
  try {
    const text = await readFile(join(dir, 'data', `process-replicas-${instance}.json`), 'utf8');
    pids = (JSON.parse(text) as { replicas: Array<{ pid: number }> }).replicas.map((r) => r.pid);
  } catch {
    return; // no state file: nothing was started, or the supervisor removed everything
  }
  for (const pid of pids) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Polls the status until `check` holds, for at most `timeoutMs`. */
export async function waitForStatus(
  sup: RunningSupervisor,
  what: string,
  check: (s: StatusBody) => boolean,
  timeoutMs: number,
): Promise<StatusBody> {
  let last: StatusBody | undefined;
  const probe = async () => {
    last = await sup.status();
    return check(last) ? last : undefined;
  };
  try {
    return await eventually(probe, what, timeoutMs, 250);
  } catch (error) {
    throw new Error(`${(error as Error).message}; last status: ${JSON.stringify(last)}\n${sup.output()}`);
  }
}
