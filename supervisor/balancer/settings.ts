// What a balancer thread is given at start (workerData.config): the config's `balancer` section
// as limits, the routing rules, and the shared memory every thread and the primary use.
import type { SharedSpec } from './shared-state.ts';
import type { StrategyName } from './strategy.ts';
import type { CompressionConfig } from '../web/compression.ts';

/** The config's `balancer` limits (docs/operations.md explains each). */
export interface BalancerLimits {
  /** Whole request head received within this, from the connection or the previous response. */
  headersTimeoutMs: number;
  /** Longest silence of the client while its request body arrives: then 408 and the connection closes. */
  bodyIdleTimeoutMs: number;
  /**
   * A request body must arrive at least this fast (bytes per second), measured over each
   * bodyRateWindowMs: a client that trickles is cut (408) however often it sends a byte, while a
   * slow phone sending steadily is not. 0: no minimum.
   */
  bodyMinBytesPerSecond: number;
  bodyRateWindowMs: number;
  /** Larger request bodies are refused at the edge (413), before a replica sees them. */
  maxBodyBytes: number;
  /**
   * Disk for request bodies buffered at the edge at once (dataDir/spool), over all threads; beyond it, 503 Retry-After.
   */
  spoolBytes: number;
  /** Whole request (head and body) received within this. */
  requestTimeoutMs: number;
  /** Idle keep-alive connections close after this. */
  keepAliveTimeoutMs: number;
  /** A client that reads nothing of its response for this long is cut off. */
  sendTimeoutMs: number;
  upstreamConnectTimeoutMs: number;
  /**
   * Per attempt of a safe request (GET, HEAD, OPTIONS): longest wait for the response head
   * once the request is sent; then the replica is suspect and another one is tried, once.
   */
  upstreamHeaderTimeoutMs: number;
  /** Longest wait for a response head of other requests, and longest silence within any response. */
  upstreamTimeoutMs: number;
  /** Answers after which a safe request tries another replica, once (of 500, 502, 503, 504). */
  retryStatuses: number[];
  /** 5xx answers in a row from a replica that make it suspect at once. */
  suspectAfter5xx: number;
  maxHeaderBytes: number;
  /** Client connections at once, over all threads. */
  maxConnections: number;
  /** Client connections at once from one address, over all threads (0: no cap). */
  maxConnectionsPerClient: number;
  /** Per thread and replica. */
  maxConnectionsPerReplica: number;
  /** Per thread and replica: requests waiting for a connection; beyond that, 503 Retry-After. */
  maxQueuedPerReplica: number;
  /**
   * Every request body is received whole before a replica is picked (slow clients hold no
   * replica): up to this size in memory, larger ones in a file (body-spool.ts).
   */
  bufferBodyBytes: number;
  /**
   * When fewer than this share (%) of a service's live replicas are in rotation, requests are
   * balanced across all of them rather than answered 503 (Envoy's panic threshold): a health
   * signal that fails most replicas at once is more likely wrong than right. 0: never.
   */
  panicThresholdPercent: number;
}

/** `balancer.tls`: HTTPS on the listen port (docs/operations.md, "Turn HTTPS on"). */
export interface TlsConfig {
  /** PEM certificate chain (leaf first); empty: the listener speaks plain HTTP. */
  certFile: string;
  /** PEM private key of the certificate. */
  keyFile: string;
  /** A plain-HTTP port that only redirects to HTTPS (and answers ACME HTTP-01); 0: none. */
  redirectPort: number;
  /** Strict-Transport-Security max-age on HTTPS responses; 0: no header. */
  hstsMaxAgeSeconds: number;
  /** Where `certbot --webroot` writes its challenges; empty: none served. */
  acmeWebroot: string;
}

/** A token bucket: `perMinute` tokens a minute, at most `burst` saved up; 0 per minute: off. */
export interface BucketConfig {
  perMinute: number;
  burst: number;
}

/** `balancer.rateLimits`: per client address, over all threads. */
export interface RateLimitConfig {
  /** Every request. */
  requests: BucketConfig;
  /** Log-in and sign-up: requests with one of `methods` to one of `paths`. */
  auth: BucketConfig & { paths: string[]; methods: string[] };
}

