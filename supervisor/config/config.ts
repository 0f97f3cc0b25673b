// The deployment, as config/orchestrator.json describes it: a convict schema with env
// overrides, then the services map checked field by field. Any problem stops start-up with
// the key, the value and what was expected (ConfigError), never a half-valid config.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import convict from 'convict';
import * as c from '../schema/checks.ts';
import { ConfigError, type ConfigIssue } from '../schema/error.ts';
import { didYouMean, schemaKeysAt } from '../schema/suggest.ts';
import { field as f, formatCheck, registerFormat, takeFormatProblems, type ValuesOf } from '../schema/formats.ts';
import { SCALING_SCHEMA } from '../schema/scaling.ts';
import { envIssues, parseServices, portRange, type ServiceConfig } from '../schema/service.ts';
import { EDGE_SCHEMA, LIMITS_SCHEMA } from '../balancer/settings.ts';
import { RUNTIMES, type RuntimeName, type RuntimeSettings } from '../runtime/registry.ts';

export { ConfigError, describeIssue, type ConfigIssue } from '../schema/error.ts';
export type { ServiceConfig } from '../schema/service.ts';

export type RuntimeChoice = 'auto' | RuntimeName;

/** The deployment as read: the schema's values (each key declared once, below), with the runtimes' sections and the two free maps. */
export type Config = Omit<ValuesOf<typeof SCHEMA>, 'runtimes' | 'env' | 'services'> & {
  /** Each runtime's own settings, under its name (runtime/registry.ts). */
  runtimes: RuntimeSettings;
  /**
   * Every replica's environment, as templates (templates.ts: {{replica:port}}, {{env:NAME:-x}},
   * {{secret:NAME}} ...); a service's own env wins key by key. Nothing else is set.
   */
  env: Record<string, string>;
  services: ServiceConfig[];
};

registerFormat('sa-runtime', c.oneOf(['auto', ...RUNTIMES.map((r) => r.name)]));

