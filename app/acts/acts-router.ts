// Acts service, spec rows 13-20 and the owner-mode un-vote route: acts across categories.
import { Router } from 'express';
import { sessionAccount, sessionAccountIfAny } from '../http/access.ts';
import { badRequest, HttpError } from '../http/errors.ts';
import { digitsToken, jsonBody } from '../http/json.ts';
import { sendError, sendJson } from '../http/respond.ts';
import { route } from '../http/routes.ts';
import { nameField } from '../http/names.ts';
import { cardJson, listingOptions, sendImage, sendListing } from './act-json.ts';
import { uploadHandler, type UploadDeps } from './upload.ts';
import type { UpvotesStore, VoteOutcome } from './upvotes-store.ts';
import { canonicalActId } from './values.ts';
import { parseVariantName, variantName } from './variants.ts';

const IMAGE_CACHE_CONTROL = 'public, max-age=31536000, immutable';

export function routeActId(value: unknown): string {
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

/** The answer to an owner-mode vote that did not happen. */
function refusedVote(outcome: Exclude<VoteOutcome, 'done'>): HttpError {
  if (outcome === 'no-act') return badRequest('no such act');
  if (outcome === 'already')
    return new HttpError(409, 'you have already upvoted this act (DELETE /api/v1/acts/{actId}/upvote takes it back)');
  return new HttpError(409, 'you have not upvoted this act');
}

export function actsRouter(deps: UploadDeps & { upvotes: UpvotesStore }): Router {
  const router = Router();
  const { acts, upvotes, access } = deps;
  const owner = access.mode === 'owner';

  route(router, '/api/v1/acts', {
    // Rows 19 and 20. Existing clients probe the bare path and expect 405.
    get: async (req, res) => {
      const { start, end, username } = req.query;
      if (start === undefined && end === undefined) {
        res.setHeader('Allow', 'POST');
        return sendError(res, 405, 'GET /api/v1/acts needs start and end');
      }
      const filter = username === undefined ? 'all' : { username: nameField(username, 'username', access.mode) };
      await sendListing(res, { acts, upvotes }, filter, req.query, await access.viewer(req));
    },
    // Rows 15 and 17
    post: uploadHandler(deps),
  });

  // Row 13: anonymous and unlimited in open mode; once per user in owner mode (409 after).
  route(router, '/api/v1/acts/upvote', {
    post: [
      ...access.write,
      ...jsonBody(deps.bodyLimit, { jsonTypeOnly: owner }),
      async (req, res) => {
        const body: unknown = req.body;
        const digits = Array.isArray(body) && body.length === 1 ? digitsToken(body[0]) : undefined;
        const actId = digits === undefined ? undefined : canonicalActId(digits);
        if (actId === undefined) throw badRequest('body must be a one-element array holding an actId: [123]');
        const voter = sessionAccountIfAny(res);
        if (voter === undefined) {
          if (!(await upvotes.addAnonymous(actId))) throw badRequest('no such act');
        } else {
          const outcome = await upvotes.add(actId, voter.key);
          if (outcome !== 'done') throw refusedVote(outcome);
        }
        sendJson(res, 200, {});
      },
    ],
  });

  // Row 16; extensions: `?username=u` counts that user's acts (a profile's size: row 20 has no
  // size route), `?q=words` those a search finds (its results' size, for their ranges).
  route(router, '/api/v1/acts/count', {
    get: async (req, res) => {
      const { username } = req.query;
      const filter = username === undefined ? 'all' : { username: nameField(username, 'username', access.mode) };
      sendJson(res, 200, [await acts.count(filter, listingOptions({ q: req.query.q }))]);
    },
  });

  // Row 14: in owner mode, only its author.
  route(router, '/api/v1/acts/:actId', {
    delete: [
      ...access.write,
      async (req, res) => {
        const outcome = await acts.remove(routeActId(req.params.actId), sessionAccountIfAny(res)?.key);
        if (outcome === 'no-act') throw badRequest('no such act');
        if (outcome === 'not-yours') throw new HttpError(403, 'only its author can remove an act');
        sendJson(res, 200, {});
      },
    ],
  });

  // Extension, owner mode only (open mode has no one to take a vote back from): un-vote.
  if (owner) {
    route(router, '/api/v1/acts/:actId/upvote', {
      delete: [
        ...access.write,
        async (req, res) => {
          const outcome = await upvotes.remove(routeActId(req.params.actId), sessionAccount(res).key);
          if (outcome !== 'done') throw refusedVote(outcome);
          sendJson(res, 200, {});
        },
      ],
    });
  }

  // Extension: one act as a card (the listing's card view), for a photo's own page.
  route(router, '/api/v1/acts/:actId/card', {
    get: async (req, res) => {
      const act = await acts.one(routeActId(req.params.actId));
      if (act === undefined) throw new HttpError(404, 'no such act');
      const viewer = await access.viewer(req);
      const voted = viewer === undefined ? undefined : await upvotes.votedBy(viewer.key, [act.seq]);
      sendJson(res, 200, cardJson(act, voted?.has(act.seq)));
    },
  });

  // Extension: a sized copy of the image (acts/variants.ts). The version (the image's content
  // hash) is in the path, so a URL always names the same bytes, even when a removed act's
  // actId is given to a new one: it may be cached for good.
  route(router, '/api/v1/acts/:actId/image/:version/:variant', {
    get: async (req, res) => {
      const actId = routeActId(req.params.actId);
      const wanted = parseVariantName(req.params.variant as string);
      if (wanted === undefined)
        throw new HttpError(
          404,
          'no such variant: ask for one of the widths the listing gives, as WIDTH.webp or WIDTH.jpg',
        );
      const meta = await acts.imageMeta(actId);
      if (meta === undefined) throw new HttpError(404, 'no such act');
      if (meta.etag.slice(0, 16) !== req.params.version)
        throw new HttpError(404, 'this act has another image now: list it again');
      const name = variantName(wanted.width, wanted.format);
      const etag = `"${meta.etag.slice(0, 32)}-${name}"`;
      res.setHeader('ETag', etag);
      res.setHeader('Cache-Control', IMAGE_CACHE_CONTROL);
      if (matchesEtag(req.headers['if-none-match'], etag)) return void res.status(304).end();
      if (!(await sendImage(res, acts, meta.seq, `image/${wanted.format}`, name))) {
        res.removeHeader('ETag');
        res.removeHeader('Cache-Control');
        throw new HttpError(404, 'no such variant');
      }
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
      if (!(await sendImage(res, acts, meta.seq, meta.type))) {
        res.removeHeader('ETag');
        res.removeHeader('Cache-Control');
        throw new HttpError(404, 'no such act');
      }
    },
  });

  return router;
}
