// Shape checks shared by both services. Each returns the checked value or throws a 400 that
// says what was wrong, so a handler reads as a list of what it requires.
import { badRequest } from './errors.ts';

export type JsonObject = Record<string, unknown>;

export function isPlainObject(value: unknown): value is JsonObject {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.getPrototypeOf(value) === Object.prototype
  );
}

/**
 * The body must be an object with exactly these keys. `forbidden` gives a specific reason for
 * keys a client might send by mistake (e.g. `upvotes`).
 */
export function objectWithKeys(
  body: unknown,
  keys: readonly string[],
  forbidden: Record<string, string> = {},
): JsonObject {
  if (!isPlainObject(body)) throw badRequest(`body must be a JSON object with ${keys.join(', ')}`);
  for (const key of Object.keys(body)) {
    if (Object.hasOwn(forbidden, key)) throw badRequest(forbidden[key] as string);
    if (!keys.includes(key)) throw badRequest(`unexpected field: ${key}`);
  }
  for (const key of keys) {
    if (!Object.hasOwn(body, key)) throw badRequest(`missing field: ${key}`);
  }
  return body;
}

/** Lone UTF-16 surrogates cannot be stored as UTF-8 without silently changing the string. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function text(value: unknown, field: string, { allowEmpty = false } = {}): string {
  if (typeof value !== 'string') throw badRequest(`${field} must be a string`);
  if (!allowEmpty && value === '') throw badRequest(`${field} must not be empty`);
  if (LONE_SURROGATE.test(value)) throw badRequest(`${field} is not valid Unicode`);
  return value;
}