const SCHEMA = {
  /** Names this supervisor's replicas (label <labelPrefix>.supervisor), so two never adopt each other's. */
  instance: f('sa-string', 'main', 'SUPERVISOR_INSTANCE'),
  /** Prefix of every label the supervisor puts on what it makes (<prefix>.service, .port, ...). */
  labelPrefix: f('sa-label-prefix', 'supervisor'),
  runtime: f<'sa-runtime', RuntimeChoice>('sa-runtime', 'auto', 'RUNTIME'),
  runtimes: Object.fromEntries(RUNTIMES.map((r) => [r.name, r.schema])),
  listen: { host: f('sa-string', '0.0.0.0', 'LISTEN_HOST'), port: f('sa-port', 3000, 'LISTEN_PORT') },
  /** token: when set, every POST to the admin API must carry it (X-Admin-Token). */
  admin: {
    host: f('sa-string', '127.0.0.1', 'ADMIN_HOST'),
    port: f('sa-port', 3001, 'ADMIN_PORT'),
    token: f('sa-any-string', '', 'ADMIN_TOKEN'),
  },
  /**
   * The public listener: threads accepting on listen.port (reusePort), whether /dashboard and
   * /admin/* are served there (to loopback clients only), how replies are read, and its limits
   * against slow, greedy or hostile clients (declared by the balancer: balancer/settings.ts).
   */
  balancer: {
    threads: f('sa-threads', 1, 'BALANCER_THREADS'),
    adminOnListener: f('sa-boolean', false, 'BALANCER_ADMIN_ON_LISTENER'),
    upstreamParser: f('sa-upstream-parser', 'auto', 'UPSTREAM_PARSER'),
    ...LIMITS_SCHEMA,
    ...EDGE_SCHEMA,
  },
  publishHost: f('sa-string', '127.0.0.1', 'PUBLISH_HOST'),
  /** Absolute once read. Holds secrets.json, process-runtime state and logs, and replicas/ (their DATA_DIR). */
  dataDir: f('sa-string', './data', 'DATA_DIR'),
  heartbeat: {
    intervalMs: f('sa-positive-int', 1000, 'HEARTBEAT_INTERVAL_MS'),
    timeoutMs: f('sa-positive-int', 800, 'HEARTBEAT_TIMEOUT_MS'),
    failureThreshold: f('sa-positive-int', 3, 'HEARTBEAT_FAILURE_THRESHOLD'),
    fastIntervalMs: f('sa-positive-int', 200),
    /** A liveness check (asked after a failed health check) with no answer within this: stuck, replaced. */
    livenessTimeoutMs: f('sa-positive-int', 5000, 'HEARTBEAT_LIVENESS_TIMEOUT_MS'),
    /**
     * At most this share (%) of a service's ready replicas is taken out of rotation, or replaced,
     * for missed answers at once (Envoy's max_ejection_percent); at least one may always be
     * replaced. Replicas that exited, answer that they are unready, or fail their liveness check
     * outright are not held back by it.
     */
    maxEjectedPercent: f('sa-percent', 50),
  },
  /**
   * What the replicas may use of this host, so scaling never starts what does not fit: memory
   * (0: found from the runtime, the host's or this process's cgroup's), less a reserve for the
   * supervisor and the engine; replicas booting at once.
   */
  capacity: {
    memoryMb: f('sa-nat', 0, 'CAPACITY_MEMORY_MB'),
    reserveMb: f('sa-nat', 256, 'CAPACITY_RESERVE_MB'),
    maxStarting: f('sa-positive-int', 2, 'CAPACITY_MAX_STARTING'),
  },
  /** Every autoscaled service's policy, unless its own `scaling` says otherwise (services.<name>.scaling). */
  scaling: SCALING_SCHEMA,
  backoff: {
    initialMs: f('sa-positive-int', 1000),
    maxMs: f('sa-positive-int', 30000),
    resetAfterMs: f('sa-positive-int', 10000),
  },
  drainTimeoutMs: f('sa-nat', 10000, 'DRAIN_TIMEOUT_MS'),
  startTimeoutMs: f('sa-positive-int', 30000, 'START_TIMEOUT_MS'),
  stopGraceSeconds: f('sa-nat', 5, 'STOP_GRACE_SECONDS'),
  onShutdown: f('sa-on-shutdown', 'remove', 'ON_SHUTDOWN'),
  /** Absolute once read; served by the balancer for paths no service routes. */
  staticDir: f('sa-string', './public', 'STATIC_DIR'),
  /** Paths answered 403 from outside (compared case-insensitively, after normalising). */
  blockedPaths: f('sa-paths', []),
  /** Paths routed but not counted as load for scaling. */
  uncountedPaths: f('sa-paths', []),
  // Maps with free keys: convict treats format Object as one leaf; they are checked below.
  env: { format: Object, default: {} },
  services: { format: Object, default: {} },
};

/** Keys of earlier versions, and where their settings live now. */
const MOVED: Record<string, string> = {
  docker: 'runtimes.docker (and runtimes.podman for Podman): {socket, network, user, labels, hostLoopbackEnv}',
  generatedSecrets:
    'env templates: "SESSION_SECRET": "{{secret:SESSION_SECRET}}" (or "{{env:SESSION_SECRET:-{{secret:SESSION_SECRET}}}}" to let the environment give it)',
};

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** Relative paths in the file resolve against this (default: the current directory). */
  cwd?: string;
}

export function loadConfigFile(file: string, options: LoadOptions = {}): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([
      { key: '(file)', value: file, expected: `a readable config file (${(err as Error).message})` },
    ]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError([{ key: '(file)', value: file, expected: `valid JSON (${(err as Error).message})` }]);
  }
  return parseConfig(raw, options);
}

