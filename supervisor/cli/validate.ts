// `selflessacts validate --config FILE`: every problem the supervisor would stop on, without
// starting anything: the file (schema, services, templates), then what the runtime needs of
// the services (for `runtime: auto`, each runtime it might pick), and, for each of those that
// can run here (its engine answers), whether what the services name exists there (their
// images). Exit 0 when there is none.
import { ConfigError, describeIssue, loadConfigFile, type Config, type ConfigIssue } from '../config/config.ts';
import { deploymentIssues, type RuntimePlugin } from '../runtime/plugin.ts';
import { RUNTIMES } from '../runtime/registry.ts';

export interface Validation {
  config: Config | undefined;
  issues: ConfigIssue[];
}

export async function validateConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): Promise<Validation> {
  let config: Config;
  try {
    config = loadConfigFile(file, { env });
  } catch (err) {
    if (err instanceof ConfigError) return { config: undefined, issues: err.issues };
    throw err;
  }
  const plugins = (RUNTIMES as readonly RuntimePlugin[]).filter(
    (p) => config.runtime === 'auto' || p.name === config.runtime,
  );
  const issues: ConfigIssue[] = [];
  // What the services name is looked for where start-up would run them: the runtime auto would
  // pick (the first that can run here), or the one the config names if it can.
  let picked = false;
  for (const plugin of plugins) {
    const own = deploymentIssues(plugin, config);
    const settings = (config.runtimes as Record<string, unknown>)[plugin.name];
    if (!picked && (await plugin.detect(settings)).available) {
      picked = true;
      if (own.length === 0 && plugin.artifactIssues)
        own.push(...(await plugin.artifactIssues(settings, config.services)));
    }
    for (const issue of own) {
      issues.push(
        config.runtime === 'auto'
          ? { ...issue, expected: `${issue.expected} (when runtime auto picks ${plugin.name})` }
          : issue,
      );
    }
  }
  return { config, issues };
}

/** Prints the verdict; returns the exit code. */
export async function runValidate(
  file: string,
  out: (line: string) => void,
  err: (line: string) => void,
): Promise<number> {
  const { config, issues } = await validateConfigFile(file);
  if (issues.length === 0 && config) {
    const services = config.services
      .map((s) => `${s.name} (${s.replicas.min}-${s.replicas.max} from port ${s.startPort})`)
      .join(', ');
    out(`${file}: valid; runtime ${config.runtime}; services ${services}`);
    return 0;
  }
  for (const issue of issues) err(describeIssue(issue));
  err(`${file}: ${issues.length} problem${issues.length === 1 ? '' : 's'}`);
  return 1;
}
