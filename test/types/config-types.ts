// Compile-time checks of the config's derived types (`tsc --noEmit` in CI reads this file; it
// never runs): each key's type comes from its field in the schema, keys without a default are
// optional, unknown keys do not exist, and a default that does not fit its format is refused.
import type { BalancerLimits, EdgeConfig } from '../../supervisor/balancer/settings.ts';
import type { Config } from '../../supervisor/config/config.ts';
import { field } from '../../supervisor/schema/formats.ts';
import type { ServiceConfig } from '../../supervisor/schema/service.ts';

declare const config: Config;
declare const service: ServiceConfig;

export const exact = {
  maxBodyBytes: config.balancer.maxBodyBytes satisfies number,
  onShutdown: config.onShutdown satisfies 'remove' | 'leave',
  runtime: config.runtime satisfies 'auto' | 'docker' | 'podman' | 'process',
  certFile: config.balancer.tls.certFile satisfies string,
  methods: config.balancer.rateLimits.auth.methods satisfies string[],
  bundle: config.runtimes.process.bundle satisfies boolean,
  socket: config.runtimes.docker.socket satisfies string,
  image: service.image satisfies string | undefined,
  containerPort: service.containerPort satisfies number,
  memoryRequestMb: service.resources.memoryRequestMb satisfies number,
  strategy: service.strategy satisfies 'round-robin' | 'least-outstanding',
  retryStatuses: [502] satisfies BalancerLimits['retryStatuses'],
  gzipLevel: 1 satisfies EdgeConfig['compression']['gzipLevel'],
};

export const refused = {
  // @ts-expect-error no such key
  nope: config.balancer.nope,
  // @ts-expect-error a number is not a string
  interval: config.heartbeat.intervalMs satisfies string,
  // @ts-expect-error optional: it may be absent
  image: service.image satisfies string,
  // @ts-expect-error no such key
  other: service.nope,
  // @ts-expect-error a port's default is a number
  port: field('sa-port', '3000'),
  // @ts-expect-error not one of the values the format passes
  shutdown: field('sa-on-shutdown', 'keep'),
};
