// The Express application: security headers, the crash switch and counter, sessions, the
// services' routes, the web UI (SERVICE=all only), then 404 and the error handler.
import { existsSync } from 'node:fs';
import cookieParser from 'cookie-parser';
import express, { type Express } from 'express';
import helmet from 'helmet';
import { errorHandler, notFound } from './http/errors.ts';
import { lingerOnUnreadBodies } from './http/linger.ts';
import { countRequests, crashGuard, replicaRouter, type ReplicaState } from './http/replica.ts';
import type { Logger } from './log.ts';
import type { ServiceHandle } from './service-handle.ts';

export interface HttpAppOptions {
  services: ServiceHandle[];
  state: ReplicaState;
  sessionSecret: string;
  /** Static files served at `/`, or undefined. */
  publicDir: string | undefined;
  logger: Logger;
}

export function httpApp(options: HttpAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  // Lists change under clients; only images (row 18) carry an ETag, set by their route.
  app.set('etag', false);
  app.use(
    helmet({
      // The UI may be served over plain HTTP by IP address: upgrading its requests would break it.
      contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } },
    }),
  );
  app.use(lingerOnUnreadBodies);
  app.use(countRequests(options.state));
  app.use(crashGuard(options.state));
  app.use(cookieParser(options.sessionSecret));
  app.use(replicaRouter(options.state, options.services.map((s) => s.probe)));
  for (const service of options.services) app.use(service.router);
  if (options.publicDir !== undefined && existsSync(options.publicDir)) {
    app.use(express.static(options.publicDir, { index: 'index.html' }));
  }
  app.use(notFound);
  app.use(errorHandler(options.logger));
  return app;
}
