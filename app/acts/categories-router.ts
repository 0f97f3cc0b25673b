// Acts service, spec rows 7-12: categories and the acts in each, in either access mode.
import { Router } from 'express';
import { sessionAccountIfAny, type Access } from '../http/access.ts';
import { badRequest, HttpError } from '../http/errors.ts';
import { jsonBody } from '../http/json.ts';
import { sendEmpty, sendJson } from '../http/respond.ts';
import { route } from '../http/routes.ts';
import { givenName, newName } from '../http/names.ts';
import { sendListing } from './act-json.ts';
import type { ActsStore } from './acts-store.ts';
import type { CategoriesStore } from './categories-store.ts';
import type { UpvotesStore } from './upvotes-store.ts';

export interface CategoriesDeps {
  categories: CategoriesStore;
  acts: ActsStore;
  upvotes: UpvotesStore;
  bodyLimit: number;
  access: Access;
}

export function categoriesRouter({ categories, acts, upvotes, bodyLimit, access }: CategoriesDeps): Router {
  const router = Router();
  const owner = access.mode === 'owner';

  const existing = async (name: string): Promise<number> => {
    const id = await categories.idOf(name);
    if (id === undefined) throw badRequest('no such category');
    return id;
  };

  route(router, '/api/v1/categories', {
    // Row 7. A null-prototype object: a category may well be called "__proto__".
    get: async (_req, res) => {
      const rows = await categories.listWithCounts();
      if (rows.length === 0) return sendEmpty(res, 204);
      const counts: Record<string, number> = Object.create(null);
      for (const [name, n] of rows) counts[name] = n;
      sendJson(res, 200, counts);
    },
    // Row 8: in owner mode, any logged-in user.
    post: [
      ...access.write,
      ...jsonBody(bodyLimit, { jsonTypeOnly: owner }),
      async (req, res) => {
        const body: unknown = req.body;
        if (!Array.isArray(body) || body.length !== 1) throw badRequest('body must be a one-element array: ["name"]');
        const name = newName(body[0], 'category name', access.mode);
        // Owner mode: one category per name as people read it, so a feed is not split in two.
        const twin = owner ? await categories.sameButCase(name) : undefined;
        if (twin !== undefined && twin !== name) {
          throw badRequest(`category already exists as "${twin}" (names differ only in case): post to "${twin}"`);
        }
        if (!(await categories.create(name))) throw badRequest('category already exists');
        sendJson(res, 201, {});
      },
    ],
  });

  // Row 9: in owner mode, only while it holds no acts of anyone else.
  route(router, '/api/v1/categories/:name', {
    delete: [
      ...access.write,
      async (req, res) => {
        const outcome = await categories.remove(
          givenName(req.params.name as string, access.mode),
          sessionAccountIfAny(res)?.key,
        );
        if (outcome === 'no-category') throw badRequest('no such category');
        if (outcome === 'not-yours')
          throw new HttpError(
            403,
            'this category holds acts of other users: only a category of your own acts can be removed',
          );
        sendJson(res, 200, {});
      },
    ],
  });

  // Rows 10 and 12
  route(router, '/api/v1/categories/:name/acts', {
    get: async (req, res) => {
      const categoryId = await existing(givenName(req.params.name as string, access.mode));
      await sendListing(res, { acts, upvotes }, { categoryId }, req.query, await access.viewer(req));
    },
  });

  // Row 11
  route(router, '/api/v1/categories/:name/acts/size', {
    get: async (req, res) => {
      const categoryId = await existing(givenName(req.params.name as string, access.mode));
      sendJson(res, 200, [await acts.count({ categoryId })]);
    },
  });

  return router;
}
