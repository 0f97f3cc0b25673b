// The public listener as the worker shell creates it: node:http with the config's limits. Node
// enforces the head-size and header-count caps (431), the head and whole-request deadlines (408), the keep-alive idle
// timeout and strict parsing (CL with TE, duplicate lengths, bare LF, obs-fold: 400); the
// balancer adds the rest (balancer.ts, exchange.ts), Host checks included.
import { createServer, type Server } from 'node:http';
import type { BalancerLimits } from './settings.ts';

export function createListener(limits: BalancerLimits, threads: number): Server {
  const server = createServer({
    maxHeaderSize: limits.maxHeaderBytes,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // How often Node checks the two deadlines above (its default, 30 s, would let a slowloris
    // client hold a connection 30 s past them).
    connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(limits.headersTimeoutMs / 2))),
    noDelay: true,
    // Checked by the balancer, to answer with a JSON body like every other 400.
    requireHostHeader: false,
    joinDuplicateHeaders: false,
  });
  server.maxConnections = Math.max(1, Math.ceil(limits.maxConnections / threads));
  return server;
}
