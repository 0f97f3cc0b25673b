// The environment each replica starts with: the config's `env` (every service) under the
// service's own `env`, as templates (templates.ts) compiled once and rendered per replica with
// what only then is known (its port, host, data dir and instance id from the runtime, the URLs
// of other services). A variable that renders empty is left out, so "{{env:X:-}}" passes X on
// only when the supervisor has it.
import type { Config, ServiceConfig } from '../config/config.ts';
import { parseTemplate, refsOf, render, type Part, type ReplicaField } from '../schema/templates.ts';

export class ReplicaEnvironment {
  #templates = new Map<string, Array<[string, Part[]]>>();
  #secrets: Readonly<Record<string, string>>;
  readonly #env: NodeJS.ProcessEnv;

  /** `secrets`: the values of every {{secret:NAME}} (secrets.ts); `env`: the supervisor's environment. */
  constructor(config: Config, secrets: Readonly<Record<string, string>>, env: NodeJS.ProcessEnv) {
    this.#secrets = secrets;
    this.#env = env;
    this.update(config, secrets);
  }

  /** After a config reload: the templates (and secrets) new replicas get from now on. */
  update(config: Config, secrets: Readonly<Record<string, string>>): void {
    this.#templates = new Map(config.services.map((s) => [s.name, compile({ ...config.env, ...s.env })]));
    this.#secrets = secrets;
  }

  /** The names every {{secret:NAME}} of the config uses. */
  static secretNames(config: Config): string[] {
    const names = new Set<string>();
    for (const env of [config.env, ...config.services.map((s) => s.env)]) {
      for (const [, parts] of compile(env))
        for (const ref of refsOf(parts)) if (ref.kind === 'secret') names.add(ref.name);
    }
    return [...names].sort();
  }

  /** The variables of `service` whose value holds a {{secret:NAME}}: passed as files (runtime/replica-files.ts). */
  secretKeys(service: string): string[] {
    return (this.#templates.get(service) ?? [])
      .filter(([, parts]) => refsOf(parts).some((ref) => ref.kind === 'secret'))
      .map(([key]) => key);
  }

  render(
    service: ServiceConfig,
    replica: Readonly<Record<ReplicaField, string>>,
    serviceUrl: (name: string) => string,
    replicaUrls: (name: string) => string[],
  ): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [key, parts] of this.#templates.get(service.name) ?? []) {
      const value = render(parts, {
        serviceUrl,
        replicaUrls,
        replica,
        secret: (name) => this.#secrets[name] ?? '',
        env: (name) => this.#env[name],
      });
      if (value !== '') out[key] = value;
    }
    return out;
  }
}

/** The config checked every template already: a problem here is a bug. */
function compile(env: Readonly<Record<string, string>>): Array<[string, Part[]]> {
  return Object.entries(env).map(([key, text]) => {
    const parsed = parseTemplate(text);
    if ('problem' in parsed) throw new Error(`env ${key}: ${parsed.problem}`);
    return [key, parsed.parts];
  });
}
