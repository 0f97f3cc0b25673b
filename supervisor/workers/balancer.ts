// Balancer worker: the one public listener. Routes by longest path prefix to a service, picks
// a ready replica round robin, forwards (proxy.ts); serves static files for paths no service
// routes; forwards the dashboard and /admin/* to the admin listener for local clients only.
// Counts requests per service and per replica and reports them each second; tracks requests
// in flight per replica so the primary can drain one before stopping it.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Pool } from 'undici';
import { SnapshotGate, type FromBalancer, type RoutesMessage, type ServiceCount, type ToBalancer } from '../protocol.ts';
import { serveStatic, sendJson } from '../static.ts';
import { workerChannel } from './channel.ts';
import { buildRouteTable, matchesAny, requestPath, routeFor, type RouteTable } from './paths.ts';
import { RoundRobinPicker } from './picker.ts';
import { clientAddress, createPool, forward, hasBody, isLoopback, LazyBody, upstreamHeaders } from './proxy.ts';

export interface BalancerConfig {
  listen: { host: string; port: number };
  staticDir: string;
  adminOrigin: string;
  blockedPaths: string[];
  uncountedPaths: string[];
  /** How long a replica that refused a connection is skipped while others are available. */
  suspectMs: number;
}

const REPORT_EVERY_MS = 1000;

const channel = workerChannel<ToBalancer, FromBalancer, BalancerConfig>();
const config = channel.config;
const gate = new SnapshotGate();
let table: RouteTable = { entries: [] };
const pickers = new Map<string, RoundRobinPicker<{ url: string }>>();
const pools = new Map<string, Pool>();
const inFlight = new Map<string, number>();
const drainWanted = new Set<string>();
const suspectUntil = new Map<string, number>();
let counts: Record<string, ServiceCount> = {};
let served: Record<string, number> = {};
let totalInFlight = 0;
const adminPool = createPool(config.adminOrigin, { bodyTimeoutMs: 0 });

const server = createServer((req, res) => {
  handle(req, res).catch((err: Error) => {
    if (!res.headersSent) sendJson(res, 500, { error: `balancer: ${err.message}` });
    else res.destroy();
  });
});
server.on('clientError', (_err, socket) => {
  if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
  else socket.destroy();
});
server.listen(config.listen.port, config.listen.host, () => {
  const address = server.address() as AddressInfo;
  channel.send({ type: 'listening', host: address.address, port: address.port });
});
server.on('error', (err) => {
  channel.send({ type: 'worker-error', code: (err as NodeJS.ErrnoException).code ?? 'LISTEN', message: err.message });
  process.exit(1); // the host restarts us after a delay: the port may be free then
});
const reporter = setInterval(report, REPORT_EVERY_MS);

channel.onMessage(async (message) => {
  switch (message.type) {
    case 'routes':
      if (gate.accept(message.version)) applyRoutes(message);
      break;
    case 'drain':
      drainWanted.add(message.id);
      settle(message.id);
      break;
    case 'flush':
      report(true);
      break;
    case 'close':
      await closeGracefully(message.timeoutMs);
      break;
  }
});

