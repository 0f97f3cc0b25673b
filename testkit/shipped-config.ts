// The shipped config/orchestrator.json made safe for a test or benchmark run: the real
// acts:latest and users:latest images (built if missing or out of date), our ports, a temp data
// dir, a labelled network and instance of the run's own, so cleanup by label finds everything.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { DockerEngine } from '../engine-client/index.ts';
import { ensureImages } from '../scripts/images.ts';
import { TEST_ENGINE } from './engine.ts';
import {
  SupervisorSuite,
  TEST_ADMIN_TOKEN,
  repoRoot,
  suiteRuntimes,
  type EchoSuiteConfig,
  type SuiteSetup,
} from './supervisor.ts';

export interface ShippedConfigOptions {
  suite: string;
  dir: string;
  listenPort: number;
  adminPort: number;
  actsPort: number;
  usersPort: number;
  /** Top-level keys replaced as a whole (e.g. `scaling`). */
  overrides?: Record<string, unknown>;
}

/**
 * A supervisor on the shipped config (or `echo`'s) under the test engine: both services up,
 * users and acts, before the run starts. For SupervisorSuite (benchmarks) or supervisorSuite (tests).
 */
export function shippedSetup(
  engine: DockerEngine | undefined,
  o: Omit<ShippedConfigOptions, 'dir'>,
  echo?: EchoSuiteConfig,
): SuiteSetup {
  return {
    suite: o.suite,
    adminPort: o.adminPort,
    ...(engine ? { engine } : {}),
    config: echo ?? ((dir) => shippedConfigFile(engine, { ...o, dir })),
    ready: echo ? { acts: 1 } : { acts: 1, users: 1 },
    readyTimeoutMs: 120_000,
    stopGraceMs: 30_000,
  };
}

/**
 * A benchmark's supervisor: shippedSetup() as a SupervisorSuite to run(); without an engine, under the process runtime.
 */
export function shippedSuite(
  engine: DockerEngine | undefined,
  o: Omit<ShippedConfigOptions, 'dir'>,
  echo?: EchoSuiteConfig,
): SupervisorSuite {
  return new SupervisorSuite(shippedSetup(engine, o, echo));
}

/** Under the test engine's runtime with `engine` (its images built first); without one, under the process runtime. */
export async function shippedConfigFile(engine: DockerEngine | undefined, o: ShippedConfigOptions): Promise<string> {
  if (engine) await ensureImages({ engine });
  const shipped = JSON.parse(await readFile(path.join(repoRoot, 'config/orchestrator.json'), 'utf8')) as {
    services: Record<string, { startPort: number }>;
    runtimes: Record<string, object>;
  };
  shipped.services.users!.startPort = o.usersPort;
  shipped.services.acts!.startPort = o.actsPort;
  const file = path.join(o.dir, 'orchestrator.json');
  await writeFile(
    file,
    JSON.stringify({
      ...shipped,
      instance: `test-${o.suite}`,
      runtime: engine ? TEST_ENGINE.name : 'process',
      listen: { host: '127.0.0.1', port: o.listenPort },
      admin: { host: '127.0.0.1', port: o.adminPort, token: TEST_ADMIN_TOKEN },
      dataDir: path.join(o.dir, 'data'),
      runtimes: suiteRuntimes(o.suite, shipped.runtimes),
      ...o.overrides,
    }),
  );
  return file;
}
