// The primary thread's wiring: the fleet, the three workers and the admin listener, and the
// messages between them (the primary is the hub). Start-up adopts what runs; shutdown stops
// accepting, drains, then stops and removes the replicas (or leaves them).
import { chmodSync, mkdirSync } from 'node:fs';
import { separateServiceData } from '../runtime/replica-files.ts';
import { AdminServer } from '../admin/server.ts';
import { runtimeLogSource } from '../admin/logs.ts';
import type { InheritedSockets } from '../balancer/socket-activation.ts';
import { chooseReader } from '../balancer/upstream-reader.ts';
import { BalancerThreads } from '../workers/balancer-threads.ts';
import { ConfigError, describeIssue, loadConfigFile, type Config } from '../config/config.ts';
import { applySpecChanges } from '../config/reload.ts';
import { EventLog } from '../telemetry/events.ts';
import { Fleet, type Capacity, type LeftBehind } from '../fleet/fleet.ts';
import { errorFields, type Logger } from '../core/log.ts';
import type {
  FromBalancer,
  FromHeartbeat,
  FromScaler,
  RoutesMessage,
  SuspectMessage,
  Target,
  ToHeartbeat,
  WindowStatus,
} from '../core/protocol.ts';
import { replicaDataDir } from '../runtime/select.ts';
import { dialHost, type ReplicaUsage, type Runtime } from '../runtime/runtime.ts';
import { ReplicaEnvironment } from '../fleet/replica-env.ts';
import { ensureAdminToken } from '../admin/token.ts';
import { ensureSecrets } from '../config/secrets.ts';
import { readCertificate, watchCertificate, type LoadedCertificate } from '../config/tls-files.ts';
import { ScaleOverrides } from '../fleet/scale-override.ts';
import { bindError } from './port-check.ts';
import { mainThreadMemory, memoryReport, threadMemory, type MemoryReport } from '../telemetry/memory-report.ts';
import { buildStatus, type ListenError, type StatusBody } from '../admin/status.ts';
import { Telemetry } from '../telemetry/telemetry.ts';
import { policySettings } from '../scaler/policy.ts';
import { WorkerHost, type HostOf } from '../workers/host.ts';
import { HEARTBEAT, SCALER } from '../workers/spec.ts';

const SERVED_EVERY_MS = 1000;
/** A listen port taken at start-up is tried this often, this far apart, before start-up stops. */
const PORT_ATTEMPTS = 4;
const PORT_RETRY_MS = 400;
const SUSPECT_LOG: Record<SuspectMessage['outcome'], string> = {
  refused: 'replica refused a connection',
  reset: 'replica refused a connection',
  timeout: 'replica did not answer in time',
  'server-error': 'replica answered 5xx in a row',
};

export class Supervisor {
  readonly events: EventLog;
  readonly #config: Config;
  readonly #runtime: Runtime;
  readonly #logger: Logger;
  readonly #why: string;
  readonly #fleet: Fleet;
  readonly #overrides: ScaleOverrides;
  readonly #telemetry: Telemetry;
  readonly #windows = new Map<string, WindowStatus>();
  readonly #startedAt = Date.now();
  #admin: AdminServer | undefined;
  #balancer: BalancerThreads | undefined;
  #counting: NodeJS.Timeout | undefined;
  #heartbeat: HostOf<typeof HEARTBEAT> | undefined;
  #scaler: HostOf<typeof SCALER> | undefined;
  #listen: { host: string; port: number } | null = null;
  #listenError: ListenError | null = null;
  readonly #upstreamParser: StatusBody['upstreamParser'];
  #routes = { version: 0, json: '' };
  #targets = { version: 0, json: '' };
  #stopping = false;
  readonly #hurried = new AbortController();
  /** The certificate the balancer uses when TLS is on, and the watch on its files. */
  #certificate: LoadedCertificate | null;
  #certificateWatch: { close(): void } | undefined;
  /** Sockets systemd passed: the balancer accepts on them once the fleet can serve. */
  readonly #inherited: InheritedSockets | null;
  #acceptDeadline: NodeJS.Timeout | undefined;

