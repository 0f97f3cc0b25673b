// The balancer's logic on one thread, with no thread, port or timer of its own: the worker
// shell (workers/balancer.ts) hands it a listener, a clock and a channel. Per request: the
// canonical target (target.ts), then the admin gate, blocked paths, a service by longest
// prefix (counted for scaling) or the static files. Proxied requests become exchanges
// (exchange.ts) over the service's strategy and pools. Connections are capped per client
// address, deadlines are checked by sweep(), drains are answered once this thread has nothing
// in flight to the replica.
import type { Server, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { isLoopback, isLoopbackHost } from '../admin-access.ts';
import type { FromBalancer, RoutesMessage } from '../protocol.ts';
import { sendJson, serveStatic } from '../static.ts';
import { ProxyExchange, type ClientInfo, type ExchangeHost } from './exchange.ts';
import { hostOf } from './headers.ts';
import { PrefixTable, pathSet } from './routes.ts';
import { FixedBackend, ServiceRoute, type Backend, type PoolFactory, type ReplicaMember } from './service-route.ts';
import type { BalancerLimits, BalancerSettings } from './settings.ts';
import { SharedLayout, SharedState } from './shared-state.ts';
import { createStrategy, type AttemptOutcome, type Clock } from './strategy.ts';
import { canonicalTarget, decodedPath } from './target.ts';
import { TrackedList } from './tracked.ts';
import { UpstreamPool } from './upstream.ts';

export interface BalancerDeps {
  settings: BalancerSettings;
  clock: Clock;
  send: (message: FromBalancer) => void;
  /** Connection pools per replica; the default opens real ones. */
  pools?: PoolFactory;
}

/**
 * Requests of one connection in progress at once: pipelined ones beyond this wait their turn
 * (the connection stops being read meanwhile), so one connection cannot fill the replicas'
 * queues that every client shares.
 */
const PIPELINE_DEPTH = 4;

interface ClientState extends ClientInfo {
  bucket: number;
  active: number;
  backlog: Array<() => void>;
  /** We stopped reading the connection while its backlog waits. */
  paused: boolean;
  /** A first request arrived (until then the head deadline runs as a socket timeout). */
  spoke: boolean;
}

const kClient = Symbol('balancer client');
type ClientSocket = Socket & { [kClient]?: ClientState };

const ADMIN_PATHS = pathSet(['/admin', '/dashboard']);
/** Body of the answer to a client over its connection cap (written raw: no request was read). */
function tooManyConnections(address: string): string {
  const body = JSON.stringify({ error: `too many connections from ${address}; close some and try again` });
  return `HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nretry-after: 1\r\nconnection: close\r\n\r\n${body}`;
}

export class Balancer implements ExchangeHost {
  readonly limits: BalancerLimits;
  readonly shared: SharedState;
  readonly #settings: BalancerSettings;
  readonly #clock: Clock;
  readonly #send: (message: FromBalancer) => void;
  readonly #pools: PoolFactory;
  readonly #layout: SharedLayout;
  readonly #services = new Map<string, ServiceRoute>();
  #routes = new PrefixTable<ServiceRoute>([]);
  readonly #blocked: PrefixTable<true>;
  readonly #uncounted: PrefixTable<true>;
  readonly #admin: FixedBackend;
  readonly #exchanges = new TrackedList<ProxyExchange>();
  /** Replicas the primary wants drained: id → shared slot. */
  readonly #drains = new Map<string, number>();
  readonly #servers: Server[] = [];
  #bodyBudget: number;
  #lastVersion = -1;

  constructor(deps: BalancerDeps) {
    const s = deps.settings;
    this.#settings = s;
    this.limits = s.limits;
    this.#clock = deps.clock;
    this.#send = deps.send;
    this.#layout = new SharedLayout(s.shared.spec);
    this.shared = new SharedState(s.shared.buffer, this.#layout, s.thread, s.shared.epoch);
    this.shared.resetOwnRows();
    this.#pools = deps.pools ?? ((u) => new UpstreamPool(u.host, u.port, this.#poolOptions(u.streams ? 0 : s.limits.upstreamTimeoutMs)));
    this.#blocked = pathSet(s.blockedPaths);
    this.#uncounted = pathSet(s.uncountedPaths);
    // Memory for kept request bodies, per thread: 1024 bodies of the largest kept size.
    this.#bodyBudget = Math.max(s.limits.bufferBodyBytes * 1024, 16 * 1024 * 1024);
    this.#admin = this.#adminRoute(s.adminOrigin);
  }

  // ---- the channel's messages ----------------------------------------------------------------

  applyRoutes(message: RoutesMessage): void {
    if (message.version <= this.#lastVersion) return;
    this.#lastVersion = message.version;
    const entries: Array<[string, ServiceRoute]> = [];
    for (const [name, { prefixes, replicas }] of Object.entries(message.services)) {
      let route = this.#services.get(name);
      if (!route) {
        const strategy = createStrategy<ReplicaMember>(this.#settings.strategies[name] ?? 'round-robin', {
          shared: this.shared,
          service: this.#layout.serviceIndex(name),
          clock: this.#clock,
          suspectMs: this.#settings.suspectMs,
        });
        route = new ServiceRoute(name, strategy, this.#layout, this.#pools);
        this.#services.set(name, route);
      }
      route.update(replicas);
      for (const prefix of prefixes) entries.push([prefix, route]);
    }
    for (const [name, route] of this.#services) {
      if (name in message.services) continue;
      route.closeAll();
      this.#services.delete(name);
    }
    this.#routes = new PrefixTable(entries);
    for (const id of this.#drains.keys()) this.#settle(id);
  }

  /** Answers `drained` once this thread has no request in flight to the replica. */
  drain(id: string, slot: number): void {
    this.#drains.set(id, slot);
    this.#settle(id);
  }

  // ---- the listener --------------------------------------------------------------------------

  /** Takes requests and connections from a listener the shell created (and may have bound). */
  attach(server: Server): void {
    this.#servers.push(server);
    server.prependListener('connection', (socket: Socket) => this.#connection(socket as ClientSocket));
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.handle(req, res));
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => this.#clientError(err, socket));
  }

  #connection(socket: ClientSocket): void {
    const raw = socket.remoteAddress ?? '';
    const address = raw.startsWith('::ffff:') ? raw.slice(7) : raw;
    const bucket = this.shared.connect(address, this.limits.maxConnectionsPerClient);
    if (bucket < 0) {
      socket.end(tooManyConnections(address), () => socket.destroy());
      return;
    }
    const client: ClientState = { address, proto: 'encrypted' in socket && socket.encrypted ? 'https' : 'http', bucket, active: 0, backlog: [], paused: false, spoke: false };
    socket[kClient] = client;
    // Node's head deadline starts at a request's first byte: a connection that never sends one
    // would stay open for ever. Until it speaks, the same deadline applies as a socket timeout.
    socket.setTimeout(this.limits.headersTimeoutMs);
    socket.once('close', () => {
      this.shared.disconnect(bucket);
      client.backlog.length = 0;
    });
  }

  /** Malformed requests (Node's parser): a JSON 4xx when no response is under way, else close. */
  #clientError(err: NodeJS.ErrnoException, socket: Socket): void {
    const busy = (socket as Socket & { _httpMessage?: { headersSent: boolean } })._httpMessage;
    if (err.code === 'ECONNRESET' || !socket.writable || busy?.headersSent) {
      socket.destroy();
      return;
    }
    const [status, text, error] =
      err.code === 'HPE_HEADER_OVERFLOW' ? [431, 'Request Header Fields Too Large', `the request head is larger than ${this.limits.maxHeaderBytes} bytes`]
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'Request Timeout', 'the request was not received in time']
      : [400, 'Bad Request', `malformed request (${err.code ?? 'parse error'})`];
    const body = JSON.stringify({ error });
    socket.end(`HTTP/1.1 ${status} ${text}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`, () => socket.destroy());
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    try {
      this.#route(req, res);
    } catch (err) {
      this.#send({ type: 'worker-error', code: 'BALANCER_REQUEST', message: (err as Error).stack ?? String(err) });
      if (!res.headersSent) sendJson(res, 500, { error: 'the balancer failed on this request' });
      else res.destroy();
    }
  }

  #route(req: IncomingMessage, res: ServerResponse): void {
    const client = (req.socket as ClientSocket)[kClient];
    if (client === undefined) return void res.destroy(); // refused at connect (over the cap)
    if (!client.spoke) {
      client.spoke = true;
      req.socket.setTimeout(0);
    }
    const target = canonicalTarget(req.url ?? '');
    if ('error' in target) return this.#local(req, res, 400, target.error);
    const host = hostOf(req.rawHeaders);
    if (host === null) return this.#local(req, res, 400, 'more than one Host header');
    if (host === undefined && req.httpVersionMajor === 1 && req.httpVersionMinor >= 1) return this.#local(req, res, 400, 'an HTTP/1.1 request needs a Host header');
    const path = target.path;
    if (ADMIN_PATHS.matches(path)) return this.#toAdmin(req, res, client, path + target.query, host);
    if (this.#blocked.matches(path)) return this.#local(req, res, 403, `${path} is not available through the balancer`);
    const route = this.#routes.lookup(path);
    if (route === undefined) return void this.#static(req, res, path);
    if (!this.#uncounted.matches(path)) this.shared.countRequest(route.index, this.#clock.now());
    this.#proxy(new ProxyExchange(this, route, req, res, path + target.query, client), client, req.socket);
  }

  /** Starts the exchange, or queues it behind the connection's pipelined requests in progress. */
  #proxy(ex: ProxyExchange, client: ClientState, socket: Socket): void {
    if (client.active < PIPELINE_DEPTH) {
      client.active++;
      return ex.start();
    }
    if (!client.paused) {
      client.paused = true;
      socket.pause();
    }
    client.backlog.push(() => {
      client.active++;
      ex.start();
    });
  }

  #local(req: IncomingMessage, res: ServerResponse, status: number, error: string): void {
    req.resume();
    sendJson(res, status, { error });
  }

  #toAdmin(req: IncomingMessage, res: ServerResponse, client: ClientState, target: string, host: string | undefined): void {
    if (!this.#settings.adminOnListener) return this.#local(req, res, 404, 'no such path (the dashboard is on the admin listener)');
    if (!isLoopback(client.address) || !isLoopbackHost(host)) {
      return this.#local(req, res, 403, 'the dashboard and admin API are for local clients addressing a loopback host name only');
    }
    this.#proxy(new ProxyExchange(this, this.#admin, req, res, target, client), client, req.socket);
  }

  async #static(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    try {
      const decoded = decodedPath(path);
      if (decoded === undefined) return this.#local(req, res, 400, 'the path is not valid UTF-8 once decoded');
      if (await serveStatic(this.#settings.staticDir, decoded, req, res)) return;
      this.#local(req, res, 404, `no such path: ${path}`);
    } catch (err) {
      this.#send({ type: 'worker-error', code: 'BALANCER_STATIC', message: (err as Error).message });
      if (!res.headersSent) sendJson(res, 500, { error: 'the balancer could not read that file' });
      else res.destroy();
    }
  }

  // ---- ExchangeHost --------------------------------------------------------------------------

  now(): number {
    return this.#clock.now();
  }

  reserveBody(bytes: number): boolean {
    if (this.#bodyBudget < bytes) return false;
    this.#bodyBudget -= bytes;
    return true;
  }

  releaseBody(bytes: number): void {
    this.#bodyBudget += bytes;
  }

  track(ex: ProxyExchange): void {
    this.#exchanges.add(ex);
  }

  untrack(ex: ProxyExchange): void {
    this.#exchanges.remove(ex);
    const client = ex.client as ClientState;
    client.active--;
    const next = client.backlog.shift();
    if (next !== undefined) next();
    else if (client.paused) {
      client.paused = false;
      ex.socket.resume();
    }
  }

  attemptEnded(backend: Backend, member: ReplicaMember, outcome: AttemptOutcome, reason: string): void {
    if (!(backend instanceof ServiceRoute)) return;
    const route = backend;
    const suspect = route.release(member, outcome);
    if (outcome === 'ok') this.shared.served(member.slot);
    if (suspect) this.#send({ type: 'suspect', id: member.id, outcome: outcome as 'refused' | 'reset' | 'timeout', reason });
    if (this.#drains.size > 0) for (const id of this.#drains.keys()) this.#settle(id);
  }

  // ---- time and shutdown ---------------------------------------------------------------------

  /** Deadlines of exchanges and pools; the shell calls it about once a second. */
  sweep(): void {
    const now = this.#clock.now();
    this.#exchanges.forEach((ex) => ex.checkDeadlines(now));
    for (const route of this.#services.values()) route.sweep(now);
    this.#admin.sweep(now);
  }

  get inFlight(): number {
    return this.#exchanges.size;
  }

  /** Stops accepting, lets exchanges finish (bounded), then closes everything. */
  async close(timeoutMs: number, sleep: (ms: number) => Promise<void>): Promise<void> {
    for (const server of this.#servers) server.close();
    const deadline = this.#clock.now() + timeoutMs;
    while (this.#exchanges.size > 0 && this.#clock.now() < deadline) await sleep(25);
    for (const server of this.#servers) server.closeAllConnections();
    for (const route of this.#services.values()) route.destroyAll();
    this.#admin.destroy();
  }

  #settle(id: string): void {
    const slot = this.#drains.get(id);
    if (slot === undefined || this.shared.ownInFlight(slot) > 0) return;
    this.#drains.delete(id);
    this.#send({ type: 'drained', id });
  }

  #poolOptions(responseTimeoutMs: number) {
    const l = this.limits;
    return {
      maxConnections: l.maxConnectionsPerReplica,
      maxQueued: l.maxQueuedPerReplica,
      idleTimeoutMs: Math.min(4000, Math.max(500, l.keepAliveTimeoutMs - 1000)),
      connectTimeoutMs: l.upstreamConnectTimeoutMs,
      responseTimeoutMs,
      maxHeaderBytes: Math.max(l.maxHeaderBytes, 65_536),
    };
  }

  /** The admin listener: one upstream, no counts, no deadline on its event streams. */
  #adminRoute(origin: string): FixedBackend {
    const { hostname, port } = new URL(origin);
    const pool = this.#pools({ host: hostname.replace(/^\[|\]$/g, ''), port: Number(port), url: origin, streams: true });
    return new FixedBackend('the admin listener', pool);
  }
}
