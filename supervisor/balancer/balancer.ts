// The balancer's logic on one thread, with no thread, port or timer of its own: the worker
// shell (workers/balancer.ts) hands it a listener, a clock and a channel. Per request: the
// canonical target (target.ts), then the admin gate, blocked paths, a service by longest
// prefix (counted for scaling) or the static files. Proxied requests become exchanges
// (exchange.ts) over the service's strategy and pools. Connections are capped per client
// address, deadlines are checked by sweep(), drains are answered once this thread has nothing
// in flight to the replica.
import { readFile, stat } from 'node:fs/promises';
import type { Server, IncomingMessage, ServerResponse } from 'node:http';
import type { Http2Session } from 'node:http2';
import type { Socket } from 'node:net';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { isLoopback, isLoopbackHost } from '../web/admin-access.ts';
import type { FromBalancer, RoutesMessage, SuspectMessage } from '../core/protocol.ts';
import { UI_SECURITY_HEADERS } from '../web/security-headers.ts';
import { sendJson, serveStatic, type StaticOptions } from '../web/static.ts';
import { Spool, type SpoolFile } from './body-spool.ts';
import { ProxyTrust } from './client-address.ts';
import { acceptedEncoding, compressWhole, rawHeader } from '../web/compression.ts';
import { ProxyExchange, type ClientInfo, type ExchangeHost, type RequestFacts } from './exchange.ts';
import { guardSession } from './h2-session.ts';
import { h2RequestHeaders, headerValues, hostOf } from './headers.ts';
import { RateLimits, rateLimitsOn } from './rate-limit.ts';
import { RefusalLog } from './refusal-log.ts';
import { CertificateNames, redirectToHttps, serveAcmeChallenge } from './redirect.ts';
import { replaceCertificate, type SecureListener } from './secure.ts';
import { CompressedFiles } from '../web/static-cache.ts';
import { PrefixTable, pathSet } from './routes.ts';
import { FixedBackend, ServiceRoute, type Backend, type PoolFactory, type ReplicaMember } from './service-route.ts';
import type { CompressionConfig } from '../web/compression.ts';
import type { BalancerLimits, BalancerSettings, TlsMaterial } from './settings.ts';
import { PreviewFetcher } from './share-fetch.ts';
import { chooseReader, type ReaderChoice } from './upstream-reader.ts';
import { pageOrigin, previewPage, renderPreviewPage, type PreviewAnswer } from './share-page.ts';
import { SharedLayout, SharedState } from './shared-state.ts';
import { createStrategy, type AttemptOutcome, type Clock } from './strategy.ts';
import { canonicalTarget, decodedPath } from './target.ts';
import { TrackedList } from './tracked.ts';
import { TrafficRecorder } from './traffic.ts';
import { PoolClock, UpstreamPool } from './upstream.ts';

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
/**
 * HTTP/2 streams of one connection proxied at once (the rest wait in order, up to the
 * advertised stream limit): a browser's HTTP/1.1 would use six connections of one each.
 */
const H2_STREAM_DEPTH = 8;

interface ClientState extends ClientInfo {
  bucket: number;
  /** PIPELINE_DEPTH, or H2_STREAM_DEPTH for an HTTP/2 connection. */
  depth: number;
  h2: boolean;
  /** The peer is a trusted proxy: each request names its client. */
  viaProxy: boolean;
  active: number;
  backlog: Array<() => void>;
  /** We stopped reading the connection while its backlog waits. */
  paused: boolean;
  /** A first request arrived (until then the head deadline runs as a socket timeout). */
  spoke: boolean;
}

const kClient = Symbol('balancer client');

/** A connection's peer, the same for a raw socket and the TLS socket over it. */
function peerKey(socket: Socket): string {
  return `${socket.remoteAddress}|${socket.remotePort}`;
}
type ClientSocket = Socket & { [kClient]?: ClientState };

/** Something the balancer listens with, closed at shutdown. */
interface Listener {
  close(): void;
  closeAllConnections(): void;
}

