// The Express application: security headers, the crash switch and counter, sessions, the
// services' routes, the web UI (SERVICE=all only), then 404 and the error handler.
import { existsSync } from 'node:fs';
import cookieParser from 'cookie-parser';
import express, { type Express } from 'express';
import helmet from 'helmet';
import { securityLog } from './http/security-log.ts';
import { errorHandler, notFound } from './http/errors.ts';
import { lingerOnUnreadBodies } from './http/linger.ts';
import { replicaMetrics } from './http/metrics.ts';
import { countRequests, crashGuard, replicaRouter, type ReplicaState } from './http/replica.ts';
import type { Logger } from './log.ts';
import type { ServiceHandle } from './service-handle.ts';

/**
 * Whose X-Forwarded-Proto and X-Forwarded-Host Express believes (req.secure, req.protocol):
 * peers on loopback and private networks, which is where the balancer reaches a replica from
 * (127.0.0.1 for child processes; the Docker bridge's gateway, 172.16/12, for containers;
 * ingress controllers on the pod network). Replicas publish their ports on 127.0.0.1 only, so
 * a client on the internet cannot reach them to claim HTTPS, and the balancer overwrites
 * whatever a client sent through it. A shared-secret header would also shut out other local
 * processes, but buys little: the most a forged header can do here is mark the forger's own
 * cookie Secure, and it would need configuring in nginx and ingress too.
 */
export const TRUSTED_PROXIES = 'loopback, linklocal, uniquelocal';

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
  app.set('trust proxy', TRUSTED_PROXIES);
  // Lists change under clients; only images (row 18) carry an ETag, set by their route.
  app.set('etag', false);
  app.use(
    helmet({
      // The UI may be served over plain HTTP by IP address: upgrading its requests would break it.
      contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } },
      // HSTS is the edge's to send, over TLS only (balancer.tls.hstsMaxAgeSeconds): a replica
      // cannot tell whether its client's connection was encrypted.
      strictTransportSecurity: false,
    }),
  );
  app.use(lingerOnUnreadBodies);
  const metrics = replicaMetrics(options.services.map((s) => s.name).join('+'));
  app.use(metrics.serve);
  app.use(metrics.count);
  app.use(countRequests(options.state));
  app.use(crashGuard(options.state));
  app.use(cookieParser(options.sessionSecret));
  app.use(securityLog(options.logger));
  app.use(
    replicaRouter(
      options.state,
      options.services.map((s) => s.probe),
    ),
  );
  for (const service of options.services) app.use(service.router);
  if (options.publicDir !== undefined && existsSync(options.publicDir)) {
    app.use(express.static(options.publicDir, { index: 'index.html' }));
    // Shareable addresses (/a/37, /c/kindness, /u/carol) are the UI's page, which routes them;
    // their link-preview tags are the balancer's to add (balancer.previews).
    const root = options.publicDir;
    app.get(/^\/[acu]\/[^/]+\/?$/, (_req, res) => res.sendFile('index.html', { root }));
  }
  app.use(notFound);
  app.use(errorHandler(options.logger));
  return app;
}
