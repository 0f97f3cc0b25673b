// Shared by the supervisor suites and the benchmarks (bench/ imports nothing from test/): the echo
// image, test configs in temp dirs, the supervisor as a real child process (so SIGKILL and SIGTERM
// are real), a suite's start-up and cleanup (which runs even when a test failed, removing by
// label), an admin client, HTTP helpers.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { type DockerEngine, isNotFound, tarBuffer } from '../engine-client/index.ts';
import { ensureBaseImage } from '../scripts/images.ts';
import { eventually } from './eventually.ts';
import type { StatusFailure } from '../supervisor/admin/status.ts';

export { eventually };

const EXITED = 'supervisor exited';

export const repoRoot = fileURLToPath(new URL('../', import.meta.url));
export const ECHO_APP = fileURLToPath(new URL('./echo-app.mjs', import.meta.url));
export const ECHO_IMAGE = 'selflessacts-test/echo:latest';
export const TEST_LABEL = 'selflessacts.test';

/** The paths the SelfLessActs deployment blocks and leaves uncounted; the echo app has them too. */
export const API_PATHS = {
  blockedPaths: ['/api/v1/_crash'],
  uncountedPaths: ['/api/v1/_health', '/api/v1/_crash', '/api/v1/_count'],
};

// ---- images ---------------------------------------------------------------------------------

let echoImage: Promise<string> | undefined;

/** The trivial echo app as an image FROM the node base image; rebuilt when the fixture changes. */
export function ensureEchoImage(engine: DockerEngine): Promise<string> {
  echoImage ??= (async () => {
    const source = await readFile(ECHO_APP);
    const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
    const found = await engine.images.find(ECHO_IMAGE);
    if (found?.labels['selflessacts.echo-hash'] === hash) return ECHO_IMAGE;
    const base = await ensureBaseImage({ engine });
    const dockerfile = [
      `FROM ${base.ref}`,
      'COPY echo-app.mjs /app/echo-app.mjs',
      'USER 10001:10001',
      'CMD ["node", "/app/echo-app.mjs"]',
      '',
    ].join('\n');
    const context = await tarBuffer([
      { name: 'Dockerfile', content: dockerfile },
      { name: 'echo-app.mjs', content: source },
    ]);
    await engine.images.build(context, {
      tags: [ECHO_IMAGE],
      labels: { 'selflessacts.echo-hash': hash, [TEST_LABEL]: 'supervisor' },
    });
    return ECHO_IMAGE;
  })();
  return echoImage;
}

// ---- configs --------------------------------------------------------------------------------

export interface ServiceDef {
  image?: string;
  command?: string[];
  env?: Record<string, string>;
  replicas: { initial: number; min: number; max: number };
  startPort: number;
  containerPort?: number;
  healthPath?: string;
  livenessPath?: string;
  routes?: string[];
  autoscale?: boolean;
  resources?: { memoryMb: number; cpus: number };
}

/** What the echo app reads, as env templates: the supervisor sets nothing else. */
export const ECHO_ENV = {
  ECHO_PORT: '{{replica:port}}',
  ECHO_HOST: '{{replica:host}}',
  ECHO_SERVICE: '{{replica:service}}',
  ECHO_INSTANCE: '{{replica:instance}}',
};

/** The echo app as a service; `env` adds to ECHO_ENV. */
export function echoService(def: Omit<ServiceDef, 'image' | 'command'> & { env?: Record<string, string> }): ServiceDef {
  return {
    image: ECHO_IMAGE,
    command: ['node', ECHO_APP],
    containerPort: 8080,
    healthPath: '/api/v1/_health',
    resources: { memoryMb: 128, cpus: 0.5 },
    ...def,
    env: { ...ECHO_ENV, ...def.env },
  };
}

export interface TestConfigOptions {
  suite: string;
  dir: string;
  runtime: 'docker' | 'podman' | 'process';
  listenPort: number;
  adminPort: number;
  services: Record<string, ServiceDef>;
  heartbeat?: { intervalMs: number; timeoutMs: number; failureThreshold: number; fastIntervalMs?: number };
  scaling?: { windowSeconds: number; requestsPerReplica: number; dampingWindows: number };
  extra?: Record<string, unknown>;
}

