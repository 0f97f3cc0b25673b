// Small value checks shared by the config schema. Each returns undefined when the value is
// fine, or the words for what was expected, so every config error can say key, value and
// expectation in the same shape.

import { isIP } from 'node:net';

export type Check = (value: unknown) => string | undefined;

export const intIn =
  (min: number, max: number): Check =>
  (v) =>
    typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max
      ? undefined
      : `an integer from ${min} to ${max}`;

export const positiveNumber: Check = (v) =>
  typeof v === 'number' && Number.isFinite(v) && v > 0 ? undefined : 'a number greater than 0';

export const nonEmptyString: Check = (v) => (typeof v === 'string' && v.length > 0 ? undefined : 'a non-empty string');

export const boolean: Check = (v) => (typeof v === 'boolean' ? undefined : 'true or false');

export const oneOf =
  (values: readonly string[]): Check =>
  (v) =>
    typeof v === 'string' && values.includes(v)
      ? undefined
      : `one of ${values.map((x) => JSON.stringify(x)).join(', ')}`;

export const urlPath: Check = (v) =>
  typeof v === 'string' && v.startsWith('/') ? undefined : 'a path starting with "/"';

export const arrayOf =
  (item: Check, what: string, nonEmpty = false): Check =>
  (v) =>
    Array.isArray(v) && (!nonEmpty || v.length > 0) && v.every((x) => item(x) === undefined)
      ? undefined
      : `${nonEmpty ? 'a non-empty ' : 'an '}array of ${what}`;

export const stringMap: Check = (v) =>
  isPlainObject(v) && Object.values(v).every((x) => typeof x === 'string')
    ? undefined
    : 'an object whose values are strings';

export const envName: Check = (v) =>
  typeof v === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(v)
    ? undefined
    : 'an environment variable name ([A-Za-z_][A-Za-z0-9_]*)';

/** Lower-case DNS-label-like names: they become container names and host names. */
export const serviceName: Check = (v) =>
  typeof v === 'string' && /^[a-z][a-z0-9-]{0,40}$/.test(v)
    ? undefined
    : 'a service name of lower-case letters, digits and "-", starting with a letter';

/** "192.0.2.7", "10.0.0.0/8", "2001:db8::1", "fd00::/8". */
export const addressOrCidr: Check = (v) => {
  if (typeof v !== 'string') return 'x';
  const [address, bits, extra] = v.split('/');
  const family = isIP(address ?? '');
  if (family === 0 || extra !== undefined) return 'x';
  if (bits === undefined) return undefined;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128) ? undefined : 'x';
};

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The label prefix: lower-case dot-separated words, as Docker recommends (reverse DNS). */
export const labelPrefix: Check = (v) =>
  typeof v === 'string' && /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(v) && v.length <= 64
    ? undefined
    : 'lower-case words of letters, digits and "-" joined by ".", e.g. "selflessacts" or "com.example.web"';
