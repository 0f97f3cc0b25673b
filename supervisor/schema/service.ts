// The `services` map of the config: convict has no schema for maps with free keys, so each
// service is checked here, field by field, with the same key/value/expected issues.
import * as c from './checks.ts';
import type { ConfigIssue } from './error.ts';
import { didYouMean } from './suggest.ts';
import { STRATEGIES, type StrategyName } from '../balancer/strategy.ts';
import { parseTemplate, refsOf } from './templates.ts';

export interface ServiceConfig {
  name: string;
  /** Image for the docker runtime. */
  image?: string;
  /** argv for the process runtime ("node" means the node running the supervisor). */
  command?: string[];
  /**
   * The process runtime's build step, in place of an image build: replicas run `build.run` from
   * what `build.command` made (runtime/service-build.ts); `command` stays what runs without it
   * (runtimes.process.bundle false).
   */
  build?: ServiceBuild;
  env: Record<string, string>;
  replicas: { initial: number; min: number; max: number };
  startPort: number;
  /** Port the app listens on inside its container (docker); the process runtime uses the host port. */
  containerPort: number;
  /** The health check: may this replica take traffic (readiness)? Asked every heartbeat interval. */
  healthPath: string;
  /**
   * The liveness check, asked when the health check fails: is the replica alive at all? Absent:
   * the health path again, with the liveness timeout. A replica that fails its health check but
   * passes this one leaves the rotation and is kept; one that fails both is replaced.
   */
  livenessPath?: string;
  /** Path prefixes routed to this service by the balancer; the longest match wins. */
  routes: string[];
  autoscale: boolean;
  /** How the balancer picks a replica: strict round robin, or the fewest requests in flight. */
  strategy: StrategyName;
  /** The service's scaling policy: the config's `scaling`, overridden key by key by the service's own. */
  scaling: ScalingSettings;
  /**
   * memoryMb is the limit a replica is held to; memoryRequestMb (default: memoryMb) what capacity
   * counts it at, as Kubernetes schedules by requests and kills at limits: replicas idle far
   * below their limit, and counting each at its limit leaves most of a small machine unused.
   */
  resources: { memoryMb: number; cpus: number; memoryRequestMb: number };
}

export interface ServiceBuild {
  /**
   * Run once per supervisor start, before the service's first replica, in the supervisor's
   * directory; `{{build:cache}}` names where it may keep what it makes (dataDir/builds). Its
   * last line of output names the directory of its result.
   */
  command: string[];
  /** A replica's argv, `{{build:dir}}` naming that directory. */
  run: string[];
}

type Field = {
  check: c.Check;
  default?: unknown;
};

export interface ScalingSettings {
  windowSeconds: number;
  requestsPerReplica: number;
  dampingWindows: number;
}

const FIELDS: Record<string, Field> = {
  image: { check: c.nonEmptyString },
  command: { check: c.arrayOf(c.nonEmptyString, 'non-empty strings', true) },
  build: { check: buildShape },
  env: { check: c.stringMap, default: {} },
  replicas: { check: replicasShape },
  startPort: { check: c.intIn(1, 65535) },
  containerPort: { check: c.intIn(1, 65535) },
  healthPath: { check: c.urlPath },
  livenessPath: { check: c.urlPath },
  routes: { check: c.arrayOf(c.urlPath, 'paths starting with "/"'), default: [] },
  autoscale: { check: c.boolean, default: false },
  strategy: { check: c.oneOf(STRATEGIES), default: 'round-robin' },
  resources: { check: resourcesShape, default: { memoryMb: 256, cpus: 0.5 } },
  scaling: { check: scalingShape, default: {} },
};
const REQUIRED = ['replicas', 'startPort', 'healthPath'];

