// Shared by the abuse suites: the real supervisor (process runtime, echo replicas, short
// limits so deadlines pass within a test), raw sockets for what no HTTP client would send, a
// well-behaved client probing latency in the background, and the replicas' journals of what
// they received whole. All traffic stays on 127.0.0.0/8; every socket is closed at the end.
import assert from 'node:assert/strict';
import { Agent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { echoService, getJson, http, supervisorSuite, type SupervisorSuite } from '../../testkit/supervisor.ts';

/** Limits short enough that a test sees each deadline pass (the defaults are longer). */
export const TEST_LIMITS = {
  headersTimeoutMs: 1500,
  bodyIdleTimeoutMs: 1500,
  requestTimeoutMs: 4000,
  keepAliveTimeoutMs: 3000,
  sendTimeoutMs: 2000,
  upstreamTimeoutMs: 3000,
  maxConnectionsPerClient: 300,
  maxConnectionsPerReplica: 8,
  maxQueuedPerReplica: 16,
  bufferBodyBytes: 65_536,
};

export interface AbuseSetup {
  suite: string;
  /** Listen port; admin is +1, replicas from +10. */
  port: number;
  threads?: number;
  limits?: Partial<typeof TEST_LIMITS> & Record<string, unknown>;
  adminOnListener?: boolean;
  /** A users service too (routing tests). */
  users?: boolean;
  /** TLS on the listen port (HTTP/2 and HTTP/1.1); the base URL is then https. */
  tls?: { certFile: string; keyFile: string };
}

export interface Abuse {
  suite: SupervisorSuite;
  base: string;
  port: number;
  replicas: number[];
  usersPort: number;
}

export function abuseSuite(s: AbuseSetup): Abuse {
  const replicas = [s.port + 10, s.port + 11];
  const usersPort = s.port + 20;
  const env = { ECHO_JOURNAL: '1' };
  const services: Record<string, ReturnType<typeof echoService>> = {
    acts: echoService({ replicas: { initial: 2, min: 2, max: 2 }, startPort: replicas[0]!, routes: ['/api/v1'], env }),
  };
  if (s.users)
    services.users = echoService({
      replicas: { initial: 1, min: 1, max: 1 },
      startPort: usersPort,
      routes: ['/api/v1/users', '/api/v1/sessions'],
      env,
    });
  const suite = supervisorSuite({
    suite: s.suite,
    adminPort: s.port + 1,
    config: {
      runtime: 'process',
      listenPort: s.port,
      heartbeat: { intervalMs: 1000, timeoutMs: 800, failureThreshold: 3 },
      services,
      extra: {
        balancer: {
          threads: s.threads ?? 1,
          adminOnListener: s.adminOnListener ?? false,
          ...TEST_LIMITS,
          ...s.limits,
          ...(s.tls ? { tls: s.tls } : {}),
        },
      },
    },
    ready: s.users ? { acts: 2, users: 1 } : { acts: 2 },
    readyTimeoutMs: 30_000,
  });
  return { suite, base: `${s.tls ? 'https' : 'http'}://127.0.0.1:${s.port}`, port: s.port, replicas, usersPort };
}

// ---- raw sockets -----------------------------------------------------------------------------

export interface RawReply {
  /** Everything the balancer sent, latin1. */
  text: string;
  /** The balancer closed the connection (rather than our timeout ending the wait). */
  closed: boolean;
  ms: number;
}

/** Opens a connection (from `from`, a 127/8 address), writes `data`, reads until close or `waitMs`. */
export function raw(
  port: number,
  data: string | Buffer | Array<string | Buffer>,
  options: { from?: string; waitMs?: number; gapMs?: number; responses?: number } = {},
): Promise<RawReply> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress: options.from });
    let text = '';
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ text, closed, ms: Date.now() - started });
    };
    const timer = setTimeout(() => finish(false), options.waitMs ?? 3000);
    socket.setEncoding('latin1');
    let settle: NodeJS.Timeout | undefined;
    socket.on('data', (chunk: string) => {
      text += chunk;
      // Enough answers: stop soon (a kept-alive connection would otherwise wait out waitMs).
      if (options.responses !== undefined && !settle && statuses(text).length >= options.responses)
        settle = setTimeout(() => finish(false), 100);
    });
    socket.on('close', () => finish(true));
    socket.on('error', (err: NodeJS.ErrnoException) =>
      err.code === 'ECONNRESET' || err.code === 'EPIPE' ? finish(true) : reject(err),
    );
    socket.on('connect', async () => {
      const parts = Array.isArray(data) ? data : [data];
      for (const part of parts) {
        if (done || socket.destroyed) return;
        socket.write(part);
        if (options.gapMs) await sleep(options.gapMs);
      }
    });
  });
}

