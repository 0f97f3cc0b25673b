// "My acts": the logged-in user's own acts, newest first (row 20), as the same cards and feed as
// a category. Row 20 has no size route, so each page asks for one act more than it shows: that
// one tells whether older acts exist, and is shown again at the top of the next page's range.
import * as api from '../api.js';
import { h, icon } from '../dom.js';
import { plural } from '../format.js';
import { session } from '../session.js';
import { actFeed, PAGE_SIZE } from './act-feed.js';

export async function render(section) {
  document.title = 'My acts · SelfLessActs';
  const user = session.user;
  if (!user) {
    // replace, not a new history entry: Back from the login page must not bounce here again.
    location.replace(`#/login?next=${encodeURIComponent('/me')}`);
    return;
  }
  const count = h('p.feed-count', {}, 'Loading…');
  const feed = actFeed({
    loadPage: async (start) => {
      const acts = await api.userActsUpTo(user, start, start + Math.min(PAGE_SIZE, api.MAX_PAGE - 1));
      const page = acts.slice(0, PAGE_SIZE);
      return { acts: page, last: start - 1 + page.length, more: acts.length > page.length };
    },
    showCategory: true,
    empty: noActsYet,
    onChange: ({ cards, more }) => {
      // The total is unknown while older acts remain unread, so the line says only what is shown.
      if (more) count.textContent = `Your latest ${plural(cards, 'act')}`;
      else count.textContent = cards === 0 ? 'No acts yet' : `${plural(cards, 'act')} shared`;
    },
  });
  section.append(
    h(
      'div.feed-head',
      {},
      h('div', {}, h('h1', {}, 'My acts'), count),
      h('a.button.button-primary', { href: '#/upload' }, icon('upload'), h('span', {}, 'Share an act')),
    ),
    ...feed.elements,
  );
  await feed.start();
}

function noActsYet() {
  return h(
    'div.empty',
    {},
    h('p', {}, 'You have not shared any acts yet. Your photos will appear here, newest first.'),
    h('a.button.button-primary', { href: '#/upload' }, 'Share your first act'),
  );
}