export function parseConfig(raw: unknown, options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  if (!c.isPlainObject(raw)) throw new ConfigError([{ key: '(root)', value: raw, expected: 'a JSON object' }]);
  // convict reads env overrides and argv itself; give it ours and no argv.
  const conf = convict(SCHEMA, { env, args: [] });
  const moved = Object.keys(raw).filter((key) => key in MOVED);
  const issues: ConfigIssue[] = moved.map((key) => ({
    key,
    value: raw[key],
    expected: `no such key any more: its settings moved to ${MOVED[key]}`,
  }));
  const current = Object.fromEntries(Object.entries(raw).filter(([key]) => !(key in MOVED)));
  issues.push(...objectsForLeaves(current, SCHEMA));
  takeFormatProblems();
  try {
    conf.load(current);
    conf.validate({ allowed: 'strict' });
  } catch (err) {
    const seen = new Set(issues.map((i) => `${i.key} ${i.expected}`));
    issues.push(...convictIssues(err as Error, env).filter((i) => !seen.has(`${i.key} ${i.expected}`)));
  }
  const props = conf.getProperties() as unknown as Omit<Config, 'services'> & { services: unknown };
  const parsed = parseServices(props.services, props.scaling, env);
  const envProblem = c.stringMap(props.env);
  if (envProblem) issues.push({ key: 'env', value: props.env, expected: envProblem });
  else issues.push(...envIssues('env', props.env, new Set(parsed.services.map((s) => s.name)), env));
  issues.push(
    ...parsed.issues,
    ...listenerClashes(props, parsed.services),
    ...balancerChecks(props.balancer),
    ...heartbeatChecks(props.heartbeat),
  );
  if (issues.length) throw new ConfigError(issues);
  const cwd = options.cwd ?? process.cwd();
  const absolute = (file: string) => (file === '' ? '' : path.resolve(cwd, file));
  const tls = props.balancer.tls;
  return {
    ...props,
    balancer: {
      ...props.balancer,
      tls: {
        ...tls,
        certFile: absolute(tls.certFile),
        keyFile: absolute(tls.keyFile),
        acmeWebroot: absolute(tls.acmeWebroot),
      },
    },
    dataDir: path.resolve(cwd, props.dataDir),
    staticDir: path.resolve(cwd, props.staticDir),
    env: props.env,
    services: parsed.services,
  };
}

function convictIssues(err: Error, env: NodeJS.ProcessEnv): ConfigIssue[] {
  const issues: ConfigIssue[] = takeFormatProblems()
    .filter((p) => p.fullName !== undefined)
    .map((p) => ({ key: withEnvName(p.fullName!, env), value: p.value, expected: p.message }));
  for (const line of err.message.split('\n')) {
    const undeclared = /^configuration param '(.+)' not declared in the schema/.exec(line);
    if (undeclared?.[1])
      issues.push({
        key: undeclared[1],
        value: '(unknown key)',
        expected: `only keys the schema declares (see config/orchestrator.json)${suggestKey(undeclared[1])}`,
      });
    const missing = /^configuration param '(.+)' missing from config/.exec(line);
    if (missing?.[1]) issues.push({ key: missing[1], value: undefined, expected: 'an object with its keys' });
  }
  if (issues.length === 0) issues.push({ key: '(root)', value: '(see message)', expected: err.message });
  return issues;
}

/**
 * convict merges an object given for a leaf key into the default (`"labels": {"a": 1}` would
 * leave `[]` and say nothing), so such values are caught before it sees them.
 */
function objectsForLeaves(raw: Record<string, unknown>, schema: object, prefix = ''): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const [key, node] of Object.entries(schema) as [string, Record<string, unknown>][]) {
    const value = raw[key];
    if (!c.isPlainObject(value)) continue;
    const check = typeof node.format === 'string' ? formatCheck(node.format) : undefined;
    if (check) issues.push({ key: prefix + key, value, expected: check(value) ?? 'not an object' });
    else if (!('format' in node)) issues.push(...objectsForLeaves(value, node, `${prefix}${key}.`));
  }
  return issues;
}

/** For the first part of `key` the schema does not know ("heartbaet" of "heartbaet.intervalMs"). */
function suggestKey(key: string): string {
  const parts = key.split('.');
  for (let i = 0; i < parts.length; i++) {
    const known = schemaKeysAt(SCHEMA, parts.slice(0, i));
    if (!known.includes(parts[i]!)) return didYouMean(parts[i]!, known);
  }
  return '';
}

/** "listen.port (from env LISTEN_PORT)" when the bad value came from the environment. */
function withEnvName(key: string, env: NodeJS.ProcessEnv): string {
  let node: unknown = SCHEMA;
  for (const part of key.split('.')) node = (node as Record<string, unknown> | undefined)?.[part];
  const name = (node as { env?: string } | undefined)?.env;
  return name && env[name] !== undefined ? `${key} (from env ${name})` : key;
}

