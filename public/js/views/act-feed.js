// A grid of act cards read a page at a time. The next page loads by itself as the end of the
// grid comes near (infinite scroll), and a "Show older acts" button does the same for keyboards
// and when automatic loading failed. The category feed, everyone's acts and profiles share it:
// they differ only in how a page is fetched and in their empty state.
import { h } from '../dom.js';
import { gallery } from '../gallery.js';
import { actCard } from './act-card.js';

/** Acts shown per page. */
export const PAGE_SIZE = 24;

/**
 * @typedef {{acts: object[], last: number, more: boolean}} FeedPage
 *   the acts read from a 1-based position on, the last position read, whether older acts exist
 * @param {{
 *   loadPage: (start: number) => Promise<FeedPage>,
 *   empty: () => Node,
 *   showCategory?: boolean,
 *   onRemoved?: (act: object) => void,
 * }} options
 */
export function actFeed({ loadPage, empty, showCategory = false, onRemoved }) {
  const grid = h('div.act-grid', { 'aria-live': 'polite', 'aria-busy': 'true' });
  const more = h('button.button.load-more', { type: 'button', hidden: true }, 'Show older acts');
  const row = h('div.load-more-row', {}, more);
  /** @type {object[]} the acts shown, in order: the photo view steps through them */
  const shown = [];
  const ids = new Set();
  let loaded = 0;
  let older = false;
  /** @type {Promise<boolean> | null} */
  let loading = null;

  const settle = () => {
    if (shown.length === 0 && !older) grid.replaceChildren(empty());
  };
  // Removing an act moves every older one up a position, so the next page starts one earlier.
  const removed = (act) => {
    loaded -= 1;
    const at = shown.indexOf(act);
    if (at >= 0) shown.splice(at, 1);
    ids.delete(act.actId);
    onRemoved?.(act);
    settle();
  };

  const next = async () => {
    more.disabled = true;
    const page = await loadPage(loaded + 1);
    if (!grid.isConnected) return false;
    loaded = page.last;
    // Positions shift when someone uploads meanwhile; an act already shown is not repeated.
    for (const act of page.acts) {
      if (ids.has(act.actId)) continue;
      ids.add(act.actId);
      shown.push(act);
      grid.append(actCard(act, { showCategory, first: shown.length === 1, onRemoved: removed }));
    }
    older = page.more;
    more.hidden = !older;
    more.disabled = false;
    settle();
    return older;
  };
  /** One page at a time, however many scrolls and clicks ask. */
  const loadMore = () => {
    if (!older) return Promise.resolve(false);
    loading ??= next()
      .catch((err) => {
        more.disabled = false;
        more.textContent = `Could not load more (${err.message}). Try again`;
        return false;
      })
      .finally(() => {
        loading = null;
      });
    return loading;
  };

  more.addEventListener('click', () => void loadMore());
  // Starts loading while the end is still a screen away, so scrolling rarely waits.
  const observer = new IntersectionObserver(
    (entries) => {
      if (entries.some((e) => e.isIntersecting)) void loadMore();
    },
    { rootMargin: '0px 0px 800px 0px' },
  );

  return {
    elements: [grid, row],
    /** Shows the first page; a failure here is the view's to report. */
    async start() {
      grid.removeAttribute('aria-busy');
      await next();
      gallery.set(shown, loadMore);
      if (grid.isConnected) observer.observe(row);
    },
    /** Stops watching the scroll position (the view's cleanup). */
    stop() {
      observer.disconnect();
    },
  };
}

/**
 * Pages of a listing whose size is known (a category's, a user's, everyone's): a page never asks
 * past the last act, so no range is refused, and an empty listing needs no request. Set `size`
 * before the first load; a removal lowers it.
 * @param {(start: number, end: number) => Promise<object[]>} fetchRange
 */
export function sizedPages(fetchRange) {
  const pages = {
    size: 0,
    /** @returns {Promise<FeedPage>} */
    async load(start) {
      const end = Math.min(pages.size, start - 1 + PAGE_SIZE);
      if (end < start) return { acts: [], last: start - 1, more: false };
      return { acts: await fetchRange(start, end), last: end, more: end < pages.size };
    },
  };
  return pages;
}
