// What a balancer thread is given at start (workerData.config): the config's `balancer` section
// as limits, the routing rules, and the shared memory every thread and the primary use.
import type { SharedSpec } from './shared-state.ts';
import type { StrategyName } from './strategy.ts';

/** The config's `balancer` limits (docs/operations.md explains each). */
export interface BalancerLimits {
  /** Whole request head received within this, from the connection or the previous response. */
  headersTimeoutMs: number;
  /** Longest silence while a request body arrives: then 408 and the connection closes. */
  bodyIdleTimeoutMs: number;
  /** Whole request (head and body) received within this. */
  requestTimeoutMs: number;
  /** Idle keep-alive connections close after this. */
  keepAliveTimeoutMs: number;
  /** A client that reads nothing of its response for this long is cut off. */
  sendTimeoutMs: number;
  upstreamConnectTimeoutMs: number;
  /** Longest wait for a replica's response head, and longest silence within its response. */
  upstreamTimeoutMs: number;
  maxHeaderBytes: number;
  /** Client connections at once, over all threads. */
  maxConnections: number;
  /** Client connections at once from one address, over all threads (0: no cap). */
  maxConnectionsPerClient: number;
  /** Per thread and replica. */
  maxConnectionsPerReplica: number;
  /** Per thread and replica: requests waiting for a connection; beyond that, 503 Retry-After. */
  maxQueuedPerReplica: number;
  /** Bodies up to this size are received whole before a replica is picked (slow clients hold no replica). */
  bufferBodyBytes: number;
}

export interface BalancerSettings {
  listen: { host: string; port: number };
  threads: number;
  /** This thread's index, 0 .. threads - 1. */
  thread: number;
  staticDir: string;
  adminOrigin: string;
  /** Serve /dashboard and /admin/* on the public listener (to loopback clients only). */
  adminOnListener: boolean;
  blockedPaths: string[];
  uncountedPaths: string[];
  /** How long a replica that failed an attempt is passed over while others are available. */
  suspectMs: number;
  strategies: Record<string, StrategyName>;
  limits: BalancerLimits;
  shared: { buffer: SharedArrayBuffer; spec: SharedSpec; epoch: number };
}

/** The defaults the config schema uses: sensible for one host serving browsers and apps. */
export const DEFAULT_LIMITS: BalancerLimits = {
  headersTimeoutMs: 10_000,
  bodyIdleTimeoutMs: 10_000,
  requestTimeoutMs: 120_000,
  keepAliveTimeoutMs: 5_000,
  sendTimeoutMs: 30_000,
  upstreamConnectTimeoutMs: 3_000,
  upstreamTimeoutMs: 60_000,
  maxHeaderBytes: 16_384,
  maxConnections: 16_384,
  maxConnectionsPerClient: 256,
  maxConnectionsPerReplica: 128,
  maxQueuedPerReplica: 256,
  bufferBodyBytes: 65_536,
};