function heartbeatChecks(h: Config['heartbeat']): ConfigIssue[] {
  // A liveness check shorter than a health check would call stuck what is merely slow.
  if (h.livenessTimeoutMs < h.timeoutMs) {
    return [
      {
        key: 'heartbeat.livenessTimeoutMs',
        value: h.livenessTimeoutMs,
        expected: `at least heartbeat.timeoutMs (${h.timeoutMs})`,
      },
    ];
  }
  return [];
}

function balancerChecks(b: Config['balancer']): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  // Node refuses a head deadline beyond the whole-request one.
  if (b.headersTimeoutMs > b.requestTimeoutMs) {
    issues.push({
      key: 'balancer.headersTimeoutMs',
      value: b.headersTimeoutMs,
      expected: `at most balancer.requestTimeoutMs (${b.requestTimeoutMs})`,
    });
  }
  // The per-attempt deadline is the shorter one: a longer one would never fire.
  if (b.upstreamHeaderTimeoutMs > b.upstreamTimeoutMs) {
    issues.push({
      key: 'balancer.upstreamHeaderTimeoutMs',
      value: b.upstreamHeaderTimeoutMs,
      expected: `at most balancer.upstreamTimeoutMs (${b.upstreamTimeoutMs})`,
    });
  }
  const { certFile, keyFile, redirectPort } = b.tls;
  if ((certFile === '') !== (keyFile === '')) {
    const [key, value] = certFile === '' ? ['balancer.tls.certFile', certFile] : ['balancer.tls.keyFile', keyFile];
    issues.push({
      key,
      value,
      expected:
        'a PEM file path, given with balancer.tls.certFile and balancer.tls.keyFile together (or both empty for plain HTTP)',
    });
  }
  if (redirectPort !== 0 && certFile === '') {
    issues.push({
      key: 'balancer.tls.redirectPort',
      value: redirectPort,
      expected: '0 while TLS is off (balancer.tls.certFile empty): it redirects to HTTPS',
    });
  }
  for (const name of ['requests', 'auth'] as const) {
    const bucket = b.rateLimits[name];
    if (bucket.perMinute > 0 && bucket.burst < 1) {
      issues.push({
        key: `balancer.rateLimits.${name}.burst`,
        value: bucket.burst,
        expected: `at least 1 while balancer.rateLimits.${name}.perMinute is set`,
      });
    }
  }
  if (b.rateLimits.auth.perMinute > 0 && b.rateLimits.auth.paths.length === 0) {
    issues.push({
      key: 'balancer.rateLimits.auth.paths',
      value: [],
      expected: 'the log-in and sign-up paths while balancer.rateLimits.auth.perMinute is set',
    });
  }
  return issues;
}

function listenerClashes(
  props: { listen: { port: number }; admin: { port: number }; balancer: { tls: { redirectPort: number } } },
  services: ServiceConfig[],
): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (props.listen.port !== 0 && props.listen.port === props.admin.port) {
    issues.push({
      key: 'admin.port',
      value: props.admin.port,
      expected: `a port other than listen.port (${props.listen.port})`,
    });
  }
  const redirect = props.balancer.tls.redirectPort;
  if (redirect !== 0 && (redirect === props.listen.port || redirect === props.admin.port)) {
    issues.push({
      key: 'balancer.tls.redirectPort',
      value: redirect,
      expected: `a port other than listen.port (${props.listen.port}) and admin.port (${props.admin.port})`,
    });
  }
  const ports = [
    ['listen.port', props.listen.port],
    ['admin.port', props.admin.port],
  ] as Array<[string, number]>;
  if (redirect !== 0) ports.push(['balancer.tls.redirectPort', redirect]);
  for (const s of services) {
    const [lo, hi] = portRange(s);
    for (const [key, port] of ports) {
      if (port >= lo && port <= hi) {
        issues.push({ key, value: port, expected: `a port outside services.${s.name}'s range ${lo}-${hi}` });
      }
    }
  }
  return issues;
}

export function serviceByName(config: Config, name: string): ServiceConfig | undefined {
  return config.services.find((s) => s.name === name);
}
