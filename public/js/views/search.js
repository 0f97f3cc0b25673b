// Finding acts: words looked for in every act's caption, author and category (each word
// somewhere), newest or most upvoted first, a page at a time. The address holds the search
// (#/search?q=garden%20maria&order=popular), so it can be reloaded and shared.
import * as api from '../api.js';
import { h, icon } from '../dom.js';
import { plural } from '../format.js';
import { actFeed, sizedPages } from './act-feed.js';
import { orderOf, orderToggle, withOrder } from './order-toggle.js';

/** What the server takes (app/acts/act-json.ts MAX_SEARCH_CHARS). */
const MAX_SEARCH_CHARS = 100;

export async function render(section, _params, query) {
  const q = (query.get('q') ?? '').trim().slice(0, MAX_SEARCH_CHARS);
  const order = orderOf(query);
  document.title = q ? `“${q}” · Search · SelfLessActs` : 'Search · SelfLessActs';
  const input = h('input#search-q', {
    type: 'search',
    name: 'q',
    value: q,
    maxlength: String(MAX_SEARCH_CHARS),
    placeholder: 'Words in a caption, a name or a category',
    autocomplete: 'off',
  });
  const form = h(
    'form.search-form',
    { role: 'search' },
    h('label.visually-hidden', { for: 'search-q' }, 'Search acts'),
    input,
    h('button.button.button-primary', { type: 'submit' }, icon('search'), h('span', {}, 'Search')),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const words = input.value.trim();
    location.hash = withOrder('/search', words ? { q: words } : {}, order);
  });
  section.append(h('a.back-link', { href: '#/' }, icon('back'), 'All categories'), h('h1', {}, 'Search'), form);
  if (!q) {
    section.append(h('p.hint', {}, 'Find acts by what they say, who shared them, or their category.'));
    input.focus();
    return;
  }

  const count = h('p.feed-count', { 'aria-live': 'polite' }, 'Searching…');
  const pages = sizedPages((start, end) => api.searchActs(q, start, end, order));
  const feed = actFeed({
    loadPage: pages.load,
    showCategory: true,
    empty: () => h('div.empty', {}, h('p', {}, `No act matches “${q}”. Try fewer or other words.`)),
    onRemoved: () => {
      pages.size -= 1;
      count.textContent = plural(pages.size, 'act found', 'acts found');
    },
  });
  section.append(
    h(
      'div.feed-head',
      {},
      count,
      orderToggle(order, (o) => withOrder('/search', { q }, o)),
    ),
    ...feed.elements,
  );
  pages.size = await api.searchCount(q);
  if (!section.isConnected) return feed.stop;
  count.textContent = pages.size === 0 ? 'Nothing found' : plural(pages.size, 'act found', 'acts found');
  await feed.start();
  return feed.stop;
}