/**
 * `balancer.previews`: addresses (path prefixes) answered with the web UI's page carrying the
 * link-preview tags that `source` + the address gives (a `PagePreview`, share-page.ts).
 */
export interface PreviewsConfig {
  paths: string[];
  source: string;
}

/** The config's public-edge sections: each off (or cheap) unless configured. */
export interface EdgeConfig {
  previews: PreviewsConfig;
  tls: TlsConfig;
  compression: CompressionConfig;
  rateLimits: RateLimitConfig;
  /**
   * Addresses or CIDR ranges of proxies in front (a cloud load balancer): from them, and only
   * from them, X-Forwarded-For names the client and X-Forwarded-Proto its scheme.
   */
  trustedProxies: string[];
}

/** The certificate and key as PEM text, read and checked by the primary. */
export interface TlsMaterial {
  cert: string;
  key: string;
}

/** Listening sockets systemd passed (socket activation): each thread listens on its own copy. */
export interface InheritedFds {
  public: number;
  redirect: number | null;
}

/** `balancer.upstreamParser`: how replies are read (upstream-reader.ts); auto: the fast one if its self-test passes. */
export type UpstreamParserSetting = 'auto' | 'llhttp' | 'own';

export interface BalancerSettings {
  listen: { host: string; port: number };
  upstreamParser: UpstreamParserSetting;
  /**
   * When set, the listener is this socket rather than listen.host:port, and a thread accepts
   * only once told `accept` (the fleet is ready): until then connections wait in the backlog.
   */
  inherited: InheritedFds | null;
  threads: number;
  /** This thread's index, 0 .. threads - 1. */
  thread: number;
  staticDir: string;
  /** Where request bodies too large for memory are buffered (dataDir/spool). */
  spoolDir: string;
  adminOrigin: string;
  /** Serve /dashboard and /admin/* on the public listener (to loopback clients only). */
  adminOnListener: boolean;
  blockedPaths: string[];
  uncountedPaths: string[];
  /** How long a replica that failed an attempt is passed over while others are available. */
  suspectMs: number;
  strategies: Record<string, StrategyName>;
  limits: BalancerLimits;
  edge: EdgeConfig;
  /** Present when TLS is on; replaced at run time by `tls` messages. */
  tls: TlsMaterial | null;
  shared: SharedMemory;
}

/** The buffer every balancer thread, the primary and the scaler share, and how to read it. */
export interface SharedMemory {
  buffer: SharedArrayBuffer;
  spec: SharedSpec;
  /** Times in the buffer are ms since this. */
  epoch: number;
}

/** The defaults the config schema uses: sensible for one host serving browsers and apps. */
export const DEFAULT_LIMITS: BalancerLimits = {
  headersTimeoutMs: 10_000,
  bodyIdleTimeoutMs: 10_000,
  bodyMinBytesPerSecond: 1024,
  bodyRateWindowMs: 20_000,
  maxBodyBytes: 32 * 1024 * 1024,
  spoolBytes: 1024 * 1024 * 1024,
  requestTimeoutMs: 600_000,
  keepAliveTimeoutMs: 5_000,
  sendTimeoutMs: 30_000,
  upstreamConnectTimeoutMs: 3_000,
  upstreamHeaderTimeoutMs: 3_000,
  upstreamTimeoutMs: 60_000,
  retryStatuses: [502, 503, 504],
  suspectAfter5xx: 2,
  maxHeaderBytes: 16_384,
  maxConnections: 16_384,
  maxConnectionsPerClient: 256,
  maxConnectionsPerReplica: 128,
  maxQueuedPerReplica: 256,
  bufferBodyBytes: 65_536,
  panicThresholdPercent: 50,
};

export const DEFAULT_EDGE: EdgeConfig = {
  previews: { paths: [], source: '/api/v1/previews' },
  tls: { certFile: '', keyFile: '', redirectPort: 0, hstsMaxAgeSeconds: 31_536_000, acmeWebroot: '' },
  compression: { enabled: true, minBytes: 1024, brotliQuality: 1, gzipLevel: 1 },
  rateLimits: {
    requests: { perMinute: 0, burst: 0 },
    auth: { perMinute: 0, burst: 0, paths: [], methods: ['POST'] },
  },
  trustedProxies: [],
};