function replicasShape(v: unknown): string | undefined {
  const expected = 'an object {initial, min, max} of integers with 1 <= min <= initial <= max <= 1000';
  if (!c.isPlainObject(v)) return expected;
  const keys = Object.keys(v).sort().join(',');
  if (keys !== 'initial,max,min') return expected;
  const { initial, min, max } = v;
  if ([initial, min, max].some((n) => c.intIn(1, 1000)(n) !== undefined)) return expected;
  const [i, lo, hi] = [initial, min, max] as number[];
  return lo! <= i! && i! <= hi! ? undefined : expected;
}

function buildShape(v: unknown): string | undefined {
  const expected =
    'an object {command, run}: non-empty arrays of non-empty strings, where command may name {{build:cache}} and run must name {{build:dir}}';
  if (!c.isPlainObject(v)) return expected;
  if (Object.keys(v).sort().join(',') !== 'command,run') return expected;
  const argv = c.arrayOf(c.nonEmptyString, 'x', true);
  if (argv(v.command) !== undefined || argv(v.run) !== undefined) return expected;
  const templates = (args: string[]) => args.flatMap((arg) => arg.match(/\{\{[^}]*\}\}/g) ?? []);
  if (templates(v.command as string[]).some((t) => t !== '{{build:cache}}')) return expected;
  const inRun = templates(v.run as string[]);
  return inRun.length > 0 && inRun.every((t) => t === '{{build:dir}}') ? undefined : expected;
}

function scalingShape(v: unknown): string | undefined {
  const expected =
    'an object with any of windowSeconds, requestsPerReplica (integers >= 1) and dampingWindows (integer >= 0)';
  if (!c.isPlainObject(v)) return expected;
  const checks: Record<string, c.Check> = {
    windowSeconds: c.intIn(1, 2_147_483_647),
    requestsPerReplica: c.intIn(1, 2_147_483_647),
    dampingWindows: c.intIn(0, 1000),
  };
  return Object.entries(v).every(([key, value]) => key in checks && checks[key]!(value) === undefined)
    ? undefined
    : expected;
}

function resourcesShape(v: unknown): string | undefined {
  const expected =
    'an object {memoryMb: integer >= 16, cpus: number > 0} and optionally memoryRequestMb: an integer from 16 to memoryMb';
  if (!c.isPlainObject(v)) return expected;
  const keys = Object.keys(v).sort().join(',');
  if (keys !== 'cpus,memoryMb' && keys !== 'cpus,memoryMb,memoryRequestMb') return expected;
  if (c.intIn(16, 1_048_576)(v.memoryMb) !== undefined) return expected;
  if (v.memoryRequestMb !== undefined && c.intIn(16, v.memoryMb as number)(v.memoryRequestMb) !== undefined)
    return expected;
  return c.positiveNumber(v.cpus) === undefined ? undefined : expected;
}

/** Checks every service; returns the parsed services and the issues found. */
export function parseServices(
  raw: unknown,
  scaling: ScalingSettings,
  supervisorEnv: NodeJS.ProcessEnv,
): { services: ServiceConfig[]; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  if (!c.isPlainObject(raw) || Object.keys(raw).length === 0) {
    issues.push({ key: 'services', value: raw, expected: 'an object with at least one service' });
    return { services: [], issues };
  }
  const services: ServiceConfig[] = [];
  for (const [name, body] of Object.entries(raw)) {
    const base = `services.${name}`;
    const nameProblem = c.serviceName(name);
    if (nameProblem) issues.push({ key: base, value: name, expected: nameProblem });
    if (!c.isPlainObject(body)) {
      issues.push({ key: base, value: body, expected: 'an object describing the service' });
      continue;
    }
    const before = issues.length;
    for (const key of Object.keys(body)) {
      if (!(key in FIELDS)) {
        issues.push({
          key: `${base}.${key}`,
          value: body[key],
          expected: `one of the keys ${Object.keys(FIELDS).join(', ')}${didYouMean(key, Object.keys(FIELDS))}`,
        });
      }
    }
    const value: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(FIELDS)) {
      const given = body[key];
      if (given === undefined) {
        if (REQUIRED.includes(key))
          issues.push({ key: `${base}.${key}`, value: undefined, expected: field.check(undefined) ?? 'a value' });
        else if (field.default !== undefined) value[key] = structuredClone(field.default);
        continue;
      }
      const problem = field.check(given);
      if (problem) issues.push({ key: `${base}.${key}`, value: given, expected: problem });
      else value[key] = given;
    }
    if (issues.length > before) continue;
    value.containerPort ??= value.startPort;
    const resources = value.resources as Omit<ServiceConfig['resources'], 'memoryRequestMb'> & {
      memoryRequestMb?: number;
    };
    value.resources = { ...resources, memoryRequestMb: resources.memoryRequestMb ?? resources.memoryMb };
    value.scaling = { ...scaling, ...(value.scaling as Partial<ScalingSettings>) };
    services.push({ name, ...(value as Omit<ServiceConfig, 'name'>) });
  }
  if (issues.length === 0) issues.push(...crossChecks(services, supervisorEnv));
  return { services, issues };
}

