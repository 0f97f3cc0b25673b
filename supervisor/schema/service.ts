// The `services` map of the config: convict has no schema for maps with free keys, so each
// service is read here, key by key, against SERVICE_SCHEMA: the same fields and named formats as
// the rest of the config (formats.ts), the same key/value/expected issues. ServiceConfig is
// derived from the schema; only what reading fills in is spelled out.
import type { ConfigIssue } from './error.ts';
import { formatCheck, optional, required, field, type ValuesOf } from './formats.ts';
import * as c from './checks.ts';
import { didYouMean } from './suggest.ts';
import { parseTemplate, refsOf } from './templates.ts';
import { SERVICE_SCALING, type ScalingSettings } from './scaling.ts';
import type { Resources } from './service-values.ts';

export type { ScalingSettings } from './scaling.ts';
export type { Replicas, Resources, ServiceBuild, StrategyName } from './service-values.ts';
export { STRATEGY_NAMES } from './service-values.ts';

/** services.<name>: every key a service may give (docs/operations.md has a row for each). */
export const SERVICE_SCHEMA = {
  /** Image for the docker and podman runtimes. */
  image: optional('sa-string'),
  /** argv for the process runtime ("node" means the node running the supervisor). */
  command: optional('sa-argv'),
  /**
   * The process runtime's build step, in place of an image build: replicas run `build.run` from
   * what `build.command` made (runtime/service-build.ts); `command` stays what runs without it
   * (runtimes.process.bundle false).
   */
  build: optional('sa-build'),
  env: field('sa-string-map', {}),
  replicas: required('sa-replicas'),
  startPort: required('sa-service-port'),
  /** Port the app listens on inside its container (docker); the process runtime uses the host port. Default: startPort. */
  containerPort: optional('sa-service-port'),
  /** The health check: may this replica take traffic (readiness)? Asked every heartbeat interval. */
  healthPath: required('sa-path'),
  /**
   * The liveness check, asked when the health check fails: is the replica alive at all? Absent:
   * the health path again, with the liveness timeout. A replica that fails its health check but
   * passes this one leaves the rotation and is kept; one that fails both is replaced.
   */
  livenessPath: optional('sa-path'),
  /** Path prefixes routed to this service by the balancer; the longest match wins. */
  routes: field('sa-paths', []),
  autoscale: field('sa-boolean', false),
  strategy: field('sa-strategy', 'round-robin'),
  /** memoryRequestMb defaults to memoryMb. */
  resources: field('sa-resources', { memoryMb: 256, cpus: 0.5 }),
  /** The service's scaling policy: the config's `scaling`, overridden key by key by the service's own. */
  scaling: SERVICE_SCALING,
};

/** A service as read: the schema's values, with what reading fills in (below) no longer optional. */
export type ServiceConfig = { name: string } & Omit<
  ValuesOf<typeof SERVICE_SCHEMA>,
  'containerPort' | 'resources' | 'scaling'
> & {
    containerPort: number;
    resources: Required<Resources>;
    scaling: ScalingSettings;
  };

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
    const keys = Object.keys(SERVICE_SCHEMA);
    for (const key of Object.keys(body)) {
      if (!(key in SERVICE_SCHEMA)) {
        issues.push({
          key: `${base}.${key}`,
          value: body[key],
          expected: `one of the keys ${keys.join(', ')}${didYouMean(key, keys)}`,
        });
      }
    }
    const value: Record<string, unknown> = {};
    for (const [key, declared] of Object.entries(SERVICE_SCHEMA)) {
      const check = formatCheck(declared.format)!;
      const given = body[key];
      if (given === undefined) {
        if ('required' in declared)
          issues.push({ key: `${base}.${key}`, value: undefined, expected: check(undefined) ?? 'a value' });
        else if (declared.default !== undefined) value[key] = structuredClone(declared.default);
        continue;
      }
      const problem = check(given);
      if (problem) issues.push({ key: `${base}.${key}`, value: given, expected: problem });
      else value[key] = given;
    }
    if (issues.length > before) continue;
    value.containerPort ??= value.startPort;
    const resources = value.resources as Resources;
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
