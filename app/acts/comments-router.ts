// Comments on an act (extension, docs/api-notes.md). Anyone reads them; a logged-in user
// writes one, in either access mode (a comment needs an author); in owner mode only the
// comment's author or the act's author removes it, in open mode any logged-in user.
import { Router } from 'express';
import { sessionAccount, type Access } from '../http/access.ts';
import { badRequest, HttpError } from '../http/errors.ts';
import { jsonBody } from '../http/json.ts';
import { commentText } from '../http/names.ts';
import { sendJson } from '../http/respond.ts';
import { route } from '../http/routes.ts';
import { routeActId } from './acts-router.ts';
import type { ActsStore } from './acts-store.ts';
import { type CommentsStore, MAX_COMMENTS } from './comments-store.ts';

export interface CommentsDeps {
  acts: ActsStore;
  comments: CommentsStore;
  access: Access;
  bodyLimit: number;
}

function commentId(value: unknown): number {
  const id = typeof value === 'string' && /^[1-9][0-9]{0,14}$/.test(value) ? Number(value) : undefined;
  if (id === undefined) throw badRequest('a comment id is a positive integer');
  return id;
}

export function commentsRouter({ acts, comments, access, bodyLimit }: CommentsDeps): Router {
  const router = Router();
  const actOf = async (value: unknown) => {
    const act = await acts.ownerOf(routeActId(value));
    if (act === undefined) throw new HttpError(404, 'no such act');
    return act;
  };

  route(router, '/api/v1/acts/:actId/comments', {
    get: async (req, res) => {
      const { seq } = await actOf(req.params.actId);
      sendJson(
        res,
        200,
        (await comments.list(seq)).map(({ authorKey: _key, ...comment }) => comment),
      );
    },
    post: [
      ...access.identified,
      ...jsonBody(bodyLimit, { jsonTypeOnly: true }),
      async (req, res) => {
        const body: unknown = req.body;
        if (typeof body !== 'object' || body === null || Array.isArray(body) || Object.keys(body).join() !== 'text')
          throw badRequest('body must be an object with one key, text: {"text": "..."}');
        const text = commentText((body as { text: unknown }).text);
        const { seq } = await actOf(req.params.actId);
        const outcome = await comments.add(seq, sessionAccount(res), text, Date.now());
        if (outcome === 'full')
          throw new HttpError(409, `this act has the most comments it may hold (${MAX_COMMENTS})`);
        sendJson(res, 201, { id: outcome.added });
      },
    ],
  });

  route(router, '/api/v1/acts/:actId/comments/:commentId', {
    delete: [
      ...access.identified,
      async (req, res) => {
        const act = await actOf(req.params.actId);
        const id = commentId(req.params.commentId);
        const comment = await comments.one(act.seq, id);
        if (comment === undefined) throw new HttpError(404, 'no such comment');
        const who = sessionAccount(res).key;
        if (access.mode === 'owner' && who !== comment.authorKey && who !== act.ownerKey)
          throw new HttpError(403, "only the comment's author or the act's author can remove a comment");
        await comments.remove(act.seq, id);
        sendJson(res, 200, {});
      },
    ],
  });
  return router;
}
