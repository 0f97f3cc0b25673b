// A category's acts, newest first, read a page at a time through the range route (rows 11, 12):
// the plain list (row 10) refuses categories of more than 100 acts.
import * as api from '../api.js';
import { h, icon } from '../dom.js';
import { plural } from '../format.js';
import { actFeed, PAGE_SIZE } from './act-feed.js';

export async function render(section, { name }) {
  document.title = `${name} · SelfLessActs`;
  const count = h('p.feed-count', {}, 'Loading…');
  let size = 0;
  const showCount = () => {
    count.textContent = size === 0 ? 'No acts yet' : plural(size, 'act');
  };
  const feed = actFeed({
    // The size is known, so a page never asks past the last act and needs no request when empty.
    loadPage: async (start) => {
      const end = Math.min(size, start - 1 + Math.min(PAGE_SIZE, api.MAX_PAGE));
      if (end < start) return { acts: [], last: start - 1, more: false };
      return { acts: await api.categoryActs(name, start, end), last: end, more: end < size };
    },
    empty: () => emptyCategory(name),
    onRemoved: () => {
      size -= 1;
      showCount();
    },
  });
  section.append(h('a.back-link', { href: '#/' }, icon('back'), 'All categories'), feedHead(name, count), ...feed.elements);

  try {
    size = await api.categorySize(name);
  } catch (err) {
    if (!(err instanceof api.ApiError) || err.status !== 400) throw err;
    if (section.isConnected) section.replaceChildren(noSuchCategory(name));
    return;
  }
  if (!section.isConnected) return;
  showCount();
  await feed.start();
}

function feedHead(name, count) {
  return h(
    'div.feed-head',
    {},
    h('div', {}, h('h1', {}, name), count),
    h('a.button.button-primary', { href: `#/upload?c=${encodeURIComponent(name)}` }, icon('upload'), h('span', {}, 'Share an act here')),
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
