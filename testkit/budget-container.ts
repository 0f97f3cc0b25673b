// The whole system inside a memory budget, the way a small VM has it: the supervisor (process
// runtime: its replicas are its children) in one container of the node base image with
// `-m <budget>` and no swap, host networking (the test reaches the balancer and the admin API on
// 127.0.0.1), the repository mounted read-only at its own path and a temp dir for data. What the
// kernel does at the budget (an OOM kill) is read back from the engine. Used by the pressure
// suite and the footprint benchmark.
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { type DockerEngine, isNotFound } from '../engine-client/index.ts';
import { IMAGE_NODE_PATH } from '../scripts/base-image.ts';
import { ensureBaseImage } from '../scripts/images.ts';
import { ensureSupervisorBundle, repoRoot, TEST_LABEL, unitAllocatorEnv } from './supervisor.ts';

export interface BudgetContainerOptions {
  suite: string;
  memoryMb: number;
  /** The supervisor's config (inside `dir`). */
  configFile: string;
  /** Mounted read-write at its own path: the config and the data directory live here. */
  dir: string;
  env?: Record<string, string>;
}

export class BudgetContainer {
  readonly #engine: DockerEngine;
  readonly #o: BudgetContainerOptions;
  #id = '';
  #peakBytes = 0;
  #sampler: NodeJS.Timeout | undefined;

  constructor(engine: DockerEngine, options: BudgetContainerOptions) {
    this.#engine = engine;
    this.#o = options;
  }

  get id(): string {
    return this.#id;
  }

  /** The highest memory use sampled (every 250 ms, without the page cache), bytes. */
  get peakBytes(): number {
    return this.#peakBytes;
  }

  async start(): Promise<void> {
    await BudgetContainer.removeLeftovers(this.#engine, this.#o.suite);
    await ensureSupervisorBundle(); // the checkout is read-only inside
    const base = await ensureBaseImage({ engine: this.#engine });
    const bytes = this.#o.memoryMb * 2 ** 20;
    // node_modules may be a link out of the tree (a worktree sharing another's): mounted too.
    const modules = realpathSync(path.join(repoRoot, 'node_modules'));
    const outside = !modules.startsWith(repoRoot) ? [{ source: modules, target: modules, readOnly: true }] : [];
    const created = await this.#engine.containers.create({
      name: `sa-test-${this.#o.suite}`,
      image: base.ref,
      // The base image has this machine's Node as IMAGE_NODE_PATH (scripts/base-image.ts); the
      // production command: the supervisor's bundle, no TypeScript loader.
      cmd: [IMAGE_NODE_PATH, 'supervisor', 'start', '--config', this.#o.configFile],
      workingDir: repoRoot,
      env: { HOME: this.#o.dir, LOG_FORMAT: 'json', ...unitAllocatorEnv(), ...this.#o.env },
      labels: { [TEST_LABEL]: this.#o.suite },
      networkMode: 'host',
      memoryBytes: bytes,
      memorySwapBytes: bytes,
      binds: [
        { source: repoRoot, target: repoRoot, readOnly: true },
        { source: this.#o.dir, target: this.#o.dir },
        ...outside,
      ],
      init: true,
      stopTimeoutSeconds: 20,
    });
    this.#id = created.id;
    await this.#engine.containers.start(this.#id);
    this.#sampler = setInterval(() => {
      this.#engine.containers.usage(this.#id).then(
        (u) => (this.#peakBytes = Math.max(this.#peakBytes, u.memoryBytes)),
        () => undefined,
      );
    }, 250);
  }

  /** Its output (the supervisor's log), for a failure message. */
  async output(): Promise<string> {
    const text: string[] = [];
    for await (const chunk of this.#engine.containers.logs(this.#id, { follow: false, tail: 40 }))
      text.push(chunk.data.toString('utf8'));
    return text.join('');
  }

  /** Running, and whether the kernel killed something in it for memory (its main process, or any). */
  async state(): Promise<{ running: boolean; oomKilled: boolean; exitCode: number }> {
    const info = await this.#engine.containers.inspect(this.#id);
    return { running: info.state.running, oomKilled: info.state.oomKilled, exitCode: info.state.exitCode };
  }

  /** The kernel's OOM kills inside the container's cgroup so far (cgroup v1 memory.oom_control, v2 memory.events). */
  async oomKills(): Promise<number | undefined> {
    const { readFile } = await import('node:fs/promises');
    for (const [file, pattern] of [
      [`/sys/fs/cgroup/memory/docker/${this.#id}/memory.oom_control`, /^oom_kill (\d+)$/m],
      [`/sys/fs/cgroup/system.slice/docker-${this.#id}.scope/memory.events`, /^oom_kill (\d+)$/m],
    ] as const) {
      const text = await readFile(file, 'utf8').catch(() => undefined);
      const match = text === undefined ? null : pattern.exec(text);
      if (match) return Number(match[1]);
    }
    return undefined;
  }

  /** SIGTERM (the supervisor stops its replicas), then removed. Safe to call twice. */
  async stop(): Promise<void> {
    clearInterval(this.#sampler);
    if (this.#id === '') return;
    await this.#engine.containers.stop(this.#id, { graceSeconds: 20 }).catch(() => undefined);
    await this.#engine.containers.remove(this.#id, { force: true }).catch((err: unknown) => {
      if (!isNotFound(err)) throw err;
    });
    this.#id = '';
  }

  static async removeLeftovers(engine: DockerEngine, suite: string): Promise<void> {
    for (const c of await engine.containers.list({ all: true, labels: { [TEST_LABEL]: suite } })) {
      await engine.containers.remove(c.id, { force: true }).catch(() => undefined);
    }
  }
}
