// Replicas as containers through a Docker-compatible Engine API (engine-client): Docker's, or
// Podman's (`podman system service`). Containers are named <service>-<port>, carry our labels,
// publish containerPort on publishHost:port, run as a non-root user with memory and CPU limits,
// join one user-defined bridge network (so replicas reach each other by container name) and get
// their service's own data directory (dataDir/replicas/<service>) bind-mounted as /data, and its
// secrets read-only at /run/secrets. Hardened by default (CONTAINMENT): every capability
// dropped, no privilege gain (setuid binaries stay inert), a read-only root filesystem with a
// small tmpfs on /tmp, a pids limit, and no swap beyond the memory limit. No engine socket
// inside. URLs on the host's loopback in the env keys of hostLoopbackEnv are pointed at the
// host's name inside containers.
import { chmod, chown, mkdir, readdir } from 'node:fs/promises';
import { serviceDataDir, serviceSecretsDir, writeSecretFiles } from './replica-files.ts';
import path from 'node:path';
import {
  isConflict,
  isNotFound,
  type ContainerInfo,
  type ContainerSummary,
  type DockerEngine,
} from '../../engine-client/index.ts';
import type { Logger } from '../core/log.ts';
import { rewriteLoopbackEnv } from './host-loopback.ts';
import {
  dialHost,
  parsePortLabel,
  portTaken,
  replicaLabels,
  type CloseOptions,
  type Placement,
  type ReplicaInfo,
  type ReplicaLabels,
  type ReplicaLogOptions,
  type ReplicaOutput,
  type ReplicaSpec,
  type ReplicaUsage,
  type Runtime,
} from './runtime.ts';

/** How containers reach the host: a name, and the extra hosts entry that makes it (if the engine does not). */
export interface HostAlias {
  name: string;
  extraHost?: string;
}

export interface EngineRuntimeOptions {
  /** The runtime's name as the registry knows it (docker, podman). */
  name: string;
  engine: DockerEngine;
  supervisor: string;
  labelPrefix: string;
  hostAlias: HostAlias;
  network: string;
  /** "uid:gid" the replicas run as; replicaDataDir is made writable for it. */
  user: string;
  /** Extra labels on every container. */
  labels?: Record<string, string>;
  publishHost: string;
  /** Env keys whose loopback URLs (127.0.0.1, localhost, [::1]) become the host alias. */
  hostLoopbackEnv?: readonly string[];
  replicaDataDir: string;
  /** The supervisor's data directory: replica-secrets/<service> lives there. */
  dataDir: string;
  stopGraceSeconds: number;
  logger?: Logger;
}

const DATA_MOUNT = '/data';
const SECRETS_MOUNT = '/run/secrets';

/** What every replica container is held to, whatever its image. */
export const CONTAINMENT = {
  capDrop: ['ALL'],
  securityOpt: ['no-new-privileges'],
  readonlyRootfs: true,
  tmpfs: { '/tmp': 'rw,noexec,nosuid,nodev,size=64m' },
  // Node's threads (libuv's pool, V8's helpers, the app's workers) are a few dozen: room, not a fork bomb.
  pidsLimit: 256,
} as const;

export class EngineRuntime implements Runtime {
  readonly memoryEnforcement = 'cgroup' as const;
  readonly cpuEnforcement = 'cgroup' as const;
  readonly limitsNote = "the engine's cgroup per container";
  readonly kind: string;
  readonly #o: EngineRuntimeOptions;
  readonly #labels: ReplicaLabels;
  /** "key value" pairs already logged as rewritten: every replica gets them, one line says it. */
  readonly #loggedRewrites = new Set<string>();

  constructor(options: EngineRuntimeOptions) {
    if (/^(0|root)(:|$)/.test(options.user))
      throw new Error(`runtimes.${options.name}.user must not be root (was ${options.user})`);
    this.kind = options.name;
    this.#o = options;
    this.#labels = replicaLabels(options.labelPrefix);
  }

