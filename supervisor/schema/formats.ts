// The named value formats of the config schema, registered with convict once, and the helper
// every part of the schema declares its keys with (config/config.ts, and each runtime's settings under
// runtimes.<name>). A bad value becomes a FormatProblem that config/config.ts turns into a ConfigIssue.
import convict from 'convict';
import * as c from './checks.ts';
import * as v from './service-values.ts';

/** A named format: its check, and (for TypeScript only) the type of the values it passes. */
interface Format<T> {
  check: c.Check;
  numeric: boolean;
  readonly type?: T;
}

function format<T>(check: c.Check, numeric = false): Format<T> {
  return { check, numeric };
}

// Convict coerces env strings only through named formats, so each check gets a name. The
// services map (service.ts) is read by our own walker, but its keys are declared with the same
// formats: one vocabulary for the whole config.
const FORMATS = {
  'sa-port': format<number>(c.intIn(0, 65535), true),
  'sa-positive-int': format<number>(c.intIn(1, 2_147_483_647), true),
  'sa-nat': format<number>(c.intIn(0, 2_147_483_647), true),
  'sa-percent': format<number>(c.intIn(0, 100), true),
  'sa-string': format<string>(c.nonEmptyString),
  'sa-any-string': format<string>((v: unknown) => (typeof v === 'string' ? undefined : 'a string')),
  'sa-boolean': format<boolean>(c.boolean),
  'sa-threads': format<number>(c.intIn(1, 64), true),
  'sa-header-bytes': format<number>(c.intIn(1024, 1_048_576), true),
  'sa-on-shutdown': format<'remove' | 'leave'>(c.oneOf(['remove', 'leave'])),
  'sa-process-cgroups': format<'auto' | 'off'>(c.oneOf(['auto', 'off'])),
  'sa-upstream-parser': format<'auto' | 'llhttp' | 'own'>(c.oneOf(['auto', 'llhttp', 'own'])),
  'sa-paths': format<string[]>(c.arrayOf(c.urlPath, 'paths starting with "/"')),
  'sa-path': format<string>(c.urlPath),
  'sa-env-names': format<string[]>(c.arrayOf(c.envName, 'environment variable names')),
  'sa-label-prefix': format<string>(c.labelPrefix),
  // An array, not a map: convict reads dots in keys as nesting, and labels are full of dots.
  'sa-labels': format<string[]>(
    c.arrayOf(
      (v) => (typeof v === 'string' && /^[a-z0-9][a-z0-9._-]*=/.test(v) ? undefined : 'x'),
      '"key=value" strings',
    ),
  ),
  'sa-docker-user': format<string>((v: unknown) =>
    typeof v === 'string' && /^[1-9]\d*:\d+$/.test(v) ? undefined : 'a non-root "uid:gid", e.g. "10001:10001"',
  ),
  'sa-quality': format<number>(c.intIn(0, 11), true),
  'sa-gzip-level': format<number>(c.intIn(1, 9), true),
  'sa-cidrs': format<string[]>(
    c.arrayOf(c.addressOrCidr, 'IP addresses or CIDR ranges ("10.0.0.0/8", "2001:db8::/32")'),
  ),
  'sa-retry-statuses': format<number[]>(
    c.arrayOf(
      (v) => ([500, 502, 503, 504].includes(v as number) ? undefined : 'x'),
      'HTTP statuses among 500, 502, 503, 504',
    ),
  ),
  'sa-methods': format<string[]>(
    c.arrayOf((v) => (typeof v === 'string' && /^[A-Z]+$/.test(v) ? undefined : 'x'), 'upper-case HTTP methods'),
  ),
  // DOCKER_HOST and CONTAINER_HOST spell a socket as unix:///path; the file says /path.
  'sa-socket': format<string>((v: unknown) =>
    typeof v === 'string' && /^(unix:\/\/)?\/\S*$/.test(v)
      ? undefined
      : 'a unix socket path ("/path" or "unix:///path")',
  ),
  // The values of a service (service.ts).
  'sa-service-port': format<number>(c.intIn(1, 65535)),
  'sa-argv': format<string[]>(c.arrayOf(c.nonEmptyString, 'non-empty strings', true)),
  'sa-string-map': format<Record<string, string>>(c.stringMap),
  'sa-strategy': format<v.StrategyName>(v.strategy),
  'sa-replicas': format<v.Replicas>(v.replicas),
  'sa-resources': format<v.Resources>(v.resources),
  'sa-build': format<v.ServiceBuild>(v.serviceBuild),
} satisfies Record<string, Format<unknown>>;

/**
 * Formats registered where what they check is declared: `sa-runtime` (config/config.ts, from the
 * runtime registry), `sa-service-scaling` (scaling.ts, from the scaling fields).
 */
type LateFormat = 'sa-runtime' | 'sa-service-scaling';

export type FormatName = keyof typeof FORMATS | LateFormat;

/** The TypeScript type of what a format passes; a late one's is narrowed where its field is declared. */
export type FormatType<F extends FormatName> = F extends keyof typeof FORMATS
  ? NonNullable<(typeof FORMATS)[F]['type']>
  : F extends 'sa-runtime'
    ? string
    : unknown;

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

/** Registers a named format with convict (a late one from where its values are declared). */
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

for (const [name, named] of Object.entries(FORMATS)) registerFormat(name as FormatName, named.check, named.numeric);

/** The check of a format, for values convict never sees (an object given for a leaf). */
export function formatCheck(name: string): c.Check | undefined {
  return checks.get(name);
}

/**
 * One key of the schema: its format, default, and the environment variable that overrides it.
 * Its type is the value's: the config's types are derived from the schema (ValuesOf), never
 * written beside it.
 */
export interface Field<T = unknown> {
  format: FormatName;
  default: T;
  env?: string;
  /** A service's key that must be given (services have no env overrides and convict never sees them). */
  required?: true;
}

/** A key with a default; `T` narrows the format's type where its values are a closed set (a runtime's name). */
export function field<F extends FormatName, T extends FormatType<F> = FormatType<F>>(
  format: F,
  def: NoInfer<T>,
  env?: string,
): Field<T> {
  return { format, default: def, ...(env ? { env } : {}) };
}

/** A service's key that may be left out and has no default. */
export function optional<F extends FormatName>(format: F): Field<FormatType<F> | undefined> {
  return { format, default: undefined };
}

/** A service's key that must be given. */
export function required<F extends FormatName>(format: F): Field<FormatType<F>> {
  return { format, default: undefined as unknown as FormatType<F>, required: true };
}

type OptionalKeys<S> = {
  [K in keyof S]: S[K] extends Field<infer T> ? (undefined extends T ? K : never) : never;
}[keyof S];

/** The values a schema describes: each field's type, nested as the schema is; keys without a default optional. */
export type ValuesOf<S> = {
  -readonly [K in Exclude<keyof S, OptionalKeys<S>>]: S[K] extends Field<infer T> ? T : ValuesOf<S[K]>;
} & {
  -readonly [K in OptionalKeys<S>]?: S[K] extends Field<infer T> ? Exclude<T, undefined> : never;
};

/** The defaults of a schema, as the values they are. */
export function defaultsOf<S extends object>(schema: S): ValuesOf<S> {
  return Object.fromEntries(
    Object.entries(schema).map(([key, node]) => [
      key,
      isField(node) ? structuredClone(node.default) : defaultsOf(node as object),
    ]),
  ) as ValuesOf<S>;
}

export function isField(node: unknown): node is Field {
  return c.isPlainObject(node) && typeof node.format === 'string' && 'default' in node;
}