/** Each suite gets its own supervisor instance name and network, so suites never adopt each other's replicas. */
export function instanceName(suite: string): string {
  return `test-${suite}`;
}

export async function writeConfig(o: TestConfigOptions): Promise<string> {
  const config = {
    instance: instanceName(o.suite),
    labelPrefix: 'selflessacts',
    runtime: o.runtime,
    listen: { host: '127.0.0.1', port: o.listenPort },
    admin: { host: '127.0.0.1', port: o.adminPort, token: TEST_ADMIN_TOKEN },
    publishHost: '127.0.0.1',
    dataDir: path.join(o.dir, 'data'),
    staticDir: path.join(o.dir, 'public'),
    heartbeat: { fastIntervalMs: 100, ...(o.heartbeat ?? { intervalMs: 400, timeoutMs: 300, failureThreshold: 3 }) },
    scaling: o.scaling ?? { windowSeconds: 120, requestsPerReplica: 20, dampingWindows: 0 },
    backoff: { initialMs: 1000, maxMs: 8000, resetAfterMs: 5000 },
    drainTimeoutMs: 8000,
    startTimeoutMs: 20000,
    stopGraceSeconds: 2,
    ...API_PATHS,
    runtimes: suiteRuntimes(o.suite),
    services: o.services,
    ...o.extra,
  };
  const file = path.join(o.dir, 'orchestrator.json');
  await writeFile(file, JSON.stringify(config, null, 2));
  return file;
}

/**
 * `runtimes` with both container runtimes on the suite's own network and its containers labelled
 * with its name; the other settings of `base` (a shipped config's) are kept.
 */
export function suiteRuntimes(suite: string, base: Record<string, object> = {}): Record<string, object> {
  const own = { network: `sa-test-${suite}`, user: '10001:10001', labels: [`${TEST_LABEL}=${suite}`] };
  return { ...base, docker: { ...base.docker, ...own }, podman: { ...base.podman, ...own } };
}

export async function tempDir(suite: string): Promise<string> {
  return mkdtemp(path.join(tmpdir(), `sa-sup-${suite}-`));
}

// ---- the supervisor as a child process ------------------------------------------------------

/** The allocator settings the systemd unit (and npm start) give the supervisor, read from the unit. */
export function unitAllocatorEnv(): Record<string, string> {
  const unit = readFileSync(path.join(repoRoot, 'deploy', 'selflessacts.service'), 'utf8');
  const env: Record<string, string> = {};
  for (const line of unit.split('\n')) {
    if (!line.startsWith('Environment=MALLOC_')) continue;
    for (const pair of line.slice('Environment='.length).split(/\s+/)) {
      const at = pair.indexOf('=');
      if (at > 0) env[pair.slice(0, at)] = pair.slice(at + 1);
    }
  }
  return env;
}

export interface LogLine {
  msg: string;
  type?: string;
  [key: string]: unknown;
}