/** Status codes of every response in a raw reply, in order. */
export function statuses(text: string): number[] {
  return [...text.matchAll(/HTTP\/1\.[01] (\d{3}) /g)].map((m) => Number(m[1]));
}

/** Opens a connection and keeps it open; returns it when connected. `onClose` hears its end. */
export function openSocket(port: number, from?: string, onClose?: () => void): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress: from });
    if (onClose) socket.once('close', onClose);
    socket.once('connect', () => {
      socket.on('error', () => {}); // a reset by the balancer ends it like a close
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

// ---- what the replicas saw -------------------------------------------------------------------

export interface Seen {
  method: string;
  url: string;
  headers: string[];
  bytes: number;
  sha256: string;
}

export async function journal(ports: number[]): Promise<Seen[]> {
  const all: Seen[] = [];
  for (const port of ports) all.push(...((await getJson(`http://127.0.0.1:${port}/api/v1/_seen`)) as Seen[]));
  return all;
}

export async function clearJournal(ports: number[]): Promise<void> {
  for (const port of ports) await http('DELETE', `http://127.0.0.1:${port}/api/v1/_seen`);
}

// ---- a well-behaved client, measured while others misbehave ---------------------------------

export interface ProbeStats {
  count: number;
  failures: string[];
  medianMs: number;
  maxMs: number;
}

/**
 * GETs through the balancer every `everyMs` on a keep-alive connection (from 127.0.0.1, apart
 * from the attackers' addresses) until stopped; at most one at a time, each bounded by 5 s.
 */
export class Probe {
  readonly #times: number[] = [];
  readonly #failures: string[] = [];
  readonly #agent: Agent;
  #running = true;
  readonly #loop: Promise<void>;

  constructor(base: string, everyMs = 40) {
    const agent = base.startsWith('https:')
      ? new HttpsAgent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: false })
      : new Agent({ keepAlive: true, maxSockets: 1 });
    this.#agent = agent;
    this.#loop = (async () => {
      for (let i = 0; this.#running && i < 5000; i++) {
        const started = performance.now();
        try {
          const status = await getStatus(`${base}/api/v1/probe/${i}`, agent);
          if (status !== 200) this.#failures.push(`status ${status}`);
        } catch (err) {
          this.#failures.push((err as Error).message);
        }
        this.#times.push(performance.now() - started);
        await sleep(everyMs);
      }
    })();
  }

  async stop(): Promise<ProbeStats> {
    this.#running = false;
    await this.#loop;
    this.#agent.destroy();
    const sorted = [...this.#times].sort((a, b) => a - b);
    return {
      count: sorted.length,
      failures: this.#failures,
      medianMs: sorted[Math.floor(sorted.length / 2)] ?? 0,
      maxMs: sorted.at(-1) ?? 0,
    };
  }
}

function getStatus(url: string, agent: Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = (url.startsWith('https:') ? httpsRequest : httpRequest)(url, { agent, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
    req.on('error', reject);
    req.end();
  });
}

/** The probe's usual latency, measured before any abuse. */
export async function baseline(base: string): Promise<ProbeStats> {
  const probe = new Probe(base, 10);
  await sleep(1000);
  return probe.stop();
}

/**
 * Runs `attack` while a probe measures; then checks the well-behaved client was served every
 * time, within its usual latency (generous for a loaded 2-core machine, but a stall of the
 * event loop or a request stuck behind the attack fails it), and no balancer thread died.
 */
export async function servedThroughout(a: Abuse, usual: ProbeStats, attack: () => Promise<void>): Promise<ProbeStats> {
  const restartsBefore = await restarts(a);
  const probe = new Probe(a.base);
  let stats: ProbeStats;
  try {
    await attack();
  } finally {
    stats = await probe.stop();
  }
  assert.deepEqual(stats.failures, [], 'the well-behaved client was always answered 200');
  assert.ok(stats.count >= 3, `the probe ran (${stats.count} requests)`);
  const bound = Math.max(10 * usual.medianMs, 50);
  assert.ok(
    stats.medianMs <= bound,
    `median latency ${stats.medianMs.toFixed(1)} ms within ${bound.toFixed(0)} ms (usual ${usual.medianMs.toFixed(1)} ms)`,
  );
  assert.ok(stats.maxMs <= 2000, `slowest probe ${stats.maxMs.toFixed(0)} ms`);
  assert.equal(await restarts(a), restartsBefore, 'no balancer thread died');
  return stats;
}

/** Balancer (and other worker) restarts so far, from the event log. */
export async function restarts(a: Abuse): Promise<number> {
  const events = await a.suite.admin.events();
  return events.filter((e) => e.type === 'worker.restarted').length;
}
