// The admin listener (docs/status-api.md): GET /status, GET /events (server-sent events),
// GET /events.json, the dashboard's static files, and POST /workers/<name>/kill for operators
// and tests. Every route also answers under /admin/..., the path the balancer forwards, so
// the dashboard can use the same URLs on either port.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { once } from 'node:events';
import { ADMIN_TOKEN_HEADER, checkAdminRequest } from '../web/admin-access.ts';
import { parseLogQuery, streamServiceLogs, type LogSource } from './logs.ts';
import type { EventLog, SupervisorEvent } from '../telemetry/events.ts';
import type { ScaleAnswer } from '../fleet/scale-override.ts';
import type { HistoryBody, HistorySample } from '../telemetry/history.ts';
import type { Logger } from '../core/log.ts';
import type { MemoryReport } from '../telemetry/memory-report.ts';
import { serveStatic, sendJson } from '../web/static.ts';
import { readiness, type StatusBody } from './status.ts';

export interface AdminDeps {
  host: string;
  port: number;
  /** admin.token, or the generated one (token.ts): a POST's X-Admin-Token must equal it. */
  token: string;
  staticDir: string;
  events: EventLog;
  status: () => StatusBody;
  /** Terminates a worker (it is restarted like any dead worker); false if no such worker. */
  killWorker: (name: string) => boolean;
  /** POST /services/{name}/scale: the operator's replica count (scale-override.ts). */
  scale: (service: string, body: unknown) => ScaleAnswer;
  /** Replicas' output for GET /logs/{service}; absent when the runtime keeps none. */
  logs?: LogSource | undefined;
  /** GET /metrics: the Prometheus text format. */
  metrics?: () => Promise<{ contentType: string; text: string }>;
  /** GET /history: the dashboard's hour, samples after `since` (epoch ms). */
  history?: (since: number) => HistoryBody;
  /** GET /memory: where the supervisor's megabytes go (memory-report.ts). */
  memory?: () => Promise<MemoryReport>;
  logger: Logger;
}

const SNAPSHOT_EVERY_MS = 2000;
const SNAPSHOT_THROTTLE_MS = 100;
const REPLAYED_EVENTS = 100;

export class AdminServer {
  readonly #d: AdminDeps;
  readonly #server: Server;
  readonly #streams = new Set<ServerResponse>();
  #heartbeat: NodeJS.Timeout | undefined;
  #pending: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;

