// An act's photo as a <picture>: WebP sizes for browsers that read it, JPEG for the others, and
// `sizes` telling the browser how wide it will be shown, so it fetches the smallest copy that
// is sharp enough. Width and height are the photo's own, so its place is kept before it loads.
// Acts stored before variants existed, and row 15 bytes that are no image, fall back to the
// original (row 18).
import * as api from './api.js';
import { h } from './dom.js';

/**
 * @param {import('./api.js').Card} card
 * @param {{sizes: string, alt: string, lazy?: boolean, first?: boolean, className?: string}} options
 *   first: the page's first photo, most likely its largest paint: fetched at once and first.
 */
export function actPicture(card, { sizes, alt, lazy = true, first = false, className }) {
  const { widths, width, height } = card.image;
  const common = {
    alt,
    decoding: 'async',
    loading: lazy && !first ? 'lazy' : 'eager',
    ...(first ? { fetchpriority: 'high' } : {}),
    class: className,
    // The intrinsic size: the browser reserves the place before a byte has arrived.
    width: width ?? undefined,
    height: height ?? undefined,
    onerror: (e) => e.currentTarget.closest('.photo-frame')?.classList.add('photo-missing'),
  };
  if (widths.length === 0) return h('img', { ...common, src: api.imageUrl(card.actId) });
  const srcset = (format) => widths.map((w) => `${api.variantUrl(card, w, format)} ${w}w`).join(', ');
  const fallback = widths.find((w) => w >= 640) ?? widths[widths.length - 1];
  return h(
    'picture',
    {},
    h('source', { type: 'image/webp', srcset: srcset('webp'), sizes }),
    h('img', { ...common, src: api.variantUrl(card, fallback, 'jpg'), srcset: srcset('jpg'), sizes }),
  );
}

/** `sizes` for a photo shown whole in a box of the viewport's size (the photo view). */
export function fitSizes(card, boxWidth, boxHeight) {
  const { width, height } = card.image;
  if (!width || !height) return `${Math.round(boxWidth)}px`;
  return `${Math.ceil(Math.min(boxWidth, (boxHeight * width) / height))}px`;
}
