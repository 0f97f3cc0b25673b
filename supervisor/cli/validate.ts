// `selflessacts validate --config FILE`: every problem the supervisor would stop on, without
// starting anything: the file (schema, services, templates), then what the runtime needs of
// the services (for `runtime: auto`, each runtime it might pick). Exit 0 when there is none.
import { ConfigError, describeIssue, loadConfigFile, type Config, type ConfigIssue } from '../config.ts';
import { deploymentIssues, type RuntimePlugin } from '../runtime/plugin.ts';
import { RUNTIMES } from '../runtime/registry.ts';

export interface Validation {
  config: Config | undefined;
  issues: ConfigIssue[];
}

export function validateConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): Validation {
  let config: Config;
  try {
    config = loadConfigFile(file, { env });
  } catch (err) {
    if (err instanceof ConfigError) return { config: undefined, issues: err.issues };
    throw err;
  }
  const plugins = (RUNTIMES as readonly RuntimePlugin[]).filter((p) => config.runtime === 'auto' || p.name === config.runtime);
  const issues: ConfigIssue[] = [];
  for (const plugin of plugins) {
    for (const issue of deploymentIssues(plugin, config)) {
      issues.push(config.runtime === 'auto' ? { ...issue, expected: `${issue.expected} (when runtime auto picks ${plugin.name})` } : issue);
    }
  }
  return { config, issues };
}

/** Prints the verdict; returns the exit code. */
export function runValidate(file: string, out: (line: string) => void, err: (line: string) => void): number {
  const { config, issues } = validateConfigFile(file);
  if (issues.length === 0 && config) {
    const services = config.services.map((s) => `${s.name} (${s.replicas.min}-${s.replicas.max} from port ${s.startPort})`).join(', ');
    out(`${file}: valid; runtime ${config.runtime}; services ${services}`);
    return 0;
  }
  for (const issue of issues) err(describeIssue(issue));
  err(`${file}: ${issues.length} problem${issues.length === 1 ? '' : 's'}`);
  return 1;
}
