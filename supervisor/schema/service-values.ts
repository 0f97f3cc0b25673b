// The values of a service's keys that are more than a plain value (services.<name> in the
// config): their TypeScript types and their checks, which formats.ts names for the schema.
import * as c from './checks.ts';

/** How the balancer picks a replica: strict round robin, or the fewest requests in flight. */
export type StrategyName = 'round-robin' | 'least-outstanding';
export const STRATEGY_NAMES: readonly StrategyName[] = ['round-robin', 'least-outstanding'];
export const strategy: c.Check = c.oneOf(STRATEGY_NAMES);

export interface Replicas {
  initial: number;
  min: number;
  max: number;
}

/**
 * memoryMb is the limit a replica is held to; memoryRequestMb (default: memoryMb) what capacity
 * counts it at, as Kubernetes schedules by requests and kills at limits: replicas idle far
 * below their limit, and counting each at its limit leaves most of a small machine unused.
 */
export interface Resources {
  memoryMb: number;
  cpus: number;
  memoryRequestMb?: number;
}

export interface ServiceBuild {
  /**
   * Run once per supervisor start, before the service's first replica, in the supervisor's
   * directory; `{{build:cache}}` names where it may keep what it makes (dataDir/builds). Its
   * last line of output names the directory of its result.
   */
  command: string[];
  /** A replica's argv, `{{build:dir}}` naming that directory. */
  run: string[];
}

export function replicas(v: unknown): string | undefined {
  const expected = 'an object {initial, min, max} of integers with 1 <= min <= initial <= max <= 1000';
  if (!c.isPlainObject(v)) return expected;
  const keys = Object.keys(v).sort().join(',');
  if (keys !== 'initial,max,min') return expected;
  const { initial, min, max } = v;
  if ([initial, min, max].some((n) => c.intIn(1, 1000)(n) !== undefined)) return expected;
  const [i, lo, hi] = [initial, min, max] as number[];
  return lo! <= i! && i! <= hi! ? undefined : expected;
}

/** In `build.command`: where builds keep what they make. */
export const BUILD_CACHE = '{{build:cache}}';
/** In `build.run`: the directory the build named as its result. */
export const BUILD_DIR = '{{build:dir}}';

export function serviceBuild(v: unknown): string | undefined {
  const expected = `an object {command, run}: non-empty arrays of non-empty strings, where command may name ${BUILD_CACHE} and run must name ${BUILD_DIR}`;
  if (!c.isPlainObject(v)) return expected;
  if (Object.keys(v).sort().join(',') !== 'command,run') return expected;
  const argv = c.arrayOf(c.nonEmptyString, 'x', true);
  if (argv(v.command) !== undefined || argv(v.run) !== undefined) return expected;
  const templates = (args: string[]) => args.flatMap((arg) => arg.match(/\{\{[^}]*\}\}/g) ?? []);
  if (templates(v.command as string[]).some((t) => t !== BUILD_CACHE)) return expected;
  const inRun = templates(v.run as string[]);
  return inRun.length > 0 && inRun.every((t) => t === BUILD_DIR) ? undefined : expected;
}

export function resources(v: unknown): string | undefined {
  const expected =
    'an object {memoryMb: integer >= 16, cpus: number > 0} and optionally memoryRequestMb: an integer from 16 to memoryMb';
  if (!c.isPlainObject(v)) return expected;
  const keys = Object.keys(v).sort().join(',');
  if (keys !== 'cpus,memoryMb' && keys !== 'cpus,memoryMb,memoryRequestMb') return expected;
  if (c.intIn(16, 1_048_576)(v.memoryMb) !== undefined) return expected;
  if (v.memoryRequestMb !== undefined && c.intIn(16, v.memoryMb as number)(v.memoryRequestMb) !== undefined)
    return expected;
  return c.positiveNumber(v.cpus) === undefined ? undefined : expected;
}