  async init(): Promise<void> {
    const { engine, network } = this.#o;
    const existing = await engine.networks.list({ name: network });
    if (!existing.some((n) => n.name === network)) {
      try {
        await engine.networks.create({ name: network, driver: 'bridge', labels: { [this.#labels.network]: 'true' } });
        this.#o.logger?.info('network created', { runtime: this.kind, network });
      } catch (err) {
        if (!isConflict(err)) throw err; // another supervisor made it meanwhile
      }
    }
    await mkdir(this.#o.replicaDataDir, { recursive: true });
  }

  async list(): Promise<ReplicaInfo[]> {
    const containers = await this.#o.engine.containers.list({
      all: true,
      labels: { [this.#labels.supervisor]: this.#o.supervisor },
    });
    return containers.flatMap((c) => {
      const info = this.#fromSummary(c);
      return info ? [info] : [];
    });
  }

  async inspect(id: string): Promise<ReplicaInfo | undefined> {
    try {
      return this.#fromInfo(await this.#o.engine.containers.inspect(id));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async usage(id: string): Promise<ReplicaUsage | undefined> {
    try {
      return await this.#o.engine.containers.usage(id);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  logs(id: string, options: ReplicaLogOptions): AsyncIterable<ReplicaOutput> {
    return this.#o.engine.containers.logs(id, {
      follow: options.follow,
      tail: options.tail ?? 'all',
      signal: options.signal,
    });
  }

  async memory(): Promise<{ bytes: number; source: string } | undefined> {
    const { memTotal } = await this.#o.engine.system.info();
    return memTotal > 0
      ? { bytes: memTotal, source: `the ${this.kind} engine's host (GET /info MemTotal)` }
      : undefined;
  }

  async imageId(image: string): Promise<string | undefined> {
    return (await this.#o.engine.images.find(image))?.id;
  }

  async start(spec: ReplicaSpec): Promise<ReplicaInfo> {
    if (!spec.image)
      throw Object.assign(new Error(`service ${spec.service} has no image for the ${this.kind} runtime`), {
        code: 'NO_IMAGE',
      });
    const name = containerName(spec.service, spec.port);
    const dataDir = await this.#prepareDataDir(serviceDataDir(this.#o.replicaDataDir, spec.service));
    const secrets = this.#secretFiles(spec);
    const env = { ...this.#containerEnv(spec.env), ...secrets.env };
    const create = () =>
      this.#o.engine.containers.create({
        name,
        image: spec.image!,
        env,
        labels: {
          ...this.#o.labels,
          [this.#labels.service]: spec.service,
          [this.#labels.port]: String(spec.port),
          [this.#labels.instance]: spec.instance,
          [this.#labels.supervisor]: this.#o.supervisor,
          ...(spec.spec === undefined ? {} : { [this.#labels.spec]: spec.spec }),
        },
        user: this.#o.user,
        ports: [{ containerPort: spec.containerPort, hostIp: this.#o.publishHost, hostPort: spec.port }],
        memoryBytes: spec.resources.memoryMb * 1024 * 1024,
        // No swap beyond it (the engine's default allows as much again): the limit means memory.
        memorySwapBytes: spec.resources.memoryMb * 1024 * 1024,
        cpus: spec.resources.cpus,
        networkMode: this.#o.network,
        networkAliases: [name],
        binds: [
          { source: dataDir, target: DATA_MOUNT },
          ...(secrets.dir ? [{ source: secrets.dir, target: SECRETS_MOUNT, readOnly: true }] : []),
        ],
        capDrop: [...CONTAINMENT.capDrop],
        securityOpt: [...CONTAINMENT.securityOpt],
        readonlyRootfs: CONTAINMENT.readonlyRootfs,
        tmpfs: { ...CONTAINMENT.tmpfs },
        pidsLimit: CONTAINMENT.pidsLimit,
        // A container on the host's MySQL needs a name for the host.
        ...(this.#o.hostAlias.extraHost
          ? { extraHosts: [`${this.#o.hostAlias.name}:${this.#o.hostAlias.extraHost}`] }
          : {}),
        restartPolicy: { name: 'no' }, // the supervisor restarts, with backoff; the engine must not
        init: true, // tini as PID 1: SIGTERM reaches the app, which then exits promptly
        stopTimeoutSeconds: this.#o.stopGraceSeconds,
      });
    let created: { id: string };
    try {
      created = await create();
    } catch (err) {
      if (!isConflict(err) || !(await this.#removeStaleNamesake(name))) throw err;
      created = await create();
    }
    try {
      await this.#o.engine.containers.start(created.id);
    } catch (err) {
      await this.remove(created.id).catch(() => undefined);
      // Docker: "Error starting userland proxy: listen tcp4 127.0.0.1:8081: bind: address already
      // in use" (a host process) or "port is already allocated" (another container); Podman alike.
      const said = (err as Error).message;
      if (/address already in use|port is already allocated/i.test(said)) throw portTaken(spec.port, said, err);
      throw err;
    }
    const info = await this.inspect(created.id);
    if (!info) throw Object.assign(new Error(`container ${name} vanished right after start`), { code: 'NOT_FOUND' });
    return info;
  }

  async stop(id: string, graceSeconds: number): Promise<void> {
    try {
      await this.#o.engine.containers.stop(id, { graceSeconds });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  async remove(id: string): Promise<void> {
    try {
      await this.#o.engine.containers.remove(id, { force: true });
    } catch (err) {
      if (isNotFound(err)) return;
      // "removal already in progress" is a 409: someone is doing our job; check it finished.
      if (isConflict(err) && (await this.inspect(id)) === undefined) return;
      throw err;
    }
  }

  serviceUrl(service: string, port: number, containerPort: number): string {
    return `http://${containerName(service, port)}:${containerPort}`;
  }

  placement(_service: string, _port: number, containerPort: number): Placement {
    return { port: containerPort, host: '0.0.0.0', dataDir: DATA_MOUNT };
  }

  async close(options: CloseOptions = {}): Promise<void> {
    try {
      if (options.removeResources) await this.#removeNetwork();
    } finally {
      await this.#o.engine.close();
    }
  }

  /** Ours to remove once our containers are gone; one still in use by anyone else stays. */
  async #removeNetwork(): Promise<void> {
    const { engine, network } = this.#o;
    try {
      await engine.networks.remove(network);
      this.#o.logger?.info('network removed', { runtime: this.kind, network });
    } catch (err) {
      if (isNotFound(err)) return;
      this.#o.logger?.warn('network left in place', { runtime: this.kind, network, error: (err as Error).message });
    }
  }

  #containerEnv(env: Record<string, string>): Record<string, string> {
    const { env: out, rewritten } = rewriteLoopbackEnv(env, this.#o.hostLoopbackEnv ?? [], this.#o.hostAlias.name);
    const fresh = rewritten.filter((r) => !this.#loggedRewrites.has(`${r.key} ${r.masked}`));
    if (fresh.length) {
      for (const r of fresh) this.#loggedRewrites.add(`${r.key} ${r.masked}`);
      // The host's loopback is the container's own inside it; the host is reached through the gateway.
      this.#o.logger?.info('env URLs on the host loopback rewritten for containers', {
        rewritten: Object.fromEntries(fresh.map((r) => [r.key, r.masked])),
      });
    }
    return out;
  }

  /** A leftover of ours with the same name that is not running is in the way: remove it. */
  async #removeStaleNamesake(name: string): Promise<boolean> {
    const [same] = await this.#o.engine.containers.list({ all: true, name: `^/${name}$` });
    if (!same || same.labels[this.#labels.supervisor] !== this.#o.supervisor || same.state === 'running') return false;
    await this.remove(same.id);
    return true;
  }

  #fromSummary(c: ContainerSummary): ReplicaInfo | undefined {
    const running = c.state === 'running';
    return this.#replica(c.id, c.labels, running, c.created * 1000, running ? undefined : `${c.state}: ${c.status}`);
  }

  #fromInfo(c: ContainerInfo): ReplicaInfo | undefined {
    if (c.labels[this.#labels.supervisor] !== this.#o.supervisor) return undefined;
    const started = Date.parse(c.state.startedAt);
    const exitReason = `${c.state.status}, exit code ${c.state.exitCode}${c.state.oomKilled ? ' (out of memory)' : ''}`;
    return this.#replica(
      c.id,
      c.labels,
      c.state.running,
      Number.isFinite(started) && started > 0 ? started : Date.parse(c.created),
      c.state.running ? undefined : exitReason,
    );
  }

  /** A container without our service and port labels is not a replica. */
  #replica(
    id: string,
    labels: Record<string, string>,
    running: boolean,
    startedAt: number,
    exitReason: string | undefined,
  ): ReplicaInfo | undefined {
    const service = labels[this.#labels.service];
    const port = parsePortLabel(labels[this.#labels.port]);
    if (!service || port === undefined) return undefined;
    const info: ReplicaInfo = {
      id,
      service,
      port,
      instance: labels[this.#labels.instance] ?? '',
      url: `http://${dialHost(this.#o.publishHost)}:${port}`,
      running,
      startedAt,
    };
    if (exitReason !== undefined) info.exitReason = exitReason;
    const spec = labels[this.#labels.spec];
    if (spec !== undefined) info.spec = spec;
    return info;
  }

  /** A service's bind-mounted data directory, writable by the replicas' non-root user only. */
  async #prepareDataDir(dir: string): Promise<string> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const owner = this.#owner();
    if (owner === undefined) {
      await chmod(dir, 0o777);
      return dir;
    }
    try {
      await chown(dir, owner.uid, owner.gid);
      for (const entry of await readdir(dir)) await chown(path.join(dir, entry), owner.uid, owner.gid);
      await chmod(dir, 0o700);
    } catch {
      // Not root: we cannot give it away, so open it up instead.
      await chmod(dir, 0o777);
      this.#warnOnce(`data directory ${dir} made world-writable: this user cannot give it to ${this.#o.user}`);
    }
    return dir;
  }

  /**
   * The replica's secrets as files in dataDir/replica-secrets/<service>, mounted read-only and
   * owned by the replicas' user (mode 400). Without the right to give files away (not root),
   * they stay in the environment, as before, and the log says so once.
   */
  #secretFiles(spec: ReplicaSpec): { env: Record<string, string>; dir?: string } {
    const secrets = spec.secrets ?? {};
    if (Object.keys(secrets).length === 0) return { env: {} };
    const dir = serviceSecretsDir(this.#o.dataDir, spec.service);
    const owner = this.#owner();
    try {
      if (owner === undefined) throw Object.assign(new Error('no numeric user'), { code: 'EPERM' });
      return { env: writeSecretFiles(dir, secrets, SECRETS_MOUNT, owner), dir };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw err;
      this.#warnOnce(`secrets passed in the environment: this user cannot give files to ${this.#o.user}`);
      return { env: { ...secrets } };
    }
  }

  #owner(): { uid: number; gid: number } | undefined {
    const [uid, gid] = this.#o.user.split(':').map(Number);
    if (uid === undefined || !Number.isInteger(uid)) return undefined;
    return { uid, gid: Number.isInteger(gid) ? gid! : uid };
  }

  readonly #warned = new Set<string>();
  #warnOnce(message: string): void {
    if (this.#warned.has(message)) return;
    this.#warned.add(message);
    this.#o.logger?.warn(message);
  }
}

export function containerName(service: string, port: number): string {
  return `${service}-${port}`;
}
