// The part the two Docker-API runtimes share: settings (socket, network, user, labels, which env
// URLs point at the host), detection by asking the engine what it is (GET /_ping, then /version:
// Podman answers the same API and names itself there), and making an EngineRuntime.
import { DockerEngine } from '../../engine-client/index.ts';
import { field, type ValuesOf } from '../schema/formats.ts';
import { EngineRuntime, type HostAlias } from './engine-runtime.ts';
import type { Detection, RuntimeCapabilities, RuntimePlugin } from './plugin.ts';

/** runtimes.docker and runtimes.podman: declared once, the settings' type derived. */
function engineSchema(spec: EnginePluginSpec<string>) {
  return {
    /** The engine's API socket: "/path" or "unix:///path". */
    socket: field('sa-socket', spec.socket.default, spec.socket.env),
    /** The user-defined bridge network every replica joins (made if missing). */
    network: field('sa-string', 'replicas', spec.networkEnv),
    /** "uid:gid" the replicas run as; never root. */
    user: field('sa-docker-user', '10001:10001', spec.userEnv),
    /** Extra "key=value" labels on every container. */
    labels: field('sa-labels', []),
    /** Env keys whose URLs on the host's loopback are given the host alias instead. */
    hostLoopbackEnv: field('sa-env-names', []),
  };
}
export type EngineSettings = ValuesOf<ReturnType<typeof engineSchema>>;

export type EngineProduct = 'Docker' | 'Podman';

export interface EnginePluginSpec<N extends string> {
  name: N;
  /** What the engine must say it is in GET /version. */
  product: EngineProduct;
  socket: { default: string; env: string };
  networkEnv: string;
  /** The env override of runtimes.<name>.user (the engine guard's layout sets the service's own uid:gid). */
  userEnv: string;
  hostAlias: HostAlias;
}

const CAPABILITIES: RuntimeCapabilities = { artifact: 'image' };
const DETECT_TIMEOUT_MS = 15_000;

export function socketPath(socket: string): string {
  return socket.replace(/^unix:\/\//, '');
}

/** Docker or Podman, from GET /version (Podman lists a "Podman Engine" component). */
export function productOf(version: Record<string, unknown>): EngineProduct {
  const names = [
    ...(Array.isArray(version.Components) ? version.Components : []).map((c: { Name?: unknown }) =>
      String(c?.Name ?? ''),
    ),
    String((version.Platform as { Name?: unknown } | undefined)?.Name ?? ''),
  ];
  return names.some((n) => /podman/i.test(n)) ? 'Podman' : 'Docker';
}

export function enginePlugin<N extends string>(spec: EnginePluginSpec<N>): RuntimePlugin<N, EngineSettings> {
  return {
    name: spec.name,
    capabilities: CAPABILITIES,
    schema: engineSchema(spec),
    async detect(settings): Promise<Detection> {
      const engine = new DockerEngine({ socketPath: socketPath(settings.socket), timeoutMs: DETECT_TIMEOUT_MS });
      try {
        const ping = await engine.system.ping();
        const version = await engine.system.version();
        const product = productOf(version.raw);
        const what = `${product} ${version.version} (API ${ping.apiVersion})`;
        if (product !== spec.product) {
          return {
            available: false,
            why: `the engine at ${engine.socketPath} is ${what}, not ${spec.product}: that is the ${product.toLowerCase()} runtime`,
          };
        }
        return { available: true, why: `${what} answers at ${engine.socketPath}` };
      } catch (err) {
        return {
          available: false,
          why: `no ${spec.product} engine answers at ${engine.socketPath} (${(err as Error).message})`,
        };
      } finally {
        await engine.close();
      }
    },
    async artifactIssues(settings, services) {
      const engine = new DockerEngine({ socketPath: socketPath(settings.socket), timeoutMs: DETECT_TIMEOUT_MS });
      try {
        const issues = [];
        for (const s of services) {
          if (s.image === undefined || (await engine.images.find(s.image)) !== undefined) continue;
          issues.push({
            key: `services.${s.name}.image`,
            value: s.image,
            expected: `an image the ${spec.product} engine at ${engine.socketPath} has (it has none of that name: build it, e.g. \`npx tsx scripts/images.ts\` for acts and users, or pull it)`,
          });
        }
        return issues;
      } finally {
        await engine.close();
      }
    },
    create(context) {
      const s = context.settings;
      return new EngineRuntime({
        name: spec.name,
        engine: new DockerEngine({ socketPath: socketPath(s.socket), timeoutMs: DETECT_TIMEOUT_MS }),
        supervisor: context.supervisor,
        labelPrefix: context.labelPrefix,
        hostAlias: spec.hostAlias,
        network: s.network,
        user: s.user,
        labels: Object.fromEntries(s.labels.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)])),
        publishHost: context.publishHost,
        hostLoopbackEnv: s.hostLoopbackEnv,
        replicaDataDir: context.replicaDataDir,
        dataDir: context.dataDir,
        stopGraceSeconds: context.stopGraceSeconds,
        logger: context.logger,
      });
    },
  };
}
