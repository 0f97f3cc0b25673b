// A category's acts, newest first, read a page at a time through the range route (rows 11, 12):
// the plain list (row 10) refuses categories of more than 100 acts.
import * as api from '../api.js';
import { h, icon } from '../dom.js';
import { plural } from '../format.js';
import { actCard } from './act-card.js';

export const PAGE_SIZE = 24;

export async function render(section, { name }) {
  document.title = `${name} · SelfLessActs`;
  const count = h('p.feed-count', {}, 'Loading…');
  const grid = h('div.act-grid', { 'aria-live': 'polite', 'aria-busy': 'true' });
  const more = h('button.button.load-more', { type: 'button', hidden: true }, 'Show older acts');
  section.append(
    h('a.back-link', { href: '#/' }, icon('back'), 'All categories'),
    h(
      'div.feed-head',
      {},
      h('div', {}, h('h1', {}, name), count),
      h('a.button.button-primary', { href: `#/upload?c=${encodeURIComponent(name)}` }, icon('upload'), h('span', {}, 'Share an act here')),
    ),
    grid,
    h('div.load-more-row', {}, more),
  );

  let size;
  try {
    size = await api.categorySize(name);
  } catch (err) {
    if (!(err instanceof api.ApiError) || err.status !== 400) throw err;
    if (!section.isConnected) return;
    section.replaceChildren(
      h('div.empty', {}, h('h1', {}, 'No such category'), h('p', {}, `There is no category called “${name}”. It may have been removed.`), h('a.button.button-primary', { href: '#/' }, 'All categories')),
    );
    return;
  }
  if (!section.isConnected) return;
  const shown = new Set();
  let loaded = 0;

  const showCount = () => {
    count.textContent = size === 0 ? 'No acts yet' : plural(size, 'act');
  };
  const onRemoved = () => {
    size -= 1;
    loaded -= 1;
    showCount();
    if (size === 0) showEmpty();
  };
  const showEmpty = () => {
    grid.replaceChildren(
      h(
        'div.empty',
        {},
        h('p', {}, 'Nobody has shared an act here yet.'),
        h('a.button.button-primary', { href: `#/upload?c=${encodeURIComponent(name)}` }, 'Be the first'),
      ),
    );
  };

  const loadPage = async () => {
    more.disabled = true;
    const start = loaded + 1;
    const end = Math.min(size, loaded + Math.min(PAGE_SIZE, api.MAX_PAGE));
    const acts = await api.categoryActs(name, start, end);
    if (!section.isConnected) return;
    loaded = end;
    // Positions shift when someone uploads meanwhile; an act already shown is not repeated.
    for (const act of acts) {
      if (shown.has(act.actId)) continue;
      shown.add(act.actId);
      grid.append(actCard(act, { onRemoved }));
    }
    more.hidden = loaded >= size;
    more.disabled = false;
  };

  showCount();
  grid.removeAttribute('aria-busy');
  if (size === 0) showEmpty();
  else await loadPage();
  more.addEventListener('click', () => loadPage().catch((err) => {
    more.disabled = false;
    more.textContent = `Could not load more (${err.message}). Try again`;
  }));
}