export class SupervisorProcess {
  readonly child: ChildProcess;
  readonly lines: LogLine[] = [];
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(child: ChildProcess) {
    this.child = child;
    let buffered = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      for (const line of parts) {
        if (!line.trim()) continue;
        try {
          this.lines.push(JSON.parse(line) as LogLine);
        } catch {
          this.lines.push({ msg: line });
        }
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /**
   * With `listenFd`, the supervisor gets that listening socket as fd 3 the way systemd passes
   * it (LISTEN_FDS=1, LISTEN_PID its own pid: set by a shell that then execs it).
   */
  static start(
    configFile: string,
    env: Record<string, string> = {},
    options: { listenFd?: number; production?: boolean } = {},
  ): SupervisorProcess {
    const clean = { ...process.env };
    for (const key of [
      'LISTEN_PORT',
      'LISTEN_HOST',
      'ADMIN_PORT',
      'ADMIN_HOST',
      'RUNTIME',
      'DATA_DIR',
      'DATABASE_URL',
      'SESSION_SECRET',
      'API_ACCESS',
      'SUPERVISOR_INSTANCE',
      'LISTEN_FDS',
      'LISTEN_PID',
      'LISTEN_FDNAMES',
    ]) {
      delete clean[key];
    }
    // From the sources by default (a test sees the tree as it is); `production`: the command as
    // systemd and npm start run it, from the bundle (ensureSupervisorBundle first).
    const argv = options.production
      ? [process.execPath, 'supervisor', 'start', '--config', configFile]
      : [process.execPath, '--import', 'tsx', 'supervisor/main.ts', '--config', configFile];
    if (options.production) env = { ...unitAllocatorEnv(), ...env };
    const activated = options.listenFd !== undefined;
    const child = spawn(
      activated ? '/bin/sh' : argv[0]!,
      activated ? ['-c', 'export LISTEN_PID=$$ LISTEN_FDS=1; exec "$@"', 'sh', ...argv] : argv.slice(1),
      {
        cwd: repoRoot,
        env: { ...clean, ...env },
        stdio: activated ? ['ignore', 'pipe', 'pipe', options.listenFd!] : ['ignore', 'pipe', 'pipe'],
      },
    );
    return new SupervisorProcess(child);
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. Safe to call twice. */
  async stop(graceMs = 20_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.running) this.child.kill('SIGTERM');
    const result = await Promise.race([this.exited, sleep(graceMs, undefined, { ref: false }).then(() => undefined)]);
    if (result) return result;
    this.child.kill('SIGKILL');
    return this.exited;
  }

  async kill(): Promise<void> {
    if (this.running) this.child.kill('SIGKILL');
    await this.exited;
  }

  events(type: string): LogLine[] {
    return this.lines.filter((l) => l.type === type);
  }

  /** Waits for a log line; fails early if the process exits. */
  async waitForLine(predicate: (line: LogLine) => boolean, what: string, timeoutMs = 20_000): Promise<LogLine> {
    return eventually(
      async () => {
        const found = this.lines.find(predicate);
        if (found) return found;
        if (!this.running) throw new Error(`${EXITED} (stderr: ${this.stderr.slice(-500)})`);
        return undefined;
      },
      what,
      timeoutMs,
      100,
      { giveUp: (error) => String(error).includes(EXITED) },
    );
  }

  dump(): string {
    return `${this.lines.map((l) => JSON.stringify(l)).join('\n')}\n${this.stderr}`;
  }
}

// ---- admin API ------------------------------------------------------------------------------

export interface StatusReplica {
  id: string;
  port: number;
  url: string;
  state: string;
  health: string;
  requestsServed: number;
  cpuPercent?: number;
  memoryBytes?: number;
  surge?: true;
  /** Takes traffic (ready and not held out); `out` says why not, for a live replica. */
  inRotation: boolean;
  out?: { since: string; cause: 'slow' | 'unready'; reason: string };
}

export type { StatusFailure };

export interface Status {
  runtime: string;
  listen: { host: string; port: number } | null;
  services: Record<
    string,
    {
      desired: number;
      replicas: StatusReplica[];
      window: null | { requests: number; nextDesired: number; nextThreshold: number };
      failures: StatusFailure[];
      rollout?: { toReplace: number; surgePort: number | null } | null;
      capped: { wanted: number; allowed: number; reason: string } | null;
    }
  >;
  capacity: { memoryMb: number; source: string; reserveMb: number; budgetMb: number; usedMb: number } | null;
  memoryEnforcement: 'cgroup' | 'heap-and-watchdog';
}

export interface EventRecord {
  seq: number;
  type: string;
  service?: string;
  port?: number;
  id?: string;
  reason: string;
  previousId?: string;
  /** replica.output: the failed replica's last lines. */
  output?: string[];
  /** replica.replaced: a rolling replacement (spec changed), not a failure's. */
  rolling?: boolean;
  /** replica.started / replica.replaced: the surge replica of a rolling replacement. */
  surge?: boolean;
  time: string;
}

export class Admin {
  constructor(readonly base: string) {}

  async status(): Promise<Status> {
    return (await getJson(`${this.base}/status`)) as Status;
  }

  async events(since = 0): Promise<EventRecord[]> {
    return (await getJson(`${this.base}/events.json?since=${since}`)) as EventRecord[];
  }

  /** Waits until `probe(status)` returns a value (not undefined, null or false). */
  async waitFor<T>(probe: (s: Status) => T | undefined | null | false, what: string, timeoutMs = 30_000): Promise<T> {
    return eventually(
      async () => {
        const value = probe(await this.status());
        return value === false || value === null ? undefined : value;
      },
      what,
      timeoutMs,
      100,
    );
  }

  /** Every listed service has `count` ready replicas (and nothing else). */
  waitReady(service: string, count: number, timeoutMs = 30_000): Promise<StatusReplica[]> {
    return this.waitFor(
      (s) => {
        const replicas = s.services[service]?.replicas ?? [];
        return replicas.length === count && replicas.every((r) => r.state === 'ready') ? replicas : undefined;
      },
      `${count} ready replica(s) of ${service}`,
      timeoutMs,
    );
  }
}

// ---- a suite's supervisor ------------------------------------------------------------------

/** The supervisors a suite starts one after another (restarts of the same config), all killed at the end. */
export class SupervisorRuns {
  readonly all: SupervisorProcess[] = [];

  constructor(readonly configFile: () => string) {}

  start(env: Record<string, string> = {}, options: { listenFd?: number } = {}): SupervisorProcess {
    const sup = SupervisorProcess.start(this.configFile(), env, options);
    this.all.push(sup);
    return sup;
  }

  /** The one started last. */
  get current(): SupervisorProcess {
    const sup = this.all.at(-1);
    if (!sup) throw new Error('no supervisor was started');
    return sup;
  }

  async killAll(): Promise<void> {
    for (const sup of this.all) await sup.kill();
  }
}

/**
 * Waits for `count` ready replicas of each service (all within `timeoutMs`) and for the
 * balancer to listen; a failure carries the end of the supervisor's output.
 */
export async function waitUp(
  sup: SupervisorProcess,
  admin: Admin,
  ready: Record<string, number>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  try {
    for (const [service, count] of Object.entries(ready))
      await admin.waitReady(service, count, Math.max(1000, deadline - Date.now()));
    await eventually(async () => ((await admin.status()).listen ? true : undefined), 'the balancer to listen');
  } catch (err) {
    throw new Error(`${(err as Error).message}\n--- supervisor output ---\n${sup.dump().slice(-4000)}`);
  }
}

export type EchoSuiteConfig = Omit<TestConfigOptions, 'suite' | 'dir' | 'adminPort'>;

export interface SuiteSetup {
  suite: string;
  adminPort: number;
  /** Docker suites: the suite's objects are removed by label before and after; closed at the end. */
  engine?: DockerEngine;
  /**
   * The echo app's config for writeConfig (the image built first under the docker runtime), or
   * a function that writes its own config into `dir` and returns the file.
   */
  config: EchoSuiteConfig | ((dir: string) => Promise<string>);
  /** Ready replicas to wait for, per service, within `readyTimeoutMs` all told. */
  ready: Record<string, number>;
  readyTimeoutMs: number;
  stopGraceMs?: number;
  /** Environment for the supervisor (DATABASE_URL, passed on to every replica). */
  env?: Record<string, string>;
  /** Runs last but for removing the temp dir (a database to drop). */
  cleanup?: () => Promise<void>;
}

/** One supervisor in a temp dir for a suite or a benchmark: up() starts it, down() cleans up. */
export class SupervisorSuite {
  readonly admin: Admin;
  dir = '';
  /** When the supervisor process was started (epoch ms). */
  startedAt = 0;
  readonly #setup: SuiteSetup;
  #sup: SupervisorProcess | undefined;

  constructor(setup: SuiteSetup) {
    this.#setup = setup;
    this.admin = new Admin(`http://127.0.0.1:${setup.adminPort}`);
  }

  get sup(): SupervisorProcess {
    if (!this.#sup) throw new Error(`the ${this.#setup.suite} supervisor was not started`);
    return this.#sup;
  }

  async up(): Promise<void> {
    const { engine, suite } = this.#setup;
    if (engine) await removeSuiteObjects(engine, suite);
    this.dir = await tempDir(suite);
    const file = await this.#writeConfig();
    this.startedAt = Date.now();
    this.#sup = SupervisorProcess.start(file, this.#setup.env);
    await waitUp(this.#sup, this.admin, this.#setup.ready, this.#setup.readyTimeoutMs);
  }

  async #writeConfig(): Promise<string> {
    const { config, engine, suite, adminPort } = this.#setup;
    if (typeof config === 'function') return config(this.dir);
    if (config.runtime !== 'process') {
      if (!engine) throw new Error(`suite ${suite}: the ${config.runtime} runtime needs an engine`);
      await ensureEchoImage(engine);
    }
    return writeConfig({ ...config, suite, dir: this.dir, adminPort });
  }

  /** up(), `body`, then down() whatever happened: a benchmark's whole life. */
  async run<T>(body: (admin: Admin) => Promise<T>): Promise<T> {
    try {
      await this.up();
      return await body(this.admin);
    } finally {
      await this.down();
    }
  }

  /** Also after an up() that failed half-way. */
  async down(): Promise<void> {
    const { engine, suite } = this.#setup;
    const result = await this.#sup?.stop(this.#setup.stopGraceMs);
    if (result && result.code !== 0) console.error(this.#sup!.dump());
    if (engine) {
      await removeSuiteObjects(engine, suite);
      await engine.close();
    }
    await this.#setup.cleanup?.();
    if (this.dir) await removeDir(this.dir);
  }
}

/** A SupervisorSuite for the enclosing describe(): up in before(), down in after(). */
export function supervisorSuite(setup: SuiteSetup): SupervisorSuite {
  const suite = new SupervisorSuite(setup);
  before(() => suite.up());
  after(() => suite.down());
  return suite;
}

// ---- HTTP -----------------------------------------------------------------------------------

/** admin.token in every test config, so a test's POST can carry it. */
export const TEST_ADMIN_TOKEN = 'test-admin-token';

/** Options for a POST to the admin API: it needs the X-Admin-Token header with the token. */
export const ADMIN_POST = { headers: { 'x-admin-token': TEST_ADMIN_TOKEN } };

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export async function http(
  method: string,
  url: string,
  options: { body?: string | Buffer; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const res = await request(url, {
    method: method as 'GET',
    headers: options.headers,
    body: options.body,
    headersTimeout: 30_000,
    bodyTimeout: 30_000,
  });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

export async function getJson(url: string): Promise<unknown> {
  const reply = await http('GET', url);
  if (reply.status !== 200) throw new Error(`GET ${url} → ${reply.status}: ${reply.text.slice(0, 200)}`);
  return JSON.parse(reply.text);
}

/** A replica's own request count (GET /api/v1/_count straight to its port). */
export async function replicaCount(port: number): Promise<number> {
  const body = (await getJson(`http://127.0.0.1:${port}/api/v1/_count`)) as number[];
  return body[0]!;
}

export async function resetCount(port: number): Promise<void> {
  await http('DELETE', `http://127.0.0.1:${port}/api/v1/_count`);
}

// ---- cleanup --------------------------------------------------------------------------------

/** Removes the suite's replicas and network, found by label (leftovers of a crashed run too). */
export async function removeSuiteObjects(engine: DockerEngine, suite: string): Promise<void> {
  for (const c of await engine.containers.list({ all: true, labels: { [TEST_LABEL]: suite } })) {
    await engine.containers.remove(c.id, { force: true }).catch((e: unknown) => {
      if (!isNotFound(e)) throw e;
    });
  }
  for (const c of await engine.containers.list({
    all: true,
    labels: { 'selflessacts.supervisor': instanceName(suite) },
  })) {
    await engine.containers.remove(c.id, { force: true }).catch(() => undefined);
  }
  await engine.networks.remove(`sa-test-${suite}`).catch(() => undefined);
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** Ids of the suite's containers as the engine lists them, by port. */
export async function containersByPort(
  engine: DockerEngine,
  suite: string,
): Promise<Map<number, { id: string; state: string }[]>> {
  const out = new Map<number, { id: string; state: string }[]>();
  for (const c of await engine.containers.list({
    all: true,
    labels: { 'selflessacts.supervisor': instanceName(suite) },
  })) {
    const port = Number(c.labels['selflessacts.port']);
    out.set(port, [...(out.get(port) ?? []), { id: c.id, state: c.state }]);
  }
  return out;
}

// ---- the supervisor's bundle ------------------------------------------------------------------

/**
 * dist/supervisor as the sources are now (supervisor/bundle.mjs): for runs of the
 * production command (`node supervisor`) where the checkout is mounted read-only (a container,
 * the systemd rig) and the command could not build it itself.
 */
export async function ensureSupervisorBundle(): Promise<void> {
  const bundle = await import('../supervisor/bundle.mjs');
  const hash = bundle.sourcesHash();
  if (!bundle.bundleIsCurrent(hash)) await bundle.buildBundle(hash);
}
