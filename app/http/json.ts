// JSON in and out without losing digits. Bodies are parsed with lossless-json, so every number
// arrives as a LosslessNumber holding its exact source text; responses are written with its
// stringify, so an actId wrapped in a LosslessNumber leaves with exactly the digits stored.
import express, { type RequestHandler, type Response } from 'express';
import { LosslessNumber, isLosslessNumber, parse, stringify } from 'lossless-json';

/** The JSON number token for a canonical decimal string (e.g. an actId). */
export function exactNumber(digits: string): LosslessNumber {
  return new LosslessNumber(digits);
}

export function sendJson(res: Response, status: number, value: unknown): void {
  res.status(status).type('application/json; charset=utf-8').send(stringify(value) ?? 'null');
}

export function sendError(res: Response, status: number, reason: string): void {
  sendJson(res, status, { error: reason });
}

export function sendEmpty(res: Response, status: number): void {
  res.status(status).end();
}

/** A JSON number written with digits only (no sign, fraction or exponent), as its text. */
export function digitsToken(value: unknown): string | undefined {
  return isLosslessNumber(value) && /^[0-9]+$/.test(value.value) ? value.value : undefined;
}

export class MalformedJson extends Error {}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function parseJsonBody(bytes: Buffer): unknown {
  if (bytes.length === 0) return undefined;
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new MalformedJson('request body is not valid UTF-8');
  }
  try {
    return parse(text);
  } catch (err) {
    throw new MalformedJson(`malformed JSON: ${(err as Error).message}`);
  }
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
