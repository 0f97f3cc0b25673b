// Extension: what a shared link to an act (/a/37) or a category (/c/kindness) shows as its
// preview card: the balancer (balancer.previews) asks here and writes the answer into the
// page's Open Graph and Twitter tags. Public facts only, the same a visitor's listing shows.
import { Router } from 'express';
import { HttpError } from '../http/errors.ts';
import { sendJson } from '../http/respond.ts';
import { route } from '../http/routes.ts';
import type { ActsStore, ListedAct } from './acts-store.ts';
import type { CategoriesStore } from './categories-store.ts';
import { routeActId } from './acts-router.ts';
import { pagePreview, shortened, type PagePreview, type PreviewImage } from '../http/page-preview.ts';

/** Large link previews are drawn about this wide (Open Graph's advice: 1200 × 630). */
const PREVIEW_WIDTH = 1200;

/**
 * The act's smallest sized copy at least a large preview wide (else its largest), as JPEG:
 * every unfurler reads JPEG, and a copy is far lighter than the original.
 */
function actImage(act: ListedAct): PreviewImage | undefined {
  const image = act.image;
  if (!image.width || !image.height || image.widths.length === 0) return undefined;
  const width = image.widths.find((w) => w >= PREVIEW_WIDTH) ?? image.widths.at(-1)!;
  return {
    url: `/api/v1/acts/${act.actId}/image/${image.version}/${width}.jpg`,
    type: 'image/jpeg',
    width,
    height: Math.round((image.height * width) / image.width),
    alt: image.alt !== '' ? image.alt : act.caption,
  };
}

function actPreview(act: ListedAct): PagePreview {
  const image = actImage(act);
  return pagePreview({
    title: `A kind act by ${act.username} · ${act.categoryName}`,
    description: act.caption.trim() !== '' ? act.caption : `Shared in ${act.categoryName}.`,
    type: 'article',
    image,
  });
}

export function previewsRouter({ acts, categories }: { acts: ActsStore; categories: CategoriesStore }): Router {
  const router = Router();

  route(router, '/api/v1/previews/a/:actId', {
    get: async (req, res) => {
      const act = await acts.one(routeActId(req.params.actId));
      if (act === undefined) throw new HttpError(404, 'no such act');
      sendJson(res, 200, actPreview(act));
    },
  });

  route(router, '/api/v1/previews/c/:categoryName', {
    get: async (req, res) => {
      const name = req.params.categoryName as string;
      const id = await categories.idOf(name);
      if (id === undefined) throw new HttpError(404, 'no such category');
      const [newest] = await acts.list({ categoryId: id }, 0, 1);
      const count = newest === undefined ? 0 : await acts.count({ categoryId: id });
      sendJson(
        res,
        200,
        pagePreview({
          title: `${name} · SelfLessActs`,
          description:
            newest === undefined
              ? `No acts in ${name} yet: be the first to share one.`
              : `${count === 1 ? 'One kind act' : `${count} kind acts`} in ${name}. The newest, by ${newest.username}: ${shortened(newest.caption, 120)}`,
          type: 'website',
          image: newest && actImage(newest),
        }),
      );
    },
  });

  return router;
}
