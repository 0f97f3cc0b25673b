// A route lists the methods it answers; every other method gets 405 with an Allow header,
// before any body is read, so the answer never depends on what was sent.
import { Router, type Request, type RequestHandler } from 'express';
import { sendError } from './respond.ts';

export type Method = 'get' | 'post' | 'delete' | 'put' | 'patch';
export type MethodHandlers = Partial<Record<Method, RequestHandler | RequestHandler[]>>;

export function route(router: Router, path: string, handlers: MethodHandlers): void {
  const r = router.route(path);
  const allowed: string[] = [];
  for (const [method, handler] of Object.entries(handlers) as [Method, RequestHandler | RequestHandler[]][]) {
    r[method](...(Array.isArray(handler) ? handler : [handler]));
    allowed.push(method.toUpperCase());
    if (method === 'get') allowed.push('HEAD');
  }
  r.all((req, res) => {
    res.setHeader('Allow', allowed.join(', '));
    sendError(res, 405, `${req.method} is not allowed on ${req.path}; allowed: ${allowed.join(', ')}`);
  });
}

/** `handlers` in order for the requests `applies` accepts; the others skip them. */
export function onlyWhen(applies: (req: Request) => boolean, handlers: RequestHandler[]): RequestHandler {
  const chain = Router();
  chain.use(...handlers);
  return (req, res, next) => (applies(req) ? chain(req, res, next) : next());
}
