// The answers every route gives: JSON (errors as {"error": reason}) or an empty body. Apart from
// json.ts so that the error handler can answer without depending on body parsing.
import type { Response } from 'express';

export function sendJson(res: Response, status: number, value: unknown): void {
  res
    .status(status)
    .type('application/json; charset=utf-8')
    .send(JSON.stringify(value) ?? 'null');
}

export function sendError(res: Response, status: number, reason: string): void {
  // Every 503 here is "for now" (a database or the users service unreachable): say when to try again.
  if (status === 503 && !res.hasHeader('retry-after')) res.setHeader('retry-after', '1');
  sendJson(res, status, { error: reason });
}

export function sendEmpty(res: Response, status: number): void {
  res.status(status).end();
}
