// Every message between the primary thread and its workers. The primary is the hub: workers
// never talk to each other directly (balancer → primary → heartbeat for a suspect replica), so
// a restarted worker only needs the primary to replay state to it.
//
// Snapshots (routes, targets) carry a version; a receiver ignores a version it already has.
//
// The balancer may run as several threads: each gets every message below. Request counts travel
// through shared memory (balancer/shared-state.ts), not messages: the scaler reads what it
// counts, the primary what each replica served.

// ---- primary → balancer ---------------------------------------------------------------------

export interface RouteReplica {
  id: string;
  port: number;
  url: string;
  /** In rotation: passed its health check, not draining, not held out (unready or slow). */
  ready: boolean;
  /**
   * Was ready and is alive, in rotation or held out of it: below the panic threshold the balancer
   * balances across these rather than answer 503 (Envoy's panic mode).
   */
  live: boolean;
}

export interface RoutesMessage {
  type: 'routes';
  version: number;
  services: Record<string, { prefixes: string[]; replicas: RouteReplica[] }>;
}

/** Answer with `drained` once this thread has no request to this replica in flight. */
export interface DrainMessage {
  type: 'drain';
  id: string;
  /** The replica's shared-memory slot (it may have left the routes already). */
  slot: number;
}

/** Stop accepting, let in-flight requests finish (bounded), then answer `closed`. */
export interface CloseMessage {
  type: 'close';
  timeoutMs: number;
}

/** A new certificate (PEM) for new TLS connections; connections open keep theirs. */
export interface TlsMessage {
  type: 'tls';
  cert: string;
  key: string;
}

/**
 * The heartbeat confirmed a replica failed: requests in flight to it end now (a safe one tries
 * another replica) instead of waiting for their deadlines or for the replica's removal.
 */
export interface AbandonMessage {
  type: 'abandon';
  id: string;
}

/** Start accepting on the inherited socket (sent once the fleet can serve; see `inherited`). */
export interface AcceptMessage {
  type: 'accept';
}

export type ToBalancer = RoutesMessage | DrainMessage | CloseMessage | TlsMessage | AbandonMessage | AcceptMessage;

// ---- balancer → primary ---------------------------------------------------------------------

export interface ListeningMessage {
  type: 'listening';
  host: string;
  port: number;
  /** The plain port that redirects to HTTPS, rather than the public listener. */
  redirect?: boolean;
}

export interface DrainedMessage {
  type: 'drained';
  id: string;
}

/** An attempt on a replica failed (refused, reset, timed out, 5xx in a row); the heartbeat should look at it now. */
export interface SuspectMessage {
  type: 'suspect';
  id: string;
  outcome: 'refused' | 'reset' | 'timeout' | 'server-error';
  reason: string;
}

export interface ClosedMessage {
  type: 'closed';
}

/** The listener could not bind (the port taken, no permission): the thread exits and is restarted. */
export interface ListenFailedMessage {
  type: 'listen-failed';
  host: string;
  port: number;
  code: string;
  message: string;
  redirect?: boolean;
}

/**
 * A client the edge refused for who it is (over its rate limit or its connections): reported at
 * most once a minute per client and kind by each thread, with how many refusals that was.
 */
export interface SecurityMessage {
  type: 'security';
  event: 'rate-limited' | 'connections-capped';
  client: string;
  /** What was spent ("log-in and sign-up attempts", "requests", "connections"). */
  what: string;
  refusals: number;
}

export type FromBalancer =
  | ListeningMessage
  | ListenFailedMessage
  | DrainedMessage
  | SuspectMessage
  | ClosedMessage
  | SecurityMessage
  | WorkerFailure;

// ---- primary → heartbeat --------------------------------------------------------------------

export interface Target {
  id: string;
  service: string;
  port: number;
  /** Full URL of the health check (readiness: may this replica take traffic?). */
  url: string;
  /** Full URL of the liveness check, asked when the health check fails (is it alive at all?). */
  liveUrl: string;
  /** Starting replicas are polled faster, to bring them into rotation sooner. */
  phase: 'starting' | 'ready';
  since: number;
}