  constructor(deps: AdminDeps) {
    this.#d = deps;
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((err: Error) => {
        deps.logger.error('admin request failed', { url: req.url, error: err.message });
        if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
        else res.destroy();
      });
    });
  }

  async listen(): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#d.port, this.#d.host, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    this.#unsubscribe = this.#d.events.subscribe((e) => this.#broadcast('event', e));
    this.#heartbeat = setInterval(() => this.#broadcast('snapshot', this.#d.status()), SNAPSHOT_EVERY_MS);
    return this.#server.address() as AddressInfo;
  }

  /** A replica changed: stream clients get a snapshot soon (several changes → one snapshot). */
  changed(): void {
    if (this.#pending || this.#streams.size === 0) return;
    this.#pending = setTimeout(() => {
      this.#pending = undefined;
      this.#broadcast('snapshot', this.#d.status());
    }, SNAPSHOT_THROTTLE_MS);
  }

  async close(): Promise<void> {
    clearInterval(this.#heartbeat);
    clearTimeout(this.#pending);
    this.#unsubscribe?.();
    for (const res of this.#streams) res.end();
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://admin');
    } catch {
      return sendJson(res, 400, { error: 'malformed request target' });
    }
    const route = url.pathname.replace(/^\/admin(?=\/|$)/, '') || '/';
    const kill = /^\/workers\/([a-z]+)\/kill$/.exec(route);
    const scale = /^\/services\/([^/]+)\/scale$/.exec(route);
    const token = req.headers[ADMIN_TOKEN_HEADER];
    const verdict = checkAdminRequest(
      {
        method,
        host: req.headers.host,
        token: Array.isArray(token) ? token[0] : token,
        acts: kill !== null || scale !== null,
      },
      { listenerHost: this.#d.host, token: this.#d.token },
    );
    if (!verdict.ok) {
      req.resume();
      return sendJson(res, verdict.status, { error: verdict.error });
    }
    if (kill) {
      if (method !== 'POST') return sendJson(res, 405, { error: 'use POST' }, { allow: 'POST' });
      return this.#d.killWorker(kill[1]!)
        ? sendJson(res, 202, {})
        : sendJson(res, 404, { error: `no worker named ${kill[1]}` });
    }
    if (scale) {
      if (method !== 'POST') return sendJson(res, 405, { error: 'use POST' }, { allow: 'POST' });
      const body = await readJsonBody(req);
      if ('error' in body) return sendJson(res, 400, { error: body.error });
      const answer = this.#d.scale(scale[1]!, body.value);
      return sendJson(res, answer.status, answer.body);
    }
    const logs = /^\/logs\/([^/]+)$/.exec(route);
    const getOnly = ['/status', '/health', '/events', '/events.json', '/metrics', '/history', '/memory'];
    if ((getOnly.includes(route) || logs) && method !== 'GET' && method !== 'HEAD') {
      return sendJson(res, 405, { error: `method ${method} not allowed` }, { allow: 'GET' });
    }
    if (route === '/status') return sendJson(res, 200, this.#d.status(), { 'cache-control': 'no-store' });
    if (route === '/memory' && this.#d.memory)
      return sendJson(res, 200, await this.#d.memory(), { 'cache-control': 'no-store' });
    if (route === '/health') {
      const health = readiness(this.#d.status());
      return sendJson(res, health.ready ? 200 : 503, health, { 'cache-control': 'no-store' });
    }
    if (route === '/events.json') {
      const raw = url.searchParams.get('since') ?? '0';
      if (!/^\d{1,15}$/.test(raw)) return sendJson(res, 400, { error: 'since must be a non-negative integer' });
      return sendJson(res, 200, this.#d.events.since(Number(raw)), { 'cache-control': 'no-store' });
    }
    if (route === '/events') return this.#stream(req, res);
    if (route === '/metrics' && this.#d.metrics) {
      const { contentType, text } = await this.#d.metrics();
      res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
      return void res.end(method === 'HEAD' ? undefined : text);
    }
    if (route === '/history' && this.#d.history) {
      const raw = url.searchParams.get('since') ?? '0';
      if (!/^\d{1,15}$/.test(raw))
        return sendJson(res, 400, { error: 'since must be a non-negative integer (epoch ms)' });
      return sendJson(res, 200, this.#d.history(Number(raw)), { 'cache-control': 'no-store' });
    }
    if (logs) return this.#logs(logs[1]!, url.searchParams, req, res);
    if (route === '/') {
      res.writeHead(302, { location: '/dashboard/' });
      return void res.end();
    }
    if (route === '/dashboard' || route.startsWith('/dashboard/')) {
      const root = path.join(this.#d.staticDir, 'dashboard');
      let decoded: string;
      try {
        decoded = decodeURIComponent(route.slice('/dashboard'.length) || '');
      } catch {
        return sendJson(res, 400, { error: 'malformed path' });
      }
      if (decoded === '') {
        res.writeHead(301, { location: `${url.pathname}/` });
        return void res.end();
      }
      const mount = url.pathname.startsWith('/admin/') ? '/admin/dashboard' : '/dashboard';
      if (await serveStatic(root, decoded, req, res, mount)) return;
    }
    sendJson(res, 404, { error: `no such path: ${url.pathname}` });
  }

  #stream(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(frame('snapshot', this.#d.status()));
    for (const e of this.#d.events.last(REPLAYED_EVENTS)) res.write(frame('event', e, e.seq));
    this.#streams.add(res);
    req.socket.setTimeout(0);
    res.on('close', () => this.#streams.delete(res));
  }

  async #logs(service: string, params: URLSearchParams, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const source = this.#d.logs;
    if (!source) return sendJson(res, 501, { error: 'this runtime keeps no replica output' });
    if (source.replicas(service) === undefined)
      return sendJson(res, 404, { error: `no service named ${JSON.stringify(service)}` });
    const query = parseLogQuery(params);
    if ('error' in query) return sendJson(res, 400, query);
    res.writeHead(200, {
      'content-type': 'application/x-ndjson; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
    });
    if (req.method === 'HEAD') return void res.end();
    const gone = new AbortController();
    res.on('close', () => gone.abort());
    if (query.follow) req.socket.setTimeout(0);
    const send = async (line: object) => {
      if (!res.write(`${JSON.stringify(line)}\n`) && !gone.signal.aborted)
        await once(res, 'drain', { signal: gone.signal }).catch(() => undefined);
    };
    try {
      await streamServiceLogs(source, service, query, send, gone.signal);
    } catch (err) {
      // Headers are out: the error becomes the last line, then the stream ends.
      if (!gone.signal.aborted) await send({ error: (err as Error).message });
    }
    res.end();
  }

  /** A history tick for the dashboards connected now (they fetched the rest on connecting). */
  sample(tick: { t: number; services: Record<string, HistorySample> }): void {
    this.#broadcast('sample', tick);
  }

  #broadcast(name: 'snapshot' | 'event' | 'sample', data: unknown): void {
    if (this.#streams.size === 0) return;
    const text = frame(name, data, name === 'event' ? (data as SupervisorEvent).seq : undefined);
    for (const res of this.#streams) res.write(text);
  }
}

const MAX_BODY_BYTES = 4096;

/** A small JSON request body: its value, or why it is not one (too large, not JSON). */
async function readJsonBody(req: IncomingMessage): Promise<{ value: unknown } | { error: string }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) {
      req.resume();
      return { error: `the body must be at most ${MAX_BODY_BYTES} bytes of JSON` };
    }
    chunks.push(chunk as Buffer);
  }
  try {
    return { value: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown };
  } catch {
    return { error: 'the body must be JSON: {"replicas": N} or {"replicas": "auto"}' };
  }
}

function frame(event: string, data: unknown, id?: number): string {
  return `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
