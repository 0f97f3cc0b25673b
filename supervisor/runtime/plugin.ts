// What a runtime declares to be one (after Nomad's task drivers): its name, the schema of its
// settings under runtimes.<name>, what it can do, how it tells whether it can run here (and
// why not), and how it is made. select.ts walks the registry (registry.ts); nothing else in the
// supervisor names a runtime.
import type { ConfigIssue } from '../schema/error.ts';
import type { Field } from '../schema/formats.ts';
import type { ServiceConfig } from '../schema/service.ts';
import type { Logger } from '../core/log.ts';
import type { Runtime } from './runtime.ts';

/** A convict schema for the settings S: keys to fields of the same types, nested (S is derived from it: ValuesOf). */
export type SettingsSchema<S> = {
  [K in keyof S]: S[K] extends unknown[] ? Field<S[K]> : S[K] extends object ? SettingsSchema<S[K]> : Field<S[K]>;
};

export interface RuntimeCapabilities {
  /** What a service must give to run here: an image, or a command line. */
  artifact: 'image' | 'command';
}

export type Detection = { available: true; why: string } | { available: false; why: string };

/** The deployment as a runtime sees it when it is made. */
export interface RuntimeContext<S> {
  settings: S;
  /** Names this supervisor's replicas (config `instance`). */
  supervisor: string;
  labelPrefix: string;
  publishHost: string;
  dataDir: string;
  /** What replicas may write (dataDir/replicas). */
  replicaDataDir: string;
  stopGraceSeconds: number;
  logger: Logger;
}

export interface RuntimePlugin<N extends string = string, S = unknown> {
  readonly name: N;
  /** runtimes.<name> in the config; every key has a default. */
  readonly schema: SettingsSchema<S>;
  readonly capabilities: RuntimeCapabilities;
  /** Whether it can run replicas here, and why or why not, in words for the log. No side effects. */
  detect(settings: S): Promise<Detection>;
  /** What the services must give this runtime beyond its artifact, as config issues. */
  check?(deployment: Deployment): ConfigIssue[];
  /**
   * Whether the artifacts the services name exist where this runtime would run them (an image
   * the engine has), as config issues; asked once the runtime was detected (start-up, validate).
   */
  artifactIssues?(settings: S, services: readonly ServiceConfig[]): Promise<ConfigIssue[]>;
  create(context: RuntimeContext<S>): Runtime;
}

/** The parts of the config a runtime's check reads. */
export interface Deployment {
  env: Readonly<Record<string, string>>;
  services: readonly ServiceConfig[];
}

/** Settings type of a plugin. */
export type SettingsOf<P> = P extends RuntimePlugin<string, infer S> ? S : never;

/** What the services lack for the runtime: its artifact (an image, a command), and its own checks. */
export function deploymentIssues(plugin: RuntimePlugin, deployment: Deployment): ConfigIssue[] {
  const field = plugin.capabilities.artifact;
  const missing = deployment.services
    .filter((s) => s[field] === undefined)
    .map((s) => ({
      key: `services.${s.name}.${field}`,
      value: undefined,
      expected:
        field === 'image' ? `an image name (runtime is ${plugin.name})` : `a command array (runtime is ${plugin.name})`,
    }));
  return [...missing, ...(plugin.check?.(deployment) ?? [])];
}
