// Security events in the replica's log (pino, through the shared schema): log-ins that failed,
// were refused (429) or succeeded, deleted accounts, and every answer that refused a client for
// who it is (401, 403, 429), each with the client's address as the balancer saw it (req.ip:
// X-Forwarded-For from a trusted proxy). Never a password, a cookie or a session key.
import type { Request, RequestHandler } from 'express';
import type { Logger } from '../log.ts';

const LOGGED = 'securityEventLogged';
const LOGGER = 'securityLogger';

/** Installs the logger the events go to, and logs the refusals no route logged itself. */
export function securityLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    res.locals[LOGGER] = logger;
    res.once('finish', () => {
      if (res.locals[LOGGED] === true) return;
      const status = res.statusCode;
      const event =
        status === 401 ? 'unauthenticated' : status === 403 ? 'forbidden' : status === 429 ? 'throttled' : undefined;
      if (event !== undefined)
        logger.warn('security', { event, status, method: req.method, path: req.path, client: req.ip });
    });
    next();
  };
}

/** An event a route names itself (with fields such as the username); once per request. */
export function securityEvent(req: Request, event: string, fields: Record<string, string | number> = {}): void {
  const res = req.res;
  const logger = res?.locals[LOGGER] as Logger | undefined;
  if (res === undefined || logger === undefined) return;
  res.locals[LOGGED] = true;
  const level = event.endsWith('.ok') || event.endsWith('.deleted') ? 'info' : 'warn';
  logger[level]('security', { event, method: req.method, path: req.path, client: req.ip, ...fields });
}
