// `runtime: auto` means Docker when the engine answers /_ping, else child processes; either
// way the choice and the reason are logged. The services must then have what that runtime
// needs (an image, or a command), checked here as config errors.
import path from 'node:path';
import { DockerEngine } from '../../engine-client/index.ts';
import { ConfigError, type Config, type ConfigIssue } from '../config.ts';
import type { Logger } from '../log.ts';
import { DockerRuntime } from './docker.ts';
import { ProcessRuntime } from './process.ts';
import type { Runtime, RuntimeKind } from './runtime.ts';

export interface Selection {
  runtime: Runtime;
  why: string;
}

export function replicaDataDir(config: Config): string {
  return path.join(config.dataDir, 'replicas');
}

export async function selectRuntime(config: Config, logger: Logger): Promise<Selection> {
  let kind: RuntimeKind;
  let why: string;
  let engine: DockerEngine | undefined;
  if (config.runtime === 'process') {
    kind = 'process';
    why = 'config runtime is "process"';
  } else {
    engine = new DockerEngine({ timeoutMs: 15_000 });
    const ping = await engine.system.ping().then(
      (p) => ({ ok: true as const, version: p.apiVersion }),
      (err: Error) => ({ ok: false as const, message: err.message }),
    );
    if (ping.ok) {
      kind = 'docker';
      why = `Docker Engine answers /_ping at ${engine.socketPath} (API ${ping.version})`;
    } else if (config.runtime === 'docker') {
      await engine.close();
      throw new ConfigError([{ key: 'runtime', value: 'docker', expected: `a Docker Engine answering at ${engine.socketPath} (${ping.message}); or "auto"/"process"` }]);
    } else {
      await engine.close();
      engine = undefined;
      kind = 'process';
      why = `no Docker Engine answers /_ping (${ping.message}): running replicas as processes`;
    }
  }
  const issues = missingFields(config, kind);
  if (issues.length) {
    await engine?.close();
    throw new ConfigError(issues);
  }
  const runtime: Runtime =
    kind === 'docker'
      ? new DockerRuntime({
          engine: engine!,
          supervisor: config.instance,
          network: config.docker.network,
          user: config.docker.user,
          labels: Object.fromEntries(config.docker.labels.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)])),
          publishHost: config.publishHost,
          hostLoopbackEnv: config.docker.hostLoopbackEnv,
          replicaDataDir: replicaDataDir(config),
          stopGraceSeconds: config.stopGraceSeconds,
          logger,
        })
      : new ProcessRuntime({
          supervisor: config.instance,
          dataDir: config.dataDir,
          replicaDataDir: replicaDataDir(config),
          publishHost: config.publishHost,
        });
  logger.info('runtime selected', { runtime: kind, why });
  return { runtime, why };
}

function missingFields(config: Config, kind: RuntimeKind): ConfigIssue[] {
  const field = kind === 'docker' ? 'image' : 'command';
  return config.services
    .filter((s) => s[field] === undefined)
    .map((s) => ({
      key: `services.${s.name}.${field}`,
      value: undefined,
      expected: kind === 'docker' ? 'an image name (runtime is docker)' : 'a command array (runtime is process)',
    }));
}