function applyRoutes(message: RoutesMessage): void {
  table = buildRouteTable(message.services);
  const live = new Set<string>();
  for (const [service, { replicas }] of Object.entries(message.services)) {
    let picker = pickers.get(service);
    if (!picker) pickers.set(service, (picker = new RoundRobinPicker()));
    const ids = new Set(replicas.map((r) => r.id));
    for (const id of picker.ids()) if (!ids.has(id)) picker.remove(id);
    for (const r of replicas) {
      live.add(r.id);
      picker.add(r.id, r.port, { url: r.url });
      picker.setReady(r.id, r.ready);
      if (!pools.has(r.id)) pools.set(r.id, createPool(r.url));
    }
  }
  for (const service of pickers.keys()) if (!(service in message.services)) pickers.delete(service);
  for (const [id, pool] of pools) {
    if (live.has(id)) continue;
    pools.delete(id);
    void pool.close(); // lets requests in flight finish
    suspectUntil.delete(id);
  }
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const pathname = requestPath(req.url ?? '');
  if (pathname === undefined) return sendJson(res, 400, { error: 'malformed request target' });
  if (pathname === '/dashboard' || pathname.startsWith('/dashboard/') || pathname.startsWith('/admin/')) {
    if (!isLoopback(clientAddress(req))) return sendJson(res, 403, { error: 'the dashboard and admin API are for local clients only' });
    await forward(req, res, adminPool, upstreamHeaders(req), hasBody(req) ? new LazyBody(req) : undefined);
    return;
  }
  if (matchesAny(pathname, config.blockedPaths)) {
    req.resume();
    return sendJson(res, 403, { error: `${pathname} is not available through the balancer` });
  }
  const service = routeFor(table, pathname);
  if (service === undefined) {
    if (await serveStatic(config.staticDir, pathname, req, res)) return;
    return sendJson(res, 404, { error: `no such path: ${pathname}` });
  }
  if (!matchesAny(pathname, config.uncountedPaths)) {
    const c = (counts[service] ??= { count: 0, firstAt: Date.now() });
    c.count += 1;
  }
  await proxyToService(service, req, res);
}

/**
 * Round robin over ready replicas. A connection that fails before any answer goes to the next
 * replica when that is safe: always for GET and HEAD; for other methods only when the
 * connection was refused and no byte of the body was read.
 */
async function proxyToService(service: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const picker = pickers.get(service);
  const tried = new Set<string>();
  const headers = upstreamHeaders(req);
  const withBody = hasBody(req);
  const idempotent = req.method === 'GET' || req.method === 'HEAD';
  for (;;) {
    const now = Date.now();
    const pick =
      picker?.next((id) => tried.has(id) || (suspectUntil.get(id) ?? 0) > now) ??
      picker?.next((id) => tried.has(id));
    if (!pick) {
      req.resume();
      const status = tried.size === 0 ? 503 : 502;
      return sendJson(res, status, { error: tried.size === 0 ? `no ready replica of ${service}` : `no replica of ${service} could be reached` }, { 'retry-after': '1' });
    }
    tried.add(pick.id);
    const pool = pools.get(pick.id)!;
    const body = withBody ? new LazyBody(req) : undefined;
    begin(pick.id);
    let outcome;
    try {
      outcome = await forward(req, res, pool, headers, body);
    } finally {
      end(pick.id);
    }
    if (outcome.kind === 'done') {
      served[pick.id] = (served[pick.id] ?? 0) + 1;
      return;
    }
    suspectUntil.set(pick.id, Date.now() + config.suspectMs);
    channel.send({ type: 'suspect', id: pick.id, reason: outcome.reason });
    const safe = idempotent || (outcome.kind === 'refused' && !body?.pulled);
    if (!safe) {
      req.resume();
      return sendJson(res, 502, { error: `replica of ${service} failed before answering (${outcome.reason}); not retried, the request may have reached it` });
    }
  }
}

function begin(id: string): void {
  inFlight.set(id, (inFlight.get(id) ?? 0) + 1);
  totalInFlight += 1;
}

function end(id: string): void {
  const n = (inFlight.get(id) ?? 1) - 1;
  if (n > 0) inFlight.set(id, n);
  else inFlight.delete(id);
  totalInFlight -= 1;
  settle(id);
}

/** Tells the primary a replica it wants drained has nothing in flight any more. */
function settle(id: string): void {
  if (!drainWanted.has(id) || inFlight.has(id)) return;
  drainWanted.delete(id);
  channel.send({ type: 'drained', id });
}

function report(always = false): void {
  if (!always && Object.keys(counts).length === 0 && Object.keys(served).length === 0) return;
  channel.send({ type: 'requests', at: Date.now(), services: counts, served });
  counts = {};
  served = {};
}

async function closeGracefully(timeoutMs: number): Promise<void> {
  server.close();
  const deadline = Date.now() + timeoutMs;
  while (totalInFlight > 0 && Date.now() < deadline) await sleep(25);
  server.closeAllConnections();
  clearInterval(reporter);
  report(true);
  await Promise.allSettled([...pools.values(), adminPool].map((p) => p.destroy()));
  channel.send({ type: 'closed' });
}