  /** Where the config came from: SIGHUP reads it again (absent: nothing to re-read). */
  readonly #configFile: string | undefined;
  readonly #replicaEnv: ReplicaEnvironment;

  constructor(options: {
    config: Config;
    runtime: Runtime;
    logger: Logger;
    why: string;
    inherited?: InheritedSockets | null;
    configFile?: string;
  }) {
    this.#configFile = options.configFile;
    this.#config = options.config;
    this.#inherited = options.inherited ?? null;
    this.#runtime = options.runtime;
    this.#logger = options.logger;
    this.#why = options.why;
    this.events = new EventLog({ logger: options.logger.child({ component: 'events' }) });
    // The balancer threads make the same choice (same binary): this one says it, once.
    const reader = chooseReader(this.#config.balancer.upstreamParser);
    this.#upstreamParser = { parser: reader.kind, reason: reader.reason ?? null };
    if (reader.kind === 'own' && this.#config.balancer.upstreamParser === 'auto')
      options.logger.warn('the balancer reads replies with its own parser (slower)', { reason: reader.reason });
    const tls = this.#config.balancer.tls;
    this.#certificate = tls.certFile === '' ? null : readCertificate(tls);
    // Secrets, the admin token, spooled bodies and the embedded databases live under it.
    mkdirSync(this.#config.dataDir, { recursive: true, mode: 0o700 });
    chmodSync(this.#config.dataDir, 0o700);
    const secrets = ensureSecrets(this.#config.dataDir, ReplicaEnvironment.secretNames(this.#config));
    this.#fleet = new Fleet({
      config: this.#config,
      runtime: this.#runtime,
      events: this.events,
      logger: options.logger.child({ component: 'fleet' }),
      env: (this.#replicaEnv = new ReplicaEnvironment(this.#config, secrets, process.env)),
      drain: (id) => this.#drain(id),
      onChange: () => this.#changed(),
      memoryInUse: (id) => this.#telemetry?.memoryOf(id),
    });
    this.#overrides = new ScaleOverrides({
      services: this.#config.services,
      events: this.events,
      desired: (service) => this.#fleet.desired.get(service) ?? 0,
      setDesired: (service, replicas, reason) =>
        this.#fleet.setDesired(service, { replicas, code: 'operator', reason }),
      openWindow: (service) => this.#scaler?.post({ type: 'open-window', service, at: Date.now() }),
    });
    this.#telemetry = new Telemetry({
      events: this.events,
      traffic: () => this.#balancer?.traffic() ?? [],
      replicas: () =>
        Object.entries(this.status().services).map(([service, s]) => ({
          service,
          desired: s.desired,
          ready: s.replicas.filter((r) => r.state === 'ready').length,
          running: s.replicas.length,
        })),
      replicaOf: (id) => this.#fleet.replicas.get(id),
      replicaIds: () =>
        [...this.#fleet.replicas.values()]
          .filter((r) => r.state === 'starting' || r.state === 'ready')
          .map((r) => r.id),
      usage: this.#runtime.usage && ((id) => this.#runtime.usage!(id)),
      onSample: (tick) => this.#admin?.sample(tick),
      ...(this.#runtime.memoryEnforcement === 'heap-and-watchdog'
        ? { onUsage: (id: string, usage: ReplicaUsage) => this.#watchMemory(id, usage) }
        : {}),
    });
  }

  status(): StatusBody {
    return buildStatus({
      runtime: this.#runtime.kind,
      memoryEnforcement: this.#runtime.memoryEnforcement,
      cpuEnforcement: this.#runtime.cpuEnforcement,
      limits: this.#runtime.limitsNote,
      startedAt: this.#startedAt,
      upstreamParser: this.#upstreamParser,
      listen: this.#listen,
      listenError: this.#listenError,
      config: this.#config,
      replicas: this.#fleet.replicas.values(),
      desired: this.#fleet.desired,
      windows: this.#windows,
      overrides: this.#overrides.all,
      failures: this.#fleet.failures,
      capacity: this.#fleet.capacity,
      capped: this.#fleet.capped,
      rollout: (service) => this.#fleet.rollout(service),
      usage: (id) => this.#telemetry?.usageOf(id),
    });
  }

  async start(): Promise<void> {
    const c = this.#config;
    if (this.#inherited === null) await this.#claimListenPorts();
    await this.#runtime.init();
    // Each service has its own data directory now; an installation from before shared one.
    const moved = separateServiceData(
      replicaDataDir(c),
      c.services.map((s) => s.name),
    );
    if (moved.length > 0) this.#logger.info('replica data moved into per-service directories', { moved });
    const capacity = await this.#capacity();
    if (capacity) this.#fleet.setCapacity(capacity);
    let above: string[] = [];
    try {
      above = await this.#fleet.adopt();
    } catch (err) {
      this.events.emit({
        type: 'runtime.error',
        reason: `listing replicas at start failed: ${(err as Error).message}; retrying in the loop`,
      });
    }
    this.#changed(); // the first snapshots, so the workers start with routes even when empty
    this.#admin = new AdminServer({
      host: c.admin.host,
      port: c.admin.port,
      token: ensureAdminToken(c.dataDir, c.admin.token),
      staticDir: c.staticDir,
      events: this.events,
      status: () => this.status(),
      killWorker: (name) => this.#killWorker(name),
      scale: (service, body) => this.#overrides.apply(service, body),
      logs: runtimeLogSource(
        this.#runtime,
        c.services.map((s) => s.name),
        () => this.#fleet.replicas.values(),
      ),
      metrics: async () => ({
        contentType: this.#telemetry.metrics.contentType,
        text: await this.#telemetry.metrics.text(),
      }),
      history: (since) => this.#telemetry.history(since),
      memory: () => this.#memory(),
      logger: this.#logger.child({ component: 'admin' }),
    });
    const admin = await this.#admin.listen();
    this.#logger.info('admin listening', { host: admin.address, port: admin.port });
    this.#startWorkers(`http://${dialHost(c.admin.host)}:${admin.port}`, above);
    if (this.#certificate !== null) {
      this.#logger.info('TLS certificate', {
        subject: this.#certificate.subject,
        validTo: this.#certificate.validTo,
        fingerprint256: this.#certificate.fingerprint256,
      });
      this.#certificateWatch = watchCertificate(
        c.balancer.tls,
        () => void this.reload('the certificate files changed'),
      );
    }
    this.#fleet.start();
    this.#telemetry.start();
    this.events.emit({ type: 'supervisor.started', reason: `runtime ${this.#runtime.kind}: ${this.#why}` });
    if (this.#inherited !== null) {
      this.#logger.info('listening on sockets from systemd; accepting once every service has a ready replica', {
        sockets: this.#inherited.description,
      });
      // A service that never gets ready must not keep the whole site in the backlog.
      this.#acceptDeadline = setTimeout(
        () => this.#accept(`not every service had a ready replica within startTimeoutMs (${c.startTimeoutMs} ms)`),
        c.startTimeoutMs,
      );
      this.#maybeAccept();
    }
  }

  /**
   * The ports the balancer will listen on must be free: a few tries (a process that is letting
   * go of one, as the supervisor being replaced), then start-up stops naming the key. Bounded,
   * so that a signal during start-up is still answered within a couple of seconds.
   */
  async #claimListenPorts(): Promise<void> {
    const c = this.#config;
    const ports: Array<[string, number]> = [['listen.port', c.listen.port]];
    if (c.balancer.tls.redirectPort !== 0) ports.push(['balancer.tls.redirectPort', c.balancer.tls.redirectPort]);
    for (const [key, port] of ports) {
      if (port === 0) continue;
      let error: NodeJS.ErrnoException | undefined;
      for (let attempt = 1; attempt <= PORT_ATTEMPTS; attempt++) {
        error = await bindError(c.listen.host, port);
        if (error === undefined) break;
        if (attempt === 1) {
          this.events.emit({
            type: 'balancer.listen-failed',
            reason: `cannot listen on ${c.listen.host}:${port}: ${error.code ?? 'LISTEN'} (${error.message}); trying ${PORT_ATTEMPTS - 1} more times, ${PORT_RETRY_MS} ms apart`,
            code: error.code,
          });
        }
        if (attempt < PORT_ATTEMPTS) await new Promise((resolve) => setTimeout(resolve, PORT_RETRY_MS));
      }
      if (error !== undefined) {
        throw new ConfigError([
          {
            key,
            value: port,
            expected: `a port free on ${c.listen.host} (${error.code ?? 'LISTEN'}: ${error.message}${error.code === 'EADDRINUSE' ? ': another process holds it; stop it, or choose another port' : ''})`,
          },
        ]);
      }
    }
  }

  /**
   * What the replicas may use: capacity.memoryMb, or what the runtime says its replicas share
   * (the engine's host, this process's cgroup), less capacity.reserveMb. Unknown: nothing is capped.
   */
  async #capacity(): Promise<Capacity | undefined> {
    const c = this.#config.capacity;
    let memoryMb = c.memoryMb;
    let source = 'capacity.memoryMb';
    if (memoryMb === 0) {
      try {
        const found = await this.#runtime.memory?.();
        if (found === undefined) {
          this.#logger.warn(
            'capacity unknown: the runtime does not say how much memory its replicas share; scaling is not capped (set capacity.memoryMb)',
            { runtime: this.#runtime.kind },
          );
          return undefined;
        }
        memoryMb = Math.floor(found.bytes / 2 ** 20);
        source = found.source;
      } catch (err) {
        this.#logger.warn(
          'capacity unknown: asking the runtime failed; scaling is not capped (set capacity.memoryMb)',
          { error: errorFields(err) },
        );
        return undefined;
      }
    }
    const capacity: Capacity = {
      memoryMb,
      source,
      reserveMb: c.reserveMb,
      budgetMb: Math.max(0, memoryMb - c.reserveMb),
    };
    this.#logger.info('capacity', { ...capacity });
    return capacity;
  }

  /**
   * Where no cgroup holds a replica to its resources.memoryMb (the process runtime), the
   * supervisor does what the kernel's OOM killer would: a replica past its limit is replaced.
   */
  #watchMemory(id: string, usage: ReplicaUsage): void {
    const r = this.#fleet.replicas.get(id);
    const s = r && this.#config.services.find((x) => x.name === r.service);
    if (!r || !s) return;
    const limit = s.resources.memoryMb * 2 ** 20;
    const own = usage.ownBytes ?? usage.memoryBytes;
    if (own <= limit) return;
    this.#fleet.fail(
      id,
      `over its memory limit: ${Math.round(own / 2 ** 20)} MB of its own resident memory, resources.memoryMb ${s.resources.memoryMb} (the ${this.#runtime.kind} runtime has no cgroup to hold it there, so the supervisor replaces it as the kernel's OOM killer would)`,
    );
  }

  /** On an inherited socket, connections wait in the backlog until each service can answer them. */
  #maybeAccept(): void {
    if (!this.#balancer || this.#balancer.accepting) return;
    const routes = this.#fleet.routes();
    const waiting = this.#config.services.filter(
      (s) => (this.#fleet.desired.get(s.name) ?? 0) > 0 && !routes[s.name]?.replicas.some((r) => r.ready),
    );
    if (waiting.length === 0) this.#accept('every service has a ready replica');
  }

  #accept(why: string): void {
    if (!this.#balancer || this.#balancer.accepting) return;
    clearTimeout(this.#acceptDeadline);
    this.#balancer.accept();
    this.events.emit({
      type: 'balancer.accepting',
      reason: `accepting on the socket from systemd ${Math.round(process.uptime() * 1000)} ms after the process started: ${why}`,
    });
  }

  /**
   * What SIGHUP asks for (and a change of the certificate files): every reload the supervisor
   * knows, each on its own, so one failing leaves the others done: the certificate, and the
   * config's replica specs (rolled out one replica at a time; images are looked up again too).
   */
  async reload(reason: string): Promise<void> {
    if (this.#stopping) return;
    this.#logger.info('reloading', { reason });
    await Promise.allSettled([this.#reloadCertificate(reason), this.#reloadConfig(reason)]);
  }

  async #reloadConfig(reason: string): Promise<void> {
    if (this.#configFile !== undefined) {
      let next: Config;
      try {
        next = loadConfigFile(this.#configFile);
      } catch (err) {
        const why = err instanceof ConfigError ? err.issues.map(describeIssue).join('; ') : (err as Error).message;
        this.events.emit({
          type: 'config.rejected',
          reason: `${reason}: ${this.#configFile} not applied, the running config stays: ${why}`,
        });
        return;
      }
      const { applied, needRestart } = applySpecChanges(this.#config, next);
      if (applied.length > 0) {
        const secrets = ensureSecrets(this.#config.dataDir, ReplicaEnvironment.secretNames(this.#config));
        this.#replicaEnv.update(this.#config, secrets);
      }
      if (applied.length > 0 || needRestart.length > 0) {
        const parts = [
          applied.length > 0 ? `applied ${applied.join(', ')} (replicas that differ are replaced one at a time)` : '',
          needRestart.length > 0 ? `needs a restart to take effect: ${needRestart.join(', ')}` : '',
        ];
        this.events.emit({
          type: 'config.reloaded',
          reason: `${reason}: ${parts.filter(Boolean).join('; ')}`,
          applied,
          needRestart,
        });
      }
    }
    // Also without a change of config: SIGHUP after an image rebuild looks the images up now.
    this.#fleet.specsChanged();
  }

  async #reloadCertificate(reason: string): Promise<void> {
    const c = this.#config.balancer.tls;
    if (this.#certificate === null || !this.#balancer) return;
    let loaded: LoadedCertificate;
    try {
      loaded = readCertificate(c);
    } catch (err) {
      const why = err instanceof ConfigError ? err.issues.map(describeIssue).join('; ') : (err as Error).message;
      this.#logger.warn('certificate not reloaded', { reason, why });
      this.events.emit({
        type: 'certificate.rejected',
        reason: `${reason}: kept the certificate in use (${this.#certificate.subject}, until ${this.#certificate.validTo}): ${why}`,
      });
      return;
    }
    if (loaded.cert === this.#certificate.cert && loaded.key === this.#certificate.key) return;
    this.#certificate = loaded;
    this.#balancer.setCertificate({ cert: loaded.cert, key: loaded.key });
    this.events.emit({
      type: 'certificate.reloaded',
      reason: `${reason}: ${loaded.subject}, valid until ${loaded.validTo}`,
      fingerprint256: loaded.fingerprint256,
    });
  }

  /**
   * After start() failed part-way: undo what it made. Workers and the admin listener stop; the
   * runtime's shared resources (the Docker network) are removed unless replicas were adopted
   * (they run on, as after any restart).
   */
  async abandonStart(): Promise<void> {
    this.#stopping = true;
    this.#certificateWatch?.close();
    await this.#fleet.halt(0);
    clearInterval(this.#counting);
    await Promise.allSettled([this.#scaler?.stop(), this.#heartbeat?.stop(), this.#balancer?.stop()]);
    this.#telemetry.stop();
    await this.#admin?.close().catch(() => undefined);
    await this.#runtime.close({ removeResources: this.#fleet.replicas.size === 0 });
  }

  /** Stops everything; returns the replicas it could not remove (empty when all went, or when left by config). */
  async stop(): Promise<LeftBehind[]> {
    if (this.#stopping) return [];
    this.#stopping = true;
    this.#certificateWatch?.close();
    clearTimeout(this.#acceptDeadline);
    const c = this.#config;
    this.events.emit({ type: 'supervisor.stopping', reason: `on shutdown: ${c.onShutdown} replicas` });
    await this.#unlessHurried(this.#fleet.halt(c.stopGraceSeconds));
    await this.#scaler?.stop();
    await this.#heartbeat?.stop();
    // Stop accepting and let requests in flight finish before any replica goes away.
    if (this.#balancer)
      await this.#unlessHurried(
        Promise.race([
          this.#balancer.close(c.drainTimeoutMs),
          new Promise((r) => setTimeout(r, c.drainTimeoutMs + 2000)),
        ]),
      );
    clearInterval(this.#counting);
    this.#takeServed();
    await this.#balancer?.stop();
    let left: LeftBehind[] = [];
    if (c.onShutdown === 'remove') {
      if (this.#hurried.signal.aborted) left = await this.#fleet.removeAll(0);
      else {
        // Hurried while replicas are given their grace: kill what is left instead.
        const first = await this.#unlessHurried(this.#fleet.removeAll(c.stopGraceSeconds));
        left = this.#hurried.signal.aborted ? await this.#fleet.removeAll(0) : (first as LeftBehind[]);
      }
    }
    this.#telemetry.stop();
    await this.#admin?.close();
    // Shared resources go only when nothing of ours is left that still uses them.
    await this.#runtime.close({ removeResources: c.onShutdown === 'remove' && left.length === 0 });
    return left;
  }

  /**
   * A second SIGTERM/SIGINT: a stop under way skips what it still waits for (operations in
   * flight, the drain, the replicas' grace period); replicas left are killed and removed.
   */
  hurry(): void {
    this.#hurried.abort();
  }

  #unlessHurried(work: Promise<unknown>): Promise<unknown> {
    const signal = this.#hurried.signal;
    if (signal.aborted) return Promise.resolve();
    return Promise.race([work, new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }))]);
  }

  #startWorkers(adminOrigin: string, above: string[]): void {
    const c = this.#config;
    const log = this.#logger.child({ component: 'workers' });
    const balancer = new BalancerThreads({
      config: c,
      adminOrigin,
      logger: log,
      tls: this.#certificate && { cert: this.#certificate.cert, key: this.#certificate.key },
      inherited: this.#inherited && { public: this.#inherited.public, redirect: this.#inherited.redirect },
      onMessage: (m) => this.#fromBalancer(m),
      onStart: (thread, restarted) => {
        this.#noteRestart('balancer', restarted);
        balancer.postTo(thread, this.#routesMessage());
      },
    });
    this.#balancer = balancer;
    const heartbeat = new WorkerHost(HEARTBEAT, {
      config: c.heartbeat,
      logger: log,
      onMessage: (m) => this.#fromHeartbeat(m),
      onStart: (restarted) => {
        this.#noteRestart('heartbeat', restarted);
        heartbeat.post(this.#targetsMessage());
      },
    });
    this.#heartbeat = heartbeat;
    const scaler = new WorkerHost(SCALER, {
      // The scaler reads the request counts from the balancer's shared memory itself.
      config: {
        policies: Object.fromEntries(c.services.filter((s) => s.autoscale).map((s) => [s.name, policySettings(s)])),
        shared: balancer.shared,
      },
      logger: log,
      onMessage: (m) => this.#fromScaler(m),
      onStart: (restarted) => {
        this.#noteRestart('scaler', restarted);
        scaler.post({ type: 'resume', windows: [...this.#windows.values()], current: this.#fleet.current() });
      },
    });
    this.#scaler = scaler;
    balancer.start();
    heartbeat.start();
    scaler.start();
    this.#counting = setInterval(() => this.#takeServed(), SERVED_EVERY_MS);
    // Adopted more than the minimum: open a window now, so an idle service comes back down.
    for (const service of above) scaler.post({ type: 'open-window', service, at: Date.now() });
  }

  /** Requests each replica answered, from the balancer's shared memory. */
  #takeServed(): void {
    this.#balancer?.readTraffic(); // often enough for the traffic counters' wrap (balancer/traffic.ts)
    const served = this.#balancer?.takeServed() ?? {};
    if (Object.keys(served).length > 0) this.#fleet.addServed(served);
  }

  #fromBalancer(m: FromBalancer): void {
    const c = this.#config;
    switch (m.type) {
      case 'listening':
        if (this.#listenError?.port === m.port) {
          this.events.emit({
            type: 'balancer.listening',
            reason: `listening on ${m.host}:${m.port} after ${Math.round((Date.now() - Date.parse(this.#listenError.since)) / 1000)} s of ${this.#listenError.code}`,
          });
          this.#listenError = null;
          this.#admin?.changed();
        }
        if (m.redirect) break;
        if (!this.#listen)
          this.#logger.info('balancer listening', {
            host: m.host,
            port: m.port,
            threads: this.#balancer?.threads,
            tls: this.#certificate !== null,
          });
        if (!this.#listen && this.#inherited !== null && c.listen.port !== 0 && m.port !== c.listen.port) {
          this.#logger.warn('the socket from systemd is on another port than listen.port; the socket wins', {
            socketPort: m.port,
            listenPort: c.listen.port,
          });
        }
        this.#listen = { host: m.host, port: m.port };
        break;
      case 'listen-failed': {
        // Said once per cause, not at every retry of the restarted thread.
        const known = this.#listenError;
        if (known?.code === m.code && known.port === m.port) break;
        this.#listenError = {
          host: m.host,
          port: m.port,
          code: m.code,
          message: m.message,
          since: new Date().toISOString(),
        };
        this.events.emit({
          type: 'balancer.listen-failed',
          reason: `cannot listen on ${m.host}:${m.port}${m.redirect ? ' (the redirect port)' : ''}: ${m.code} (${m.message}); retrying`,
          code: m.code,
        });
        this.#admin?.changed();
        break;
      }
      case 'suspect':
        this.#logger.warn(SUSPECT_LOG[m.outcome], { id: m.id, outcome: m.outcome, reason: m.reason });
        this.#heartbeat?.post({ type: 'check', id: m.id });
        break;
      case 'security':
        // The app logs its own refusals; these are the edge's, with the client as the edge saw it.
        this.#logger.warn('security', {
          component: 'balancer',
          event: m.event,
          client: m.client,
          what: m.what,
          refusals: m.refusals,
        });
        break;
      case 'drained':
      case 'closed':
        break; // collected by BalancerThreads
      case 'worker-error':
        this.#logger.error('balancer error', { code: m.code, message: m.message });
        break;
    }
  }

  #fromHeartbeat(m: FromHeartbeat): void {
    if (m.type === 'latencies') return this.#telemetry.noteLatencies(m.latencyMs);
    if (m.type !== 'health') return this.#logger.error('heartbeat error', { code: m.code, message: m.message });
    const r = this.#fleet.replicas.get(m.id);
    const wasReady = r?.state === 'ready';
    this.#fleet.onHealth(m);
    if (r === undefined || !this.#balancer) return;
    // The heartbeat confirms or clears what the balancer suspects (and what it saw first). A
    // replica that just became ready clears its slot too: a replacement on the same port must
    // not inherit the mark of the replica it replaces.
    const hb = this.#config.heartbeat;
    if (m.verdict === 'ok' && r.state === 'ready') this.#balancer.clearSuspect(r.service, r.port);
    else if (m.verdict === 'failing' && wasReady)
      this.#balancer.holdSuspect(
        r.service,
        r.port,
        Date.now() + hb.failureThreshold * (hb.fastIntervalMs + hb.timeoutMs),
      );
    else if (m.verdict === 'failed' && wasReady && r.state === 'failed')
      this.#balancer.post({ type: 'abandon', id: r.id });
  }

  #fromScaler(m: FromScaler): void {
    switch (m.type) {
      case 'window':
        if ('closed' in m.window) this.#windows.delete(m.window.service);
        else this.#windows.set(m.window.service, m.window);
        this.#admin?.changed();
        break;
      case 'scale':
        if (this.#overrides.held(m.service) !== undefined) {
          this.#logger.info('scaler decision held by the operator', {
            service: m.service,
            scaler: m.desired,
            held: this.#overrides.held(m.service),
            reason: m.reason,
          });
          break;
        }
        this.#fleet.setDesired(m.service, {
          replicas: m.desired,
          code: m.code,
          reason: `${m.reason} (window ${new Date(m.windowStartedAt).toISOString()} – ${new Date(m.windowEndsAt).toISOString()})`,
        });
        break;
      case 'worker-error':
        this.#logger.error('scaler error', { code: m.code, message: m.message });
        break;
    }
  }

  #drain(id: string): Promise<void> {
    const replica = this.#fleet.replicas.get(id);
    if (!this.#balancer || !replica) return Promise.resolve();
    return this.#balancer.drain(id, replica.service, replica.port);
  }

  /** Pushes new snapshots to the workers, only when they differ from the last ones. */
  #changed(): void {
    const routes = JSON.stringify(this.#fleet.routes());
    if (routes !== this.#routes.json) {
      this.#routes = { version: this.#routes.version + 1, json: routes };
      this.#balancer?.post(this.#routesMessage());
    }
    const targets = JSON.stringify(this.#fleet.targets());
    if (targets !== this.#targets.json) {
      this.#targets = { version: this.#targets.version + 1, json: targets };
      this.#heartbeat?.post(this.#targetsMessage());
    }
    this.#scaler?.post({ type: 'current', current: this.#fleet.current() });
    this.#admin?.changed();
    if (this.#inherited !== null) this.#maybeAccept();
  }

  #routesMessage(): RoutesMessage {
    return {
      type: 'routes',
      version: this.#routes.version,
      services: JSON.parse(this.#routes.json || '{}') as RoutesMessage['services'],
    };
  }

  #targetsMessage(): ToHeartbeat {
    return {
      type: 'targets',
      version: this.#targets.version,
      targets: JSON.parse(this.#targets.json || '[]') as Target[],
    };
  }

  /** The process, each thread's heap and the helper processes (GET /memory). */
  async #memory(): Promise<MemoryReport> {
    const threads = [mainThreadMemory()];
    for (const t of (await this.#balancer?.heapStatistics()) ?? []) threads.push(threadMemory(t.name, t.stats));
    for (const [name, host] of [
      ['heartbeat', this.#heartbeat],
      ['scaler', this.#scaler],
    ] as const) {
      const stats = await host?.heapStatistics();
      if (stats) threads.push(threadMemory(name, stats));
    }
    return memoryReport(threads);
  }

  #killWorker(name: string): boolean {
    const host = { balancer: this.#balancer, heartbeat: this.#heartbeat, scaler: this.#scaler }[name];
    if (!host) return false;
    host.kill();
    return true;
  }

  #noteRestart(worker: string, restarted: boolean): void {
    if (restarted)
      this.events.emit({
        type: 'worker.restarted',
        reason: `${worker} worker died and was restarted with the current state`,
        worker,
      });
  }
}
