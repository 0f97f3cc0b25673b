// JSON in and out without losing digits, at JSON.parse's speed. An actId may have any number of
// digits, so numbers must keep their source text: Node 24's JSON.parse hands a reviver each
// number's source (`context.source`), kept as a raw JSON value that JSON.stringify writes back
// verbatim. A reviver runs once per value, though (2.5 s for 1.5 M numbers against 0.09 s
// without), so a body is parsed plainly first; only one small enough to be a valid request of
// any route (MAX_EXACT_VALUES) is parsed again for its exact numbers. A larger one can only be
// refused, and its numbers stay plain, which no validator accepts as an actId.
import express, { type RequestHandler, type Response } from 'express';

/** A JSON number kept as its source text (a frozen object JSON.stringify writes verbatim). */
export interface RawJson {
  readonly rawJSON: string;
}

type Reviver = (this: unknown, key: string, value: unknown, context: { source?: string }) => unknown;

/** Node 24's JSON additions, not yet in TypeScript's lib. */
const JSONX = JSON as unknown as {
  parse(text: string, reviver?: Reviver): unknown;
  rawJSON(text: string): RawJson;
  isRawJSON(value: unknown): value is RawJson;
};

/** The largest request any route accepts has 7 values (row 15); far more is always refused. */
const MAX_EXACT_VALUES = 1000;

/** The JSON number token for a canonical decimal string (e.g. an actId). */
export function exactNumber(digits: string): RawJson {
  return JSONX.rawJSON(digits);
}

export function sendJson(res: Response, status: number, value: unknown): void {
  res.status(status).type('application/json; charset=utf-8').send(JSON.stringify(value) ?? 'null');
}

export function sendError(res: Response, status: number, reason: string): void {
  sendJson(res, status, { error: reason });
}

export function sendEmpty(res: Response, status: number): void {
  res.status(status).end();
}

/** A JSON number written with digits only (no sign, fraction or exponent), as its text. */
export function digitsToken(value: unknown): string | undefined {
  return JSONX.isRawJSON(value) && /^[0-9]+$/.test(value.rawJSON) ? value.rawJSON : undefined;
}

export class MalformedJson extends Error {}

const utf8 = new TextDecoder('utf-8', { fatal: true });

const keepNumberSource: Reviver = (_key, value, context) =>
  typeof value === 'number' && context.source !== undefined ? JSONX.rawJSON(context.source) : value;

function children(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  return value !== null && typeof value === 'object' && !JSONX.isRawJSON(value) ? Object.values(value) : [];
}

/** Whether a parsed document holds more than `limit` values, found without walking all of them. */
function hasMoreValues(root: unknown, limit: number): boolean {
  let seen = 0;
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const inner = children(stack.pop());
    seen += 1;
    if (seen + stack.length + inner.length > limit) return true;
    for (const child of inner) stack.push(child);
  }
  return false;
}

/**
 * The number of object members written in `text` (its `:` outside strings). JSON.parse keeps
 * the last of two equal keys silently; counting members against the keys that came out finds
 * the duplicates, in time proportional to the tokens (strings are skipped with indexOf).
 */
function countMembers(text: string): number {
  let members = 0;
  let at = 0;
  for (;;) {
    const quote = text.indexOf('"', at);
    const segmentEnd = quote === -1 ? text.length : quote;
    for (let colon = text.indexOf(':', at); colon !== -1 && colon < segmentEnd; colon = text.indexOf(':', colon + 1)) {
      members += 1;
    }
    if (quote === -1) return members;
    // The closing quote: the next one not escaped by an odd run of backslashes.
    let close = quote;
    for (;;) {
      close = text.indexOf('"', close + 1);
      let backslashes = 0;
      while (text.charCodeAt(close - 1 - backslashes) === 0x5c) backslashes += 1;
      if (backslashes % 2 === 0) break;
    }
    at = close + 1;
  }
}

/** Object keys in a parsed document (a small one: see hasMoreValues). */
function countKeys(root: unknown): number {
  let keys = 0;
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    const inner = children(value);
    if (!Array.isArray(value)) keys += inner.length;
    for (const child of inner) stack.push(child);
  }
  return keys;
}

export function parseJsonBody(bytes: Buffer): unknown {
  if (bytes.length === 0) return undefined;
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new MalformedJson('request body is not valid UTF-8');
  }
  let plain: unknown;
  try {
    plain = JSON.parse(text);
  } catch (err) {
    throw new MalformedJson(`malformed JSON: ${(err as Error).message}`);
  }
  if (hasMoreValues(plain, MAX_EXACT_VALUES)) return plain;
  const exact = JSONX.parse(text, keepNumberSource);
  if (countMembers(text) !== countKeys(exact)) throw new MalformedJson('malformed JSON: an object has a duplicated key');
  return exact;
}

/**
 * Reads the body (whatever its Content-Type: existing clients are not all careful about it)
 * up to `limit` bytes and puts the parsed value, or undefined for an empty body, in req.body.
 * Used per route, after the method check, so a 405 never depends on the body.
 */
export function jsonBody(limit: number): RequestHandler[] {
  return [
    express.raw({ type: () => true, limit }),
    (req, res, next) => {
      try {
        req.body = parseJsonBody(Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0));
        next();
      } catch (err) {
        if (err instanceof MalformedJson) return sendError(res, 400, err.message);
        next(err);
      }
    },
  ];
}
