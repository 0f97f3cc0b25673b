// SelfLessActs' link previews (contracts/page-preview.ts: what the balancer's `balancer.previews`
// writes into a page's Open Graph and Twitter tags), made with its defaults.
import type { PagePreview, PreviewImage } from '../../contracts/page-preview.ts';

export type { PagePreview, PreviewImage };

const MAX_DESCRIPTION = 200;
/** Narrower images make a poor large card: Twitter's own floor for summary_large_image is 300 px. */
const LARGE_CARD_WIDTH = 300;

/** `text` on one line, cut at a word to at most `max` characters (an ellipsis says so). */
export function shortened(text: string, max = MAX_DESCRIPTION): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= max) return flat;
  const cut = flat.slice(0, max - 1);
  const atWord = cut.lastIndexOf(' ');
  return `${(atWord > max / 2 ? cut.slice(0, atWord) : cut).trimEnd()}…`;
}

/** A preview, its description shortened and its card fitted to its image. */
export function pagePreview(p: {
  title: string;
  description: string;
  type: PagePreview['type'];
  image: PreviewImage | undefined;
}): PagePreview {
  return {
    title: p.title,
    description: shortened(p.description),
    type: p.type,
    ...(p.image ? { image: p.image } : {}),
    card: p.image !== undefined && p.image.width >= LARGE_CARD_WIDTH ? 'summary_large_image' : 'summary',
  };
}
