// JSON in without losing digits. Parsing is json-parse.ts (off the event loop for large bodies:
// json-pool.ts); here is the Express side of it. On output (respond.ts), an actId is a raw JSON
// number (exactNumber) that JSON.stringify writes verbatim.
import type { Request, RequestHandler } from 'express';
import { JSONX, MalformedJson, type RawJson } from './json-parse.ts';
import { parseJsonBodyAsync } from './json-pool.ts';
import { readBody } from './read-body.ts';
import { sendError } from './respond.ts';

export { MalformedJson, parseJsonBody, type RawJson } from './json-parse.ts';

/** The JSON number token for a canonical decimal string (e.g. an actId). */
export function exactNumber(digits: string): RawJson {
  return JSONX.rawJSON(digits);
}

/** A JSON number written with digits only (no sign, fraction or exponent), as its text. */
export function digitsToken(value: unknown): string | undefined {
  return JSONX.isRawJSON(value) && /^[0-9]+$/.test(value.rawJSON) ? value.rawJSON : undefined;
}

/** Whether the request carries a body at all (a length, or chunks). */
export function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

export interface JsonBodyOptions {
  /**
   * Refuse (415) a body whose Content-Type is not application/json. For routes that set or use
   * the session cookie: a cross-site HTML form can send text/plain without a CORS preflight,
   * never application/json. Other routes read any type (existing clients are not all careful).
   */
  jsonTypeOnly?: boolean;
}

/**
 * Reads the body up to `limit` bytes, counted as they arrive whatever the headers say (413
 * beyond), and puts the parsed value, or undefined for an empty body, in req.body. Used per
 * route, after the method check, so a 405 never depends on the body.
 */
export function jsonBody(limit: number, options: JsonBodyOptions = {}): RequestHandler[] {
  return [
    (req, res, next) => {
      if (options.jsonTypeOnly && hasBody(req) && !req.is('application/json')) {
        return sendError(res, 415, 'Content-Type must be application/json');
      }
      next();
    },
    async (req, res, next) => {
      const bytes = await readBody(req, limit);
      try {
        req.body = await parseJsonBodyAsync(bytes);
      } catch (err) {
        if (err instanceof MalformedJson) return sendError(res, 400, err.message);
        throw err;
      }
      next();
    },
  ];
}
