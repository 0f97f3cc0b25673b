// Acts service, spec rows 13-20: acts across categories.
import { Router } from 'express';
import { badRequest, HttpError } from '../http/errors.ts';
import { digitsToken, jsonBody, sendError, sendJson } from '../http/json.ts';
import { route } from '../http/routes.ts';
import { text } from '../http/validate.ts';
import { sendActs } from './act-json.ts';
import type { ActsStore } from './acts-store.ts';
import { uploadHandler, type UploadDeps } from './upload.ts';
import { canonicalActId } from './values.ts';

const IMAGE_CACHE_CONTROL = 'public, max-age=31536000, immutable';

function routeActId(value: unknown): string {
  const actId = typeof value === 'string' ? canonicalActId(value) : undefined;
  if (actId === undefined) throw badRequest('actId must be an unsigned integer');
  return actId;
}

/** If-None-Match holds our quoted tag, or `*`; weak comparison, as RFC 9110 asks for GET. */
function matchesEtag(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header.split(',').some((tag) => {
    const t = tag.trim();
    return t === '*' || t.replace(/^W\//, '') === etag;
  });
}

export function actsRouter(deps: UploadDeps): Router {
  const router = Router();
  const acts: ActsStore = deps.acts;

  route(router, '/api/v1/acts', {
    // Rows 19 and 20. Existing clients probe the bare path and expect 405.
    get: async (req, res) => {
      const { start, end, username } = req.query;
      if (start === undefined && end === undefined) {
        res.setHeader('Allow', 'POST');
        return sendError(res, 405, 'GET /api/v1/acts needs start and end');
      }
      const filter = username === undefined ? 'all' : { username: text(username, 'username') };
      await sendActs(res, acts, filter, start, end);
    },
    // Rows 15 and 17
    post: uploadHandler(deps),
  });

  // Row 13
  route(router, '/api/v1/acts/upvote', {
    post: [
      ...jsonBody(deps.bodyLimit),
      async (req, res) => {
        const body: unknown = req.body;
        const digits = Array.isArray(body) && body.length === 1 ? digitsToken(body[0]) : undefined;
        const actId = digits === undefined ? undefined : canonicalActId(digits);
        if (actId === undefined) throw badRequest('body must be a one-element array holding an actId: [123]');
        if (!(await acts.upvote(actId))) throw badRequest('no such act');
        sendJson(res, 200, {});
      },
    ],
  });

  // Row 16
  route(router, '/api/v1/acts/count', {
    get: async (_req, res) => sendJson(res, 200, [await acts.count('all')]),
  });

  // Row 14
  route(router, '/api/v1/acts/:actId', {
    delete: async (req, res) => {
      if (!(await acts.remove(routeActId(req.params.actId)))) throw badRequest('no such act');
      sendJson(res, 200, {});
    },
  });

  // Row 18: an act's image never changes, so it may be cached for good.
  route(router, '/api/v1/acts/:actId/image', {
    get: async (req, res) => {
      const meta = await acts.imageMeta(routeActId(req.params.actId));
      if (meta === undefined) throw new HttpError(404, 'no such act');
      const etag = `"${meta.etag}"`;
      res.setHeader('ETag', etag);
      res.setHeader('Cache-Control', IMAGE_CACHE_CONTROL);
      if (matchesEtag(req.headers['if-none-match'], etag)) return void res.status(304).end();
      const bytes = await acts.imageBytes(meta.seq);
      res.status(200).type(meta.type).send(bytes);
    },
  });

  return router;
}
