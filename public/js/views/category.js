// A category's acts, newest first, read a page at a time through the range route (rows 11, 12)
// as cards: the plain list (row 10) refuses categories of more than 100 acts.
import * as api from '../api.js';
import { h, icon } from '../dom.js';
import { plural } from '../format.js';
import { actFeed, sizedPages } from './act-feed.js';
import { orderOf, orderToggle, withOrder } from './order-toggle.js';

export async function render(section, { name }, query) {
  document.title = `${name} · SelfLessActs`;
  const order = orderOf(query);
  const count = h('p.feed-count', {}, 'Loading…');
  const pages = sizedPages((start, end) => api.categoryActs(name, start, end, order));
  const showCount = () => {
    count.textContent = pages.size === 0 ? 'No acts yet' : plural(pages.size, 'act');
  };
  const feed = actFeed({
    loadPage: pages.load,
    empty: () => emptyCategory(name),
    onRemoved: () => {
      pages.size -= 1;
      showCount();
    },
  });
  section.append(
    h('a.back-link', { href: '#/' }, icon('back'), 'All categories'),
    feedHead(name, count),
    orderToggle(order, (o) => withOrder(`/c/${encodeURIComponent(name)}`, {}, o)),
    ...feed.elements,
  );

  try {
    pages.size = await api.categorySize(name);
  } catch (err) {
    if (!(err instanceof api.ApiError) || err.status !== 400) throw err;
    if (section.isConnected) section.replaceChildren(noSuchCategory(name));
    return feed.stop;
  }
  if (!section.isConnected) return feed.stop;
  showCount();
  await feed.start();
  return feed.stop;
}

function feedHead(name, count) {
  return h(
    'div.feed-head',
    {},
    h('div', {}, h('h1', {}, name), count),
    h(
      'a.button.button-primary',
      { href: `#/upload?c=${encodeURIComponent(name)}` },
      icon('upload'),
      h('span', {}, 'Share an act here'),
    ),
  );
}

function emptyCategory(name) {
  return h(
    'div.empty',
    {},
    h('p', {}, 'Nobody has shared an act here yet.'),
    h('a.button.button-primary', { href: `#/upload?c=${encodeURIComponent(name)}` }, 'Be the first'),
  );
}

function noSuchCategory(name) {
  return h(
    'div.empty',
    {},
    h('h1', {}, 'No such category'),
    h('p', {}, `There is no category called “${name}”. It may have been removed.`),
    h('a.button.button-primary', { href: '#/' }, 'All categories'),
  );
}
