// Per-replica routes (spec rows 21-24, and the liveness check beside them) and the two
// middlewares they rely on: the request counter and the crash switch. One ReplicaState per
// process, shared by both services in SERVICE=all mode, so _count answers for the process.
//
// Two health questions, kept apart as Kubernetes keeps them: `_health` (row 23) says whether
// this replica can serve (its database answers), `_live` (extension) only whether the process
// is alive and not crashed. The orchestrator takes a replica out of rotation on the first and
// replaces it only on the second, so a database outage costs answers, not replicas.
import { Router, type RequestHandler } from 'express';
import { sendEmpty, sendError, sendJson } from './respond.ts';
import { route } from './routes.ts';

export interface ReplicaState {
  requests: number;
  crashed: boolean;
}

/** Resolves when the database was written and read back; rejects otherwise. */
export type HealthProbe = () => Promise<void>;

const UNCOUNTED = new Set(['/api/v1/_count', '/api/v1/_health', '/api/v1/_crash', '/api/v1/_live']);
const HEALTH_TIMEOUT_MS = 2000;

export function isCountedPath(path: string): boolean {
  // Express routes case-insensitively and ignores a trailing slash; count the same way.
  const normalised = path.toLowerCase().replace(/(.)\/+$/, '$1');
  return normalised.startsWith('/api/v1/') && !UNCOUNTED.has(normalised);
}

/** Counted when the request arrives: by the time a client sees an answer, it is included. */
export function countRequests(state: ReplicaState): RequestHandler {
  return (req, _res, next) => {
    if (isCountedPath(req.path)) state.requests += 1;
    next();
  };
}

export function crashGuard(state: ReplicaState): RequestHandler {
  return (_req, res, next) => {
    if (state.crashed) return sendError(res, 500, 'this replica has crashed (POST /api/v1/_crash)');
    next();
  };
}

export function replicaRouter(state: ReplicaState, probes: HealthProbe[]): Router {
  const router = Router();
  route(router, '/api/v1/_count', {
    get: (_req, res) => sendJson(res, 200, [state.requests]),
    delete: (_req, res) => {
      state.requests = 0;
      sendJson(res, 200, {});
    },
  });
  route(router, '/api/v1/_health', {
    get: async (_req, res) => {
      try {
        await withTimeout(Promise.all(probes.map((probe) => probe())), HEALTH_TIMEOUT_MS);
      } catch {
        return sendError(res, 500, 'database cannot be read and written');
      }
      sendEmpty(res, 200);
    },
  });
  // After _crash the crash guard answers 500 before this runs.
  route(router, '/api/v1/_live', { get: (_req, res) => sendEmpty(res, 200) });
  route(router, '/api/v1/_crash', {
    post: (_req, res) => {
      state.crashed = true;
      sendEmpty(res, 200);
    },
  });
  return router;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
