// What a config reload (SIGHUP) can change on a running supervisor: the replicas' specs (each
// service's image, command, env and resources, and the shared env), which the fleet then rolls
// out one replica at a time. Anything else (ports, listeners, counts, timings) is named as
// needing a restart and left as it is, so a reload never half-applies a change it cannot make.
import type { Config, ServiceConfig } from './config.ts';

const SPEC_KEYS = ['image', 'command', 'env', 'resources'] as const satisfies ReadonlyArray<keyof ServiceConfig>;

export interface ReloadPlan {
  /** Keys whose new value was applied ("services.acts.env", "env"). */
  applied: string[];
  /** Keys that differ but need a restart to take effect. */
  needRestart: string[];
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** Copies the spec keys of `next` into `current` (in place: the fleet holds it) and says what else differs. */
export function applySpecChanges(current: Config, next: Config): ReloadPlan {
  const applied: string[] = [];
  const needRestart: string[] = [];
  for (const key of Object.keys(next) as Array<keyof Config>) {
    if (key === 'services' || key === 'env' || same(current[key], next[key])) continue;
    needRestart.push(key);
  }
  const names = (c: Config) => c.services.map((s) => s.name).join(',');
  if (names(current) !== names(next)) {
    needRestart.push(`services (${names(current)} → ${names(next)})`);
    return { applied, needRestart };
  }
  if (!same(current.env, next.env)) {
    current.env = next.env;
    applied.push('env');
  }
  current.services.forEach((s, i) => {
    const n = next.services[i]!;
    for (const key of Object.keys(n) as Array<keyof ServiceConfig>) {
      if (same(s[key], n[key])) continue;
      if ((SPEC_KEYS as readonly string[]).includes(key)) {
        (s as unknown as Record<string, unknown>)[key] = n[key];
        applied.push(`services.${s.name}.${key}`);
      } else {
        needRestart.push(`services.${s.name}.${key}`);
      }
    }
    // A key the new config leaves out (an image dropped) is a change too.
    for (const key of SPEC_KEYS) {
      if (!(key in n) && key in s) {
        delete (s as unknown as Record<string, unknown>)[key];
        applied.push(`services.${s.name}.${key}`);
      }
    }
  });
  return { applied, needRestart };
}