export interface TargetsMessage {
  type: 'targets';
  version: number;
  targets: Target[];
}

export interface CheckNowMessage {
  type: 'check';
  id: string;
}

export type ToHeartbeat = TargetsMessage | CheckNowMessage;

// ---- heartbeat → primary --------------------------------------------------------------------

/**
 * ok: the health check passed. failing: it failed, fewer than failureThreshold times in a row.
 * unready: it failed failureThreshold times in a row, but the replica is alive (take it out of
 * rotation, keep it). failed: it is dead or stuck (replace it).
 */
export type Verdict = 'ok' | 'failing' | 'unready' | 'failed';

/**
 * Why a replica is unready or failed. slow: its health checks got no answer in time, yet it
 * answers its liveness check (a busy host looks like this). unready: it answered that it cannot
 * serve (its dependency is down). dead: its liveness check was refused or answered an error
 * failureThreshold times in a row. stuck: its liveness check got no answer within
 * livenessTimeoutMs.
 */
export type HealthCause = 'slow' | 'unready' | 'dead' | 'stuck';

/** Sent only when (verdict, consecutiveFailures, cause) changes: a run of oks is silent. */
export interface HealthMessage {
  type: 'health';
  id: string;
  verdict: Verdict;
  consecutiveFailures: number;
  /** With 'unready' and 'failed'. */
  cause?: HealthCause;
  reason: string;
  latencyMs: number;
}

/**
 * The latest check's response time of each replica checked since the last report: at most one
 * report per interval, for the metrics (verdicts stay silent while nothing changes).
 */
export interface LatencyReport {
  type: 'latencies';
  latencyMs: Record<string, number>;
}

export type FromHeartbeat = HealthMessage | LatencyReport | WorkerFailure;

// ---- primary → scaler -----------------------------------------------------------------------

/** Start a window now even without a request (after adopting more replicas than the minimum). */
export interface OpenWindowMessage {
  type: 'open-window';
  service: string;
  at: number;
}

/** The windows as the scaler last reported them, replayed to a restarted scaler. */
export interface ResumeMessage {
  type: 'resume';
  windows: WindowStatus[];
  current: Record<string, number>;
}

/** How many replicas each service has now (for damping and the reason text). */
export interface CurrentMessage {
  type: 'current';
  current: Record<string, number>;
}

export type ToScaler = OpenWindowMessage | ResumeMessage | CurrentMessage;

// ---- scaler → primary -----------------------------------------------------------------------

export interface WindowStatus {
  service: string;
  startedAt: number;
  endsAt: number;
  /** The service's policy: window length and the formula's divisor. */
  windowSeconds: number;
  requestsPerReplica: number;
  requests: number;
  nextDesired: number;
  nextThreshold: number;
  reason: string;
  /** Recommendations of recent windows, newest last (for damping). */
  history: number[];
}

export interface WindowMessage {
  type: 'window';
  window: WindowStatus | { service: string; closed: true };
}

/** Why a window decided what it did (scaler/policy.ts). */
export type DecisionCode = 'load' | 'raised-to-min' | 'capped-at-max' | 'held-by-damping';

export interface ScaleMessage {
  type: 'scale';
  service: string;
  desired: number;
  /** Why, as a code (scaler/policy.ts) and in words. */
  code: DecisionCode;
  reason: string;
  requests: number;
  windowStartedAt: number;
  windowEndsAt: number;
}

export type FromScaler = WindowMessage | ScaleMessage | WorkerFailure;

// ---- any worker → primary -------------------------------------------------------------------

/** An error a worker survived but wants logged; `code` because Error subclasses lose theirs. */
export interface WorkerFailure {
  type: 'worker-error';
  code: string;
  message: string;
}

/** Keeps the newest snapshot only: versions at or below the last seen are dropped. */
export class SnapshotGate {
  #last = -1;

  accept(version: number): boolean {
    if (version <= this.#last) return false;
    this.#last = version;
    return true;
  }
}
