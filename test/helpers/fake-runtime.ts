// A Runtime for unit tests of the Fleet: replicas are records in a map, every call is logged
// ("start acts:8000", "stop c2", "remove c2"), and a test can make a replica exit, make a
// service crash at start, or make start fail (a missing image, a port another process holds).
import {
  portTaken,
  type Placement,
  type ReplicaInfo,
  type ReplicaSpec,
  type Runtime,
} from '../../supervisor/runtime/runtime.ts';

interface FakeReplica extends ReplicaInfo {
  /** What start() was given. */
  started?: ReplicaSpec;
}

export class FakeRuntime implements Runtime {
  readonly kind = 'fake';
  readonly memoryEnforcement = 'cgroup' as const;
  readonly cpuEnforcement = 'cgroup' as const;
  readonly limitsNote = 'a fake cgroup';
  readonly calls: string[] = [];
  /** When each start was asked for (the clock's ms), by service. */
  readonly startedAt = new Map<string, number[]>();
  readonly replicas = new Map<string, FakeReplica>();
  /** Services whose replicas exit as soon as they start. */
  readonly crashing = new Set<string>();
  /** Services whose starts fail (a missing image). */
  readonly refusing = new Set<string>();
  /** Host ports another process holds: a start there fails with PORT_TAKEN. */
  readonly takenPorts = new Set<number>();
  #next = 1;
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  /** A replica already running (or not) before the fleet looks: for adoption. */
  plant(service: string, port: number, running = true): string {
    const id = `old${this.#next++}`;
    this.replicas.set(id, {
      id,
      service,
      port,
      instance: id,
      url: `http://127.0.0.1:${port}`,
      running,
      startedAt: this.#now() - 60_000,
      ...(running ? {} : { exitReason: 'exited, exit code 1' }),
    });
    return id;
  }

  /** The replica's process dies. */
  exit(id: string, reason = 'exited, exit code 137'): void {
    const r = this.replicas.get(id)!;
    r.running = false;
    r.exitReason = reason;
  }

  byPort(service: string, port: number): FakeReplica | undefined {
    return [...this.replicas.values()].find((r) => r.service === service && r.port === port);
  }

  async init(): Promise<void> {}

  async list(): Promise<ReplicaInfo[]> {
    return [...this.replicas.values()].map(({ started: _, ...r }) => r);
  }

  async inspect(id: string): Promise<ReplicaInfo | undefined> {
    const r = this.replicas.get(id);
    return r && { ...r };
  }

  async start(spec: ReplicaSpec): Promise<ReplicaInfo> {
    this.calls.push(`start ${spec.service}:${spec.port}`);
    this.startedAt.set(spec.service, [...(this.startedAt.get(spec.service) ?? []), this.#now()]);
    if (this.refusing.has(spec.service))
      throw Object.assign(new Error(`no image for ${spec.service}`), { code: 'NOT_FOUND' });
    if (this.takenPorts.has(spec.port))
      throw portTaken(spec.port, `listen 127.0.0.1:${spec.port}: address already in use`);
    const id = `c${this.#next++}`;
    const r: FakeReplica = {
      id,
      service: spec.service,
      port: spec.port,
      instance: spec.instance,
      url: `http://127.0.0.1:${spec.port}`,
      running: true,
      startedAt: this.#now(),
      started: spec,
      ...(spec.spec === undefined ? {} : { spec: spec.spec }),
    };
    this.replicas.set(id, r);
    const info = { ...r };
    if (this.crashing.has(spec.service)) this.exit(id, 'exited, exit code 3');
    return info;
  }

  async stop(id: string): Promise<void> {
    this.calls.push(`stop ${id}`);
    const r = this.replicas.get(id);
    if (r) r.running = false;
  }

  async remove(id: string): Promise<void> {
    this.calls.push(`remove ${id}`);
    this.replicas.delete(id);
  }

  serviceUrl(service: string, port: number): string {
    return `http://${service}-${port}`;
  }

  placement(service: string, port: number): Placement {
    return { port, host: '127.0.0.1', dataDir: `/tmp/data/${service}` };
  }

  async close(): Promise<void> {}
}