/** Rules between services: port ranges apart, templates naming services that exist. */
function crossChecks(services: ServiceConfig[], supervisorEnv: NodeJS.ProcessEnv): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const names = new Set(services.map((s) => s.name));
  for (const s of services) {
    const last = s.startPort + s.replicas.max - 1;
    if (last > 65535) {
      issues.push({
        key: `services.${s.name}.startPort`,
        value: s.startPort,
        expected: `a port leaving room for ${s.replicas.max} replicas (startPort + max - 1 <= 65535)`,
      });
    }
    for (const other of services) {
      if (other === s || other.name < s.name) continue;
      const otherLast = other.startPort + other.replicas.max - 1;
      if (s.startPort <= otherLast && other.startPort <= last) {
        issues.push({
          key: `services.${other.name}.startPort`,
          value: other.startPort,
          expected: `a port range not overlapping services.${s.name} (${s.startPort}-${last})`,
        });
      }
    }
    issues.push(...envIssues(`services.${s.name}.env`, s.env, names, supervisorEnv));
  }
  return issues;
}

/**
 * An `env` map's keys are variable names and its values templates that parse, name services that
 * exist, and name variables the supervisor has (or give a default).
 */
export function envIssues(
  base: string,
  env: Record<string, string>,
  services: ReadonlySet<string>,
  supervisorEnv: NodeJS.ProcessEnv,
): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const [key, value] of Object.entries(env)) {
    const keyProblem = c.envName(key);
    if (keyProblem) issues.push({ key: base, value: key, expected: keyProblem });
    const parsed = parseTemplate(value);
    if ('problem' in parsed) {
      issues.push({ key: `${base}.${key}`, value, expected: `a template (docs/operations.md): ${parsed.problem}` });
      continue;
    }
    for (const ref of refsOf(parsed.parts)) {
      if ((ref.kind === 'service' || ref.kind === 'replicas') && !services.has(ref.name)) {
        issues.push({
          key: `${base}.${key}`,
          value,
          expected: `{{${ref.kind}:<name>}} naming a configured service (${[...services].join(', ')})`,
        });
      }
    }
    // Inside a default, a variable is needed only when the one around it is missing: left to the start.
    for (const part of parsed.parts) {
      if (typeof part !== 'string' && part.kind === 'env' && !part.fallback && !supervisorEnv[part.name]) {
        issues.push({
          key: `${base}.${key}`,
          value,
          expected: `${part.name} set in the supervisor's environment, or a default: {{env:${part.name}:-...}}`,
        });
      }
    }
  }
  return issues;
}

/** Ports a service may ever use, for clash checks against the listeners. */
export function portRange(s: ServiceConfig): [number, number] {
  return [s.startPort, s.startPort + s.replicas.max - 1];
}
