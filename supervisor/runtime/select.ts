// `runtime: auto` walks the registry in order and takes the first runtime that can run here;
// a named runtime must be able to. Either way the choice and the reasons (also for each runtime
// passed over) are logged and returned. The services must then have what the runtime needs (an
// image, or a command), checked here as config errors.
import path from 'node:path';
import { ConfigError } from '../schema/error.ts';
import type { Logger } from '../core/log.ts';
import { deploymentIssues, type Deployment, type RuntimePlugin } from './plugin.ts';
import { RUNTIMES } from './registry.ts';
import type { Runtime } from './runtime.ts';

export interface Selection {
  runtime: Runtime;
  why: string;
}

/** What the choice reads of the config (config/config.ts's Config has it all). */
export interface RuntimeChoice extends Deployment {
  runtime: string;
  runtimes: object;
  instance: string;
  labelPrefix: string;
  publishHost: string;
  dataDir: string;
  stopGraceSeconds: number;
}

export function replicaDataDir(config: { dataDir: string }): string {
  return path.join(config.dataDir, 'replicas');
}

export async function selectRuntime(
  config: RuntimeChoice,
  logger: Logger,
  plugins: readonly RuntimePlugin[] = RUNTIMES as readonly RuntimePlugin[],
): Promise<Selection> {
  const auto = config.runtime === 'auto';
  const settingsOf = (name: string) => (config.runtimes as Record<string, unknown>)[name];
  const passedOver: string[] = [];
  for (const plugin of plugins.filter((p) => auto || p.name === config.runtime)) {
    const found = await plugin.detect(settingsOf(plugin.name));
    if (!found.available) {
      passedOver.push(`${plugin.name}: ${found.why}`);
      continue;
    }
    const issues = deploymentIssues(plugin, config);
    if (issues.length) throw new ConfigError(issues);
    const runtime = plugin.create({
      settings: settingsOf(plugin.name),
      supervisor: config.instance,
      labelPrefix: config.labelPrefix,
      publishHost: config.publishHost,
      dataDir: config.dataDir,
      replicaDataDir: replicaDataDir(config),
      stopGraceSeconds: config.stopGraceSeconds,
      logger,
    });
    const limits = `; services.*.resources: ${runtime.limitsNote}`;
    const why = auto
      ? `auto picked ${plugin.name}: ${found.why}${passedOver.length ? ` (passed over ${passedOver.join('; ')})` : ''}${limits}`
      : `config runtime is "${plugin.name}": ${found.why}${limits}`;
    logger.info('runtime selected', { runtime: plugin.name, why });
    // Without its image a service would be retried for ever while the others run: say so now.
    const missing = (await plugin.artifactIssues?.(settingsOf(plugin.name), config.services)) ?? [];
    if (missing.length) {
      await runtime.close();
      throw new ConfigError(missing);
    }
    return { runtime, why };
  }
  const others = plugins.map((p) => `"${p.name}"`).join(', ');
  throw new ConfigError([
    {
      key: 'runtime',
      value: config.runtime,
      expected: `a runtime that can run here (${passedOver.join('; ')}); or "auto", ${others}`,
    },
  ]);
}