const ADMIN_PATHS = pathSet(['/admin', '/dashboard']);
function clientAddress(socket: Socket): string {
  const raw = socket.remoteAddress ?? '';
  return raw.startsWith('::ffff:') ? raw.slice(7) : raw;
}

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
  /** Now, as this balancer's upstream pools know it. */
  readonly #poolClock = new PoolClock();
  readonly #layout: SharedLayout;
  readonly #traffic: TrafficRecorder;
  readonly #services = new Map<string, ServiceRoute>();
  #routes = new PrefixTable<ServiceRoute>([]);
  /** How replies are read: Node's llhttp when its self-test passes, else our parser (upstream-reader.ts). */
  readonly reader: ReaderChoice;
  readonly #blocked: PrefixTable<true>;
  /** Shareable addresses: the UI's page with preview tags from `#previewSource` + the path. */
  readonly #previewPaths: PrefixTable<true>;
  readonly #previewSource: string;
  readonly #uncounted: PrefixTable<true>;
  readonly #admin: FixedBackend;
  readonly #exchanges = new TrackedList<ProxyExchange>();
  /** Replicas the primary wants drained: id → shared slot. */
  readonly #drains = new Map<string, number>();
  readonly #listeners: Listener[] = [];
  readonly compression: CompressionConfig | undefined;
  readonly hsts: string | undefined;
  readonly #rate: RateLimits | undefined;
  /** Refused clients for the log, a line a minute each at most (refusal-log.ts). */
  readonly #refusals: RefusalLog;
  readonly #trust: ProxyTrust | undefined;
  readonly #acmeWebroot: string | undefined;
  #secure: SecureListener | undefined;
  /** Who the plain port may redirect to: the names of the certificate in use. */
  #certificateNames: CertificateNames | undefined;
  #compressedFiles: CompressedFiles | undefined;
  #previews: PreviewFetcher | undefined;
  /** TLS connections accepted and not yet through their handshake, by peer address and port. */
  readonly #handshaking = new Map<string, ClientState>();
  #shellCache: { stamp: string; text: string } | undefined;
  #bodyBudget: number;
  readonly #spool: Spool;
  #lastVersion = -1;

  constructor(deps: BalancerDeps) {
    const s = deps.settings;
    this.#settings = s;
    this.limits = s.limits;
    this.#clock = deps.clock;
    this.#send = deps.send;
    this.#refusals = new RefusalLog((r) => this.#send({ type: 'security', ...r }));
    this.#layout = new SharedLayout(s.shared.spec);
    this.shared = new SharedState(s.shared.buffer, this.#layout, s.thread, s.shared.epoch);
    this.#traffic = new TrafficRecorder(s.shared.buffer, this.#layout.traffic);
    this.shared.resetOwnRows();
    this.#pools =
      deps.pools ??
      ((u) =>
        new UpstreamPool(
          u.host,
          u.port,
          this.#poolOptions(u.streams ? 0 : s.limits.upstreamTimeoutMs),
          this.#poolClock,
        ));
    this.reader = chooseReader(s.upstreamParser);
    this.#blocked = pathSet(s.blockedPaths);
    this.#uncounted = pathSet(s.uncountedPaths);
    // Memory for kept request bodies, per thread: 1024 bodies of the largest kept size.
    this.#bodyBudget = Math.max(s.limits.bufferBodyBytes * 1024, 16 * 1024 * 1024);
    this.#spool = new Spool(s.spoolDir, s.thread, Math.floor(s.limits.spoolBytes / s.threads));
    this.#admin = this.#adminRoute(s.adminOrigin);
    const edge = s.edge;
    this.compression = edge.compression.enabled ? edge.compression : undefined;
    this.hsts = s.tls !== null && edge.tls.hstsMaxAgeSeconds > 0 ? `max-age=${edge.tls.hstsMaxAgeSeconds}` : undefined;
    this.#rate = rateLimitsOn(edge.rateLimits) ? new RateLimits(edge.rateLimits, this.shared) : undefined;
    this.#trust = edge.trustedProxies.length > 0 ? new ProxyTrust(edge.trustedProxies) : undefined;
    this.#acmeWebroot = edge.tls.acmeWebroot || undefined;
    this.#previewPaths = pathSet(edge.previews.paths);
    this.#previewSource = edge.previews.source.replace(/\/+$/, '');
    this.#certificateNames = s.tls !== null ? new CertificateNames(s.tls.cert) : undefined;
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
          suspectAfter5xx: this.limits.suspectAfter5xx,
          panicThresholdPercent: this.limits.panicThresholdPercent,
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

  /** The replica failed: requests in flight to it end now (retried elsewhere when safe). */
  abandon(id: string): void {
    for (const route of this.#services.values()) route.abandon(id);
  }

  /** Answers `drained` once this thread has no request in flight to the replica. */
  drain(id: string, slot: number): void {
    this.#drains.set(id, slot);
    this.#settle(id);
  }

  // ---- the listener --------------------------------------------------------------------------

  /** Takes requests and connections from a listener the shell created (and may have bound). */
  attach(server: Server): void {
    this.#listeners.push(server);
    server.prependListener('connection', (socket: Socket) => this.#connection(socket as ClientSocket));
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.handle(req, res));
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => this.#clientError(err, socket));
  }

  /**
   * The TLS listener: connections counted per client as they arrive (before the handshake, so
   * a flood of unfinished handshakes meets the same cap), then HTTP/1.1 or HTTP/2 by ALPN.
   */
  attachSecure(listener: SecureListener): void {
    this.#secure = listener;
    const { tls, h1, h2 } = listener;
    this.#listeners.push(h1, {
      close: () => tls.close(),
      closeAllConnections: () => {
        for (const session of this.#sessions) session.destroy();
      },
    });
    tls.on('connection', (raw: Socket) => {
      // Over the cap there is no TLS session yet to answer in, and a handshake is the very cost
      // the cap is there to spare: the connection is closed at once.
      const client = this.#accept(raw as ClientSocket, true);
      if (client === undefined) {
        this.#refusals.note('connections-capped', clientAddress(raw), 'connections', this.#clock.now());
        raw.destroy();
        return;
      }
      // The TLS socket made over it names the same peer: that is how it finds its client state
      // (node:tls keeps the raw socket only in a private field).
      const peer = peerKey(raw);
      this.#handshaking.set(peer, client);
      raw.once('close', () => {
        if (this.#handshaking.get(peer) === client) this.#handshaking.delete(peer);
      });
    });
    tls.on('secureConnection', (socket: TLSSocket) => {
      const peer = peerKey(socket);
      const client = this.#handshaking.get(peer);
      this.#handshaking.delete(peer);
      if (client === undefined) return void socket.destroy();
      (socket as ClientSocket)[kClient] = client;
      if (socket.alpnProtocol === 'h2') {
        client.h2 = true;
        client.spoke = true; // the session keeps its own deadlines (h2-session.ts)
        client.depth = H2_STREAM_DEPTH;
        h2.emit('connection', socket);
        return;
      }
      h1.emit('connection', socket);
      socket.setTimeout(this.limits.headersTimeoutMs); // until the first request (after node:http's own setTimeout)
    });
    h1.on('request', (req: IncomingMessage, res: ServerResponse) => this.handle(req, res));
    h1.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => this.#clientError(err, socket));
    h2.on('session', (session: Http2Session) => {
      this.#sessions.add(session);
      session.once('close', () => this.#sessions.delete(session));
      guardSession(session, this.limits, () => this.#clock.now());
    });
    h2.on('request', (req, res) => this.handle(req as unknown as IncomingMessage, res as unknown as ServerResponse));
  }

  readonly #sessions = new Set<Http2Session>();

  /** The plain port beside HTTPS: redirects, and ACME challenges. */
  attachRedirect(server: Server, httpsPort: number): void {
    this.#listeners.push(server);
    server.prependListener('connection', (socket: Socket) => this.#connection(socket as ClientSocket));
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => this.#clientError(err, socket));
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const client = (req.socket as ClientSocket)[kClient];
      if (client === undefined) return void res.destroy();
      if (!client.spoke) {
        client.spoke = true;
        req.socket.setTimeout(0);
      }
      const target = canonicalTarget(req.url ?? '');
      if ('error' in target) return this.#local(req, res, 400, target.error);
      const host = hostOf(req.rawHeaders);
      if (host === null) return this.#local(req, res, 400, 'more than one Host header');
      const names = this.#certificateNames;
      if (names === undefined) return this.#local(req, res, 404, 'no certificate to redirect to');
      const acme = this.#acmeWebroot;
      if (acme === undefined) return redirectToHttps(req, res, target.path + target.query, host, httpsPort, names);
      serveAcmeChallenge(acme, target.path, res).then(
        (served) => served || redirectToHttps(req, res, target.path + target.query, host, httpsPort, names),
        () => (res.headersSent ? res.destroy() : this.#local(req, res, 500, 'the challenge could not be read')),
      );
    });
  }

  /** A new certificate for new TLS connections (those open keep theirs). */
  setCertificate(material: TlsMaterial): void {
    if (this.#secure !== undefined) replaceCertificate(this.#secure, material);
    this.#certificateNames = new CertificateNames(material.cert);
  }

  #connection(socket: ClientSocket): void {
    if (this.#accept(socket, false) !== undefined) return;
    const address = clientAddress(socket);
    this.#refusals.note('connections-capped', address, 'connections', this.#clock.now());
    socket.end(tooManyConnections(address), () => socket.destroy());
  }

  /**
   * Counts a new connection against its address's cap; undefined when over it. Until it sends
   * a first request the head deadline applies as a socket timeout (Node's own starts at a
   * request's first byte, so a connection that never sends one would stay open for ever); a
   * raw socket under TLS (`tlsRaw`) gets it on its TLS socket, after the handshake.
   */
  #accept(socket: ClientSocket, tlsRaw: boolean): ClientState | undefined {
    const address = clientAddress(socket);
    const bucket = this.shared.connect(address, this.limits.maxConnectionsPerClient);
    if (bucket < 0) return undefined;
    const client: ClientState = {
      address,
      proto: tlsRaw ? 'https' : 'http',
      bucket,
      depth: PIPELINE_DEPTH,
      h2: false,
      viaProxy: this.#trust?.trusts(address) ?? false,
      active: 0,
      responding: 0,
      backlog: [],
      paused: false,
      spoke: false,
    };
    socket[kClient] = client;
    if (!tlsRaw) socket.setTimeout(this.limits.headersTimeoutMs);
    socket.once('close', () => {
      this.shared.disconnect(bucket);
      client.backlog.length = 0;
    });
    return client;
  }

  /** Malformed requests (Node's parser): a JSON 4xx when no response is under way, else close. */
  #clientError(err: NodeJS.ErrnoException, socket: Socket): void {
    // A response of this connection under way (its head sent): no other answer can be written
    // into the stream (the exchanges' own count, not node:http's private state).
    const busy = ((socket as ClientSocket)[kClient]?.responding ?? 0) > 0;
    if (err.code === 'ECONNRESET' || !socket.writable || busy) {
      socket.destroy();
      return;
    }
    const [status, text, error] =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? [
            431,
            'Request Header Fields Too Large',
            `the request head is larger than ${this.limits.maxHeaderBytes} bytes`,
          ]
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, 'Request Timeout', 'the request was not received in time']
          : [400, 'Bad Request', `malformed request (${err.code ?? 'parse error'})`];
    const body = JSON.stringify({ error });
    socket.end(
      `HTTP/1.1 ${status} ${text}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      () => socket.destroy(),
    );
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
    const facts: RequestFacts = {};
    let host: string | undefined | null;
    if (client.h2) {
      const h2 = h2RequestHeaders(req.rawHeaders, this.limits.maxHeaderBytes);
      if ('error' in h2) return this.#local(req, res, h2.status, h2.error);
      host = h2.host;
      facts.raw = h2.raw;
      const length = rawHeader(h2.raw, 'content-length');
      facts.declared =
        length !== undefined
          ? Number(length)
          : (req as unknown as { stream: { endAfterHeaders: boolean } }).stream.endAfterHeaders
            ? 0
            : -1;
    } else {
      host = hostOf(req.rawHeaders);
      if (host === null) return this.#local(req, res, 400, 'more than one Host header');
      if (host === undefined && req.httpVersionMajor === 1 && req.httpVersionMinor >= 1)
        return this.#local(req, res, 400, 'an HTTP/1.1 request needs a Host header');
    }
    const path = target.path;
    if (client.viaProxy)
      facts.forwarded = this.#trust!.client(
        client.address,
        headerValues(req.rawHeaders, 'x-forwarded-for'),
        rawHeader(req.rawHeaders, 'x-forwarded-proto'),
        client.proto,
      );
    if (this.#rate !== undefined) {
      const address = (facts.forwarded ?? client).address;
      const refused = this.#rate.take(address, req.method ?? 'GET', path, this.#clock.now());
      if (refused !== undefined) {
        this.#refusals.note('rate-limited', address, refused.what, this.#clock.now());
        return this.#local(
          req,
          res,
          429,
          `too many ${refused.what} from ${address}; try again in ${refused.retryAfterSeconds} s`,
          { 'retry-after': String(refused.retryAfterSeconds) },
        );
      }
    }
    if (
      this.#acmeWebroot !== undefined &&
      this.#secure === undefined &&
      path.startsWith('/.well-known/acme-challenge/')
    )
      return void this.#acme(req, res, path);
    if (ADMIN_PATHS.matches(path)) return this.#toAdmin(req, res, client, path + target.query, host, facts);
    if (this.#blocked.matches(path)) return this.#local(req, res, 403, `${path} is not available through the balancer`);
    if (this.compression !== undefined) facts.accepted = acceptedEncoding(rawHeader(req.rawHeaders, 'accept-encoding'));
    const route = this.#routes.lookup(path);
    if (route === undefined) {
      if ((req.method === 'GET' || req.method === 'HEAD') && this.#previewPaths.matches(path))
        return void this.#previewPage(req, res, path, pageOrigin((facts.forwarded ?? client).proto, host ?? undefined));
      return void this.#static(req, res, path);
    }
    if (!this.#uncounted.matches(path)) this.shared.countRequest(route.index, this.#clock.now());
    this.#proxy(new ProxyExchange(this, route, req, res, path + target.query, client, facts), client, req.socket);
  }

  /** Starts the exchange, or queues it behind the connection's requests in progress. */
  #proxy(ex: ProxyExchange, client: ClientState, socket: Socket): void {
    if (client.active < client.depth) {
      client.active++;
      return ex.start();
    }
    // HTTP/2 streams wait without pausing the connection (others may be reading their answers);
    // nghttp2 holds their number to the advertised limit.
    if (!client.paused && !client.h2) {
      client.paused = true;
      socket.pause();
    }
    client.backlog.push(() => {
      client.active++;
      ex.start();
    });
  }

  #local(
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    error: string,
    headers: Record<string, string> = {},
  ): void {
    req.resume();
    this.#secureHeaders(req, res);
    sendJson(res, status, { error }, headers);
  }

  /** HSTS on an answer the balancer makes itself over TLS. */
  #secureHeaders(req: IncomingMessage, res: ServerResponse): void {
    if (this.hsts !== undefined && (req.socket as ClientSocket)[kClient]?.proto === 'https')
      res.setHeader('strict-transport-security', this.hsts);
  }

  async #acme(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    req.resume();
    try {
      if (!(await serveAcmeChallenge(this.#acmeWebroot!, path, res)))
        this.#local(req, res, 404, `no such path: ${path}`);
    } catch {
      if (!res.headersSent) this.#local(req, res, 500, 'the challenge could not be read');
    }
  }

  #toAdmin(
    req: IncomingMessage,
    res: ServerResponse,
    client: ClientState,
    target: string,
    host: string | undefined,
    facts: RequestFacts,
  ): void {
    if (!this.#settings.adminOnListener)
      return this.#local(req, res, 404, 'no such path (the dashboard is on the admin listener)');
    if (client.viaProxy || !isLoopback(client.address) || !isLoopbackHost(host)) {
      return this.#local(
        req,
        res,
        403,
        'the dashboard and admin API are for local clients addressing a loopback host name only',
      );
    }
    this.#proxy(new ProxyExchange(this, this.#admin, req, res, target, client, facts), client, req.socket);
  }

  async #static(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    try {
      const decoded = decodedPath(path);
      if (decoded === undefined) return this.#local(req, res, 400, 'the path is not valid UTF-8 once decoded');
      const client = (req.socket as ClientSocket)[kClient];
      const options: StaticOptions = {};
      if (this.hsts !== undefined && client?.proto === 'https')
        options.headers = { 'strict-transport-security': this.hsts };
      if (this.compression !== undefined) {
        options.compression = {
          files: (this.#compressedFiles ??= new CompressedFiles()),
          accepted: acceptedEncoding(rawHeader(req.rawHeaders, 'accept-encoding')),
          minBytes: this.compression.minBytes,
        };
      }
      if (await serveStatic(this.#settings.staticDir, decoded, req, res, '', options)) return;
      this.#local(req, res, 404, `no such path: ${path}`);
    } catch (err) {
      this.#send({ type: 'worker-error', code: 'BALANCER_STATIC', message: (err as Error).message });
      if (!res.headersSent) sendJson(res, 500, { error: 'the balancer could not read that file' });
      else res.destroy();
    }
  }

  /** A shareable address (/a/37): the UI's page with the preview tags its service gives (share-page.ts). */
  async #previewPage(req: IncomingMessage, res: ServerResponse, path: string, origin: string | undefined) {
    try {
      req.resume();
      const shell = await this.#shell();
      if (shell === undefined) return this.#local(req, res, 404, `no such path: ${path}`);
      const source = `${this.#previewSource}${path}`;
      const backend = this.#routes.lookup(source);
      const fetcher = (this.#previews ??= new PreviewFetcher());
      let answer: PreviewAnswer;
      const member = backend !== undefined && fetcher.available ? backend.acquire() : undefined;
      if (backend !== undefined && member !== undefined) {
        const fetched = await fetcher.fetch(member.url, source);
        this.attemptEnded(backend, member, fetched.outcome, `preview ${source}`);
        answer = fetched.answer;
      }
      if (res.destroyed) return;
      const page = previewPage(answer);
      let body: Buffer = Buffer.from(renderPreviewPage(shell, path, page, origin));
      const headers: Record<string, string> = {
        ...UI_SECURITY_HEADERS,
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-cache',
      };
      this.#secureHeaders(req, res);
      const compression = this.compression;
      if (compression !== undefined) {
        headers.vary = 'Accept-Encoding';
        const encoding = acceptedEncoding(rawHeader(req.rawHeaders, 'accept-encoding'));
        if (encoding !== undefined && body.length >= compression.minBytes) {
          body = compressWhole(encoding, body, { brotli: compression.brotliQuality, gzip: compression.gzipLevel });
          headers['content-encoding'] = encoding;
        }
      }
      res.writeHead(page.status, { ...headers, 'content-length': String(body.length) });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch (err) {
      this.#send({ type: 'worker-error', code: 'BALANCER_SHARE_PAGE', message: (err as Error).message });
      if (!res.headersSent) sendJson(res, 500, { error: 'the balancer could not make that page' });
      else res.destroy();
    }
  }

  /** public/index.html, read again only when it changed (a deploy replaces it). */
  async #shell(): Promise<string | undefined> {
    const file = path.join(this.#settings.staticDir, 'index.html');
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) return undefined;
    const stamp = `${info.size}-${info.mtimeMs}`;
    if (this.#shellCache?.stamp !== stamp) this.#shellCache = { stamp, text: await readFile(file, 'utf8') };
    return this.#shellCache.text;
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

  reserveSpool(bytes: number): boolean {
    return this.#spool.reserve(bytes);
  }

  releaseSpool(bytes: number): void {
    this.#spool.release(bytes);
  }

  openSpool(): SpoolFile {
    return this.#spool.open();
  }

  report(code: string, message: string): void {
    this.#send({ type: 'worker-error', code, message });
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
    if (outcome === 'ok' || outcome === 'server-error') this.shared.served(member.slot);
    if (suspect) this.#send({ type: 'suspect', id: member.id, outcome: outcome as SuspectMessage['outcome'], reason });
    if (this.#drains.size > 0) for (const id of this.#drains.keys()) this.#settle(id);
  }

  exchangeEnded(backend: Backend, slot: number, status: number, seconds: number): void {
    if (backend instanceof ServiceRoute) this.#traffic.record(backend.index, slot, status, seconds);
  }

  // ---- time and shutdown ---------------------------------------------------------------------

  /** Deadlines of exchanges and pools; the shell calls it about once a second. */
  sweep(): void {
    const now = this.#clock.now();
    this.#exchanges.forEach((ex) => {
      ex.checkDeadlines(now);
    });
    for (const route of this.#services.values()) route.sweep(now);
    this.#admin.sweep(now);
  }

  get inFlight(): number {
    return this.#exchanges.size;
  }

  /** Stops accepting, lets exchanges finish (bounded), then closes everything. */
  async close(timeoutMs: number, sleep: (ms: number) => Promise<void>): Promise<void> {
    for (const listener of this.#listeners) listener.close();
    for (const session of this.#sessions) session.close(); // GOAWAY: streams open finish
    const deadline = this.#clock.now() + timeoutMs;
    while (this.#exchanges.size > 0 && this.#clock.now() < deadline) await sleep(25);
    for (const listener of this.#listeners) listener.closeAllConnections();
    for (const route of this.#services.values()) route.destroyAll();
    this.#admin.destroy();
    this.#previews?.destroy();
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
      reader: this.reader.factory,
    };
  }

  /** The admin listener: one upstream, no counts, no deadline on its event streams. */
  #adminRoute(origin: string): FixedBackend {
    const { hostname, port } = new URL(origin);
    const pool = this.#pools({
      host: hostname.replace(/^\[|\]$/g, ''),
      port: Number(port),
      url: origin,
      streams: true,
    });
    return new FixedBackend('the admin listener', pool);
  }
}
