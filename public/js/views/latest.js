// Everyone's acts, newest first, over all categories (rows 16 and 19 as cards): where the home
// page's "See all" leads.
import * as api from '../api.js';
import { h, icon } from '../dom.js';
import { plural } from '../format.js';
import { actFeed, sizedPages } from './act-feed.js';
import { orderOf, orderToggle, withOrder } from './order-toggle.js';

export async function render(section, _params, query) {
  const order = orderOf(query);
  document.title = order === 'popular' ? 'Most upvoted acts · SelfLessActs' : 'Latest acts · SelfLessActs';
  const count = h('p.feed-count', {}, 'Loading…');
  const pages = sizedPages((start, end) => api.latestActs(start, end, order));
  const feed = actFeed({
    loadPage: pages.load,
    showCategory: true,
    empty: () =>
      h('div.empty', {}, h('p', {}, 'No acts shared yet. ', h('a', { href: '#/upload' }, 'Share the first one'), '.')),
    onRemoved: () => {
      pages.size -= 1;
      count.textContent = plural(pages.size, 'act');
    },
  });
  section.append(
    h('a.back-link', { href: '#/' }, icon('back'), 'Home'),
    h('div.feed-head', {}, h('div', {}, h('h1', {}, order === 'popular' ? 'Most upvoted acts' : 'Latest acts'), count)),
    orderToggle(order, (o) => withOrder('/latest', {}, o)),
    ...feed.elements,
  );
  pages.size = await api.totalActs();
  if (!section.isConnected) return feed.stop;
  count.textContent = pages.size === 0 ? 'No acts yet' : plural(pages.size, 'act');
  await feed.start();
  return feed.stop;
}
