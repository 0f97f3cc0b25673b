// The named value formats of the config schema, registered with convict once, and the helper
// every part of the schema declares its keys with (config/config.ts, and each runtime's settings under
// runtimes.<name>). A bad value becomes a FormatProblem that config/config.ts turns into a ConfigIssue.
import convict from 'convict';
import * as c from './checks.ts';

// Convict coerces env strings only through named formats, so each check gets a name.
const FORMATS = {
  'sa-port': { check: c.intIn(0, 65535), numeric: true },
  'sa-positive-int': { check: c.intIn(1, 2_147_483_647), numeric: true },
  'sa-nat': { check: c.intIn(0, 2_147_483_647), numeric: true },
  'sa-percent': { check: c.intIn(0, 100), numeric: true },
  'sa-string': { check: c.nonEmptyString },
  'sa-any-string': { check: (v: unknown) => (typeof v === 'string' ? undefined : 'a string') },
  'sa-boolean': { check: c.boolean },
  'sa-threads': { check: c.intIn(1, 64), numeric: true },
  'sa-header-bytes': { check: c.intIn(1024, 1_048_576), numeric: true },
  'sa-on-shutdown': { check: c.oneOf(['remove', 'leave']) },
  'sa-process-cgroups': { check: c.oneOf(['auto', 'off']) },
  'sa-upstream-parser': { check: c.oneOf(['auto', 'llhttp', 'own']) },
  'sa-paths': { check: c.arrayOf(c.urlPath, 'paths starting with "/"') },
  'sa-path': { check: c.urlPath },
  'sa-env-names': { check: c.arrayOf(c.envName, 'environment variable names') },
  'sa-label-prefix': { check: c.labelPrefix },
  // An array, not a map: convict reads dots in keys as nesting, and labels are full of dots.
  'sa-labels': {
    check: c.arrayOf(
      (v) => (typeof v === 'string' && /^[a-z0-9][a-z0-9._-]*=/.test(v) ? undefined : 'x'),
      '"key=value" strings',
    ),
  },
  'sa-docker-user': {
    check: (v: unknown) =>
      typeof v === 'string' && /^[1-9]\d*:\d+$/.test(v) ? undefined : 'a non-root "uid:gid", e.g. "10001:10001"',
  },
  'sa-quality': { check: c.intIn(0, 11), numeric: true },
  'sa-gzip-level': { check: c.intIn(1, 9), numeric: true },
  'sa-cidrs': { check: c.arrayOf(c.addressOrCidr, 'IP addresses or CIDR ranges ("10.0.0.0/8", "2001:db8::/32")') },
  'sa-retry-statuses': {
    check: c.arrayOf(
      (v) => ([500, 502, 503, 504].includes(v as number) ? undefined : 'x'),
      'HTTP statuses among 500, 502, 503, 504',
    ),
  },
  'sa-methods': {
    check: c.arrayOf((v) => (typeof v === 'string' && /^[A-Z]+$/.test(v) ? undefined : 'x'), 'upper-case HTTP methods'),
  },
  // DOCKER_HOST and CONTAINER_HOST spell a socket as unix:///path; the file says /path.
  'sa-socket': {
    check: (v: unknown) =>
      typeof v === 'string' && /^(unix:\/\/)?\/\S*$/.test(v)
        ? undefined
        : 'a unix socket path ("/path" or "unix:///path")',
  },
} satisfies Record<string, { check: c.Check; numeric?: boolean }>;

export type FormatName = keyof typeof FORMATS | 'sa-runtime';

/** Errors thrown by our formats; convict stamps fullName and value on them before collecting. */
export class FormatProblem extends Error {
  fullName?: string;
  value?: unknown;
}

let thrown: FormatProblem[] = [];

/** Problems our formats found since the last call (convict reports only the first per key). */
export function takeFormatProblems(): FormatProblem[] {
  const taken = thrown;
  thrown = [];
  return taken;
}

const checks = new Map<string, c.Check>();

/** Registers a named format with convict (config/config.ts adds `sa-runtime` from the registry). */
export function registerFormat(name: FormatName, check: c.Check, numeric = false): void {
  checks.set(name, check);
  convict.addFormat({
    name,
    validate(value: unknown) {
      const expected = check(value);
      if (expected === undefined) return;
      const problem = new FormatProblem(expected);
      thrown.push(problem);
      throw problem;
    },
    ...(numeric ? { coerce: (v: string) => (/^-?\d+(\.\d+)?$/.test(v.trim()) ? Number(v) : v) } : {}),
    ...(name === 'sa-boolean' ? { coerce: (v: string) => (v === 'true' ? true : v === 'false' ? false : v) } : {}),
  });
}

for (const [name, format] of Object.entries(FORMATS)) {
  registerFormat(name as FormatName, format.check, 'numeric' in format && format.numeric);
}

/** The check of a format, for values convict never sees (an object given for a leaf). */
export function formatCheck(name: string): c.Check | undefined {
  return checks.get(name);
}

export interface Field {
  format: FormatName;
  default: unknown;
  env?: string;
}

/** One key of the schema: its format, default, and the environment variable that overrides it. */
export function field(format: FormatName, def: unknown, env?: string): Field {
  return { format, default: def, ...(env ? { env } : {}) };
}
