// A grid of act cards read a page at a time, with a "Show older acts" button. The category
// feed and "My acts" share it: they differ only in how a page is fetched and in their empty state.
import { h } from '../dom.js';
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
 *   onChange?: (state: {cards: number, more: boolean}) => void,
 *   onRemoved?: (act: object) => void,
 * }} options
 */
export function actFeed({ loadPage, empty, showCategory = false, onChange, onRemoved }) {
  const grid = h('div.act-grid', { 'aria-live': 'polite', 'aria-busy': 'true' });
  const more = h('button.button.load-more', { type: 'button', hidden: true }, 'Show older acts');
  const shown = new Set();
  let loaded = 0;
  let cards = 0;
  let older = false;

  const settle = () => {
    onChange?.({ cards, more: older });
    if (cards === 0 && !older) grid.replaceChildren(empty());
  };
  // Removing an act moves every older one up a position, so the next page starts one earlier.
  const removed = (act) => {
    loaded -= 1;
    cards -= 1;
    onRemoved?.(act);
    settle();
  };

  const next = async () => {
    more.disabled = true;
    const page = await loadPage(loaded + 1);
    if (!grid.isConnected) return;
    loaded = page.last;
    // Positions shift when someone uploads meanwhile; an act already shown is not repeated.
    for (const act of page.acts) {
      if (shown.has(act.actId)) continue;
      shown.add(act.actId);
      grid.append(actCard(act, { showCategory, onRemoved: removed }));
      cards += 1;
    }
    older = page.more;
    more.hidden = !older;
    more.disabled = false;
    settle();
  };

  more.addEventListener('click', () =>
    next().catch((err) => {
      more.disabled = false;
      more.textContent = `Could not load more (${err.message}). Try again`;
    }),
  );

  return {
    elements: [grid, h('div.load-more-row', {}, more)],
    /** Shows the first page; a failure here is the view's to report. */
    async start() {
      grid.removeAttribute('aria-busy');
      await next();
    },
  };
}
