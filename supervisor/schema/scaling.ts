// The autoscaling policy's keys, declared once and read twice: as the config's `scaling`, every
// autoscaled service's policy, and as services.<name>.scaling, which overrides it key by key with
// the same formats (a key the global section would refuse, a service refuses too).
import * as c from './checks.ts';
import { field, formatCheck, registerFormat, type ValuesOf } from './formats.ts';

export const SCALING_SCHEMA = {
  /** Length of a counting window; the first starts at the first counted request. */
  windowSeconds: field('sa-positive-int', 120, 'SCALING_WINDOW_SECONDS'),
  /** K requests in a window → floor(K / this) + 1 replicas, within the service's min and max. */
  requestsPerReplica: field('sa-positive-int', 20, 'REQUESTS_PER_REPLICA'),
  /** Scale down only to the highest recommendation of the last N windows (0: off, the seed's rule). */
  dampingWindows: field('sa-nat', 0, 'SCALING_DAMPING_WINDOWS'),
};

export type ScalingSettings = ValuesOf<typeof SCALING_SCHEMA>;

const CHECKS = new Map(Object.entries(SCALING_SCHEMA).map(([key, declared]) => [key, formatCheck(declared.format)!]));
const EXPECTED = `an object with any of ${[...CHECKS].map(([key, check]) => `${key} (${check(undefined)})`).join(', ')}`;

// Registered here rather than in formats.ts: its check is derived from the fields above, which
// are declared with formats.ts's own helper.
registerFormat('sa-service-scaling', (v: unknown) => {
  if (!c.isPlainObject(v)) return EXPECTED;
  const passes = ([key, value]: [string, unknown]) => {
    const check = CHECKS.get(key);
    return check !== undefined && check(value) === undefined;
  };
  return Object.entries(v).every(passes) ? undefined : EXPECTED;
});

/** services.<name>.scaling: any of the keys above, each overriding the global one for that service. */
export const SERVICE_SCALING = field<'sa-service-scaling', Partial<ScalingSettings>>('sa-service-scaling', {});
