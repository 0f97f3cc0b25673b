// What a balancer thread is given at start (workerData.config): the config's `balancer` section
// as limits, the routing rules, and the shared memory every thread and the primary use. The
// section's keys are declared here, once (the config assembles them, as it does the runtimes').
import { defaultsOf, field, type ValuesOf } from '../schema/formats.ts';
import { COMPRESSION_SCHEMA } from '../web/compression.ts';
import type { SharedSpec } from './shared-state.ts';
import type { StrategyName } from './strategy.ts';

/**
 * The config's `balancer` limits, declared once: their formats, defaults and env overrides here,
 * their types derived (docs/operations.md explains each).
 */
export const LIMITS_SCHEMA = {
  /** Whole request head received within this, from the connection or the previous response. */
  headersTimeoutMs: field('sa-positive-int', 10_000),
  /** Longest silence of the client while its request body arrives: then 408 and the connection closes. */
  bodyIdleTimeoutMs: field('sa-positive-int', 10_000),
  /**
   * A request body must arrive at least this fast (bytes per second), measured over each
   * bodyRateWindowMs: a client that trickles is cut (408) however often it sends a byte, while a
   * slow phone sending steadily is not. 0: no minimum.
   */
  bodyMinBytesPerSecond: field('sa-nat', 1024),
  bodyRateWindowMs: field('sa-positive-int', 20_000),
  /** Larger request bodies are refused at the edge (413), before a replica sees them. */
  maxBodyBytes: field('sa-positive-int', 32 * 1024 * 1024, 'BALANCER_MAX_BODY_BYTES'),
  /** Disk for request bodies buffered at the edge at once (dataDir/spool), over all threads; beyond it, 503 Retry-After. */
  spoolBytes: field('sa-nat', 1024 * 1024 * 1024),
  /** Whole request (head and body) received within this. */
  requestTimeoutMs: field('sa-positive-int', 600_000),
  /** Idle keep-alive connections close after this. */
  keepAliveTimeoutMs: field('sa-positive-int', 5_000),
  /** A client that reads nothing of its response for this long is cut off. */
  sendTimeoutMs: field('sa-positive-int', 30_000),
  upstreamConnectTimeoutMs: field('sa-positive-int', 3_000),
  /**
   * Per attempt of a safe request (GET, HEAD, OPTIONS): longest wait for the response head
   * once the request is sent; then the replica is suspect and another one is tried, once.
   */
  upstreamHeaderTimeoutMs: field('sa-positive-int', 3_000, 'UPSTREAM_HEADER_TIMEOUT_MS'),
  /** Longest wait for a response head of other requests, and longest silence within any response. */
  upstreamTimeoutMs: field('sa-positive-int', 60_000),
  /** Answers after which a safe request tries another replica, once (of 500, 502, 503, 504). */
  retryStatuses: field('sa-retry-statuses', [502, 503, 504]),
  /** 5xx answers in a row from a replica that make it suspect at once. */
  suspectAfter5xx: field('sa-positive-int', 2),
  maxHeaderBytes: field('sa-header-bytes', 16_384),
  /** Client connections at once, over all threads. */
  maxConnections: field('sa-positive-int', 16_384),
  /** Client connections at once from one address, over all threads (0: no cap). */
  maxConnectionsPerClient: field('sa-nat', 256),
  /** Per thread and replica. */
  maxConnectionsPerReplica: field('sa-positive-int', 128),
  /** Per thread and replica: requests waiting for a connection; beyond that, 503 Retry-After. */
  maxQueuedPerReplica: field('sa-nat', 256),
  /**
   * Every request body is received whole before a replica is picked (slow clients hold no
   * replica): up to this size in memory, larger ones in a file (body-spool.ts).
   */
  bufferBodyBytes: field('sa-nat', 65_536),
  /**
   * When fewer than this share (%) of a service's live replicas are in rotation, requests are
   * balanced across all of them rather than answered 503 (Envoy's panic threshold): a health
   * signal that fails most replicas at once is more likely wrong than right. 0: never.
   */
  panicThresholdPercent: field('sa-percent', 50),
};
export type BalancerLimits = ValuesOf<typeof LIMITS_SCHEMA>;

/** A token bucket: `perMinute` tokens a minute, at most `burst` saved up; 0 per minute: off. */
function bucket(perMinuteEnv: string, burstEnv: string) {
  return { perMinute: field('sa-nat', 0, perMinuteEnv), burst: field('sa-nat', 0, burstEnv) };
}

/** The config's public-edge sections: each off (or cheap) unless configured. */
export const EDGE_SCHEMA = {
  /**
   * Addresses (path prefixes) answered with the web UI's page carrying the link-preview tags
   * that `source` + the address gives (a `PagePreview`, share-page.ts).
   */
  previews: { paths: field('sa-paths', []), source: field('sa-path', '/api/v1/previews') },
  /** HTTPS on the listen port (docs/operations.md, "Turn HTTPS on"). */
  tls: {
    /** PEM certificate chain (leaf first); empty: the listener speaks plain HTTP. */
    certFile: field('sa-any-string', '', 'TLS_CERT_FILE'),
    /** PEM private key of the certificate. */
    keyFile: field('sa-any-string', '', 'TLS_KEY_FILE'),
    /** A plain-HTTP port that only redirects to HTTPS (and answers ACME HTTP-01); 0: none. */
    redirectPort: field('sa-port', 0, 'TLS_REDIRECT_PORT'),
    /** Strict-Transport-Security max-age on HTTPS responses; 0: no header. */
    hstsMaxAgeSeconds: field('sa-nat', 31_536_000),
    /** Where `certbot --webroot` writes its challenges; empty: none served. */
    acmeWebroot: field('sa-any-string', '', 'ACME_WEBROOT'),
  },
  compression: COMPRESSION_SCHEMA,
  /** Per client address, over all threads. */
  rateLimits: {
    /** Every request. */
    requests: bucket('RATE_LIMIT_PER_MINUTE', 'RATE_LIMIT_BURST'),
    /** Log-in and sign-up: requests with one of `methods` to one of `paths`. */
    auth: {
      ...bucket('AUTH_RATE_LIMIT_PER_MINUTE', 'AUTH_RATE_LIMIT_BURST'),
      paths: field('sa-paths', []),
      methods: field('sa-methods', ['POST']),
    },
  },
  /**
   * Addresses or CIDR ranges of proxies in front (a cloud load balancer): from them, and only
   * from them, X-Forwarded-For names the client and X-Forwarded-Proto its scheme.
   */
  trustedProxies: field('sa-cidrs', []),
};
export type EdgeConfig = ValuesOf<typeof EDGE_SCHEMA>;
export type TlsConfig = EdgeConfig['tls'];
export type RateLimitConfig = EdgeConfig['rateLimits'];
export type BucketConfig = RateLimitConfig['requests'];
export type PreviewsConfig = EdgeConfig['previews'];

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

/** The schema's defaults: sensible for one host serving browsers and apps. */
export const DEFAULT_LIMITS: BalancerLimits = defaultsOf(LIMITS_SCHEMA);
export const DEFAULT_EDGE: EdgeConfig = defaultsOf(EDGE_SCHEMA);
