// Every error leaves as {"error": "<reason>"}. Expected failures are HttpErrors with a status
// chosen by the route; anything else is classified here, logged, and answered without detail.
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { isDatabaseUnavailable, isTooLargeForDatabase } from '../db/errors.ts';
import { describeError, type Logger } from '../log.ts';
import { sendError } from './respond.ts';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Seconds for Retry-After (a 429 or 503 that says when to come back). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const badRequest = (message: string) => new HttpError(400, message);

export const notFound: RequestHandler = (req, res) => {
  sendError(res, 404, `no route for ${req.method} ${req.path}`);
};

/** Errors raised by the router's path decoding (and other http-errors) carry a status. */
function fromParser(err: unknown): HttpError | undefined {
  const e = err as { status?: unknown };
  if (err instanceof URIError) return badRequest('malformed URL encoding in the path');
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
    return new HttpError(e.status, e.status === 400 ? 'malformed request' : 'request rejected');
  }
  return undefined;
}

export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (err instanceof HttpError) {
      if (err.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(err.retryAfterSeconds));
      return sendError(res, err.status, err.message);
    }
    const parserError = fromParser(err);
    if (parserError) return sendError(res, parserError.status, parserError.message);
    if (isTooLargeForDatabase(err))
      return sendError(res, 413, 'request is larger than the database accepts (MySQL max_allowed_packet)');
    if (isDatabaseUnavailable(err)) {
      log.error('database_unavailable', { method: req.method, path: req.path, ...describeError(err) });
      return sendError(res, 503, 'database unavailable, try again shortly');
    }
    log.error('request_failed', { method: req.method, path: req.path, ...describeError(err) });
    sendError(res, 500, 'internal error');
  };
}
