// A user's acts, newest first, a page at a time (row 20 as cards), their number from the count
// route for one user: every author name links here (#/u/<name>), and "My acts" (#/me) is the
// same page for yourself, with removal and a button to share.
import * as api from '../api.js';
import { h, icon } from '../dom.js';
import { plural } from '../format.js';
import { session } from '../session.js';
import { actFeed, sizedPages } from './act-feed.js';
import { avatar } from './act-card.js';

export async function render(section, { username, self = false }) {
  const user = self ? session.user : username;
  if (!user) {
    // replace, not a new history entry: Back from the login page must not bounce here again.
    location.replace(`#/login?next=${encodeURIComponent('/me')}`);
    return;
  }
  const mine = user === session.user;
  document.title = `${self ? 'My acts' : user} · SelfLessActs`;
  const count = h('p.feed-count', {}, 'Loading…');
  const bio = h('p.profile-bio', { hidden: true });
  // The bio is the account's own words; a profile without it (or a users service that cannot
  // say) shows the acts all the same.
  const face = h('span.profile-face', {}, avatar(user));
  api.profile(user).then(
    (p) => {
      bio.textContent = p.bio;
      bio.hidden = p.bio === '';
      if (p.avatar) face.replaceChildren(avatar(user, p.avatar));
    },
    () => {},
  );
  const pages = sizedPages((start, end) => api.userActs(user, start, end));
  const showCount = () => {
    count.textContent = pages.size === 0 ? 'No acts yet' : `${plural(pages.size, 'act')} shared`;
  };
  const feed = actFeed({
    loadPage: pages.load,
    showCategory: true,
    empty: () => (mine ? noActsYet() : h('div.empty', {}, h('p', {}, `${user} has not shared any acts yet.`))),
    onRemoved: () => {
      pages.size -= 1;
      showCount();
    },
  });
  section.append(
    h(
      'div.feed-head.profile-head',
      {},
      h('div.profile-title', {}, face, h('div', {}, h('h1', {}, self ? 'My acts' : user), count, bio)),
      mine ? h('a.button.button-primary', { href: '#/upload' }, icon('upload'), h('span', {}, 'Share an act')) : null,
    ),
    ...feed.elements,
  );
  pages.size = await api.userActCount(user);
  if (!section.isConnected) return feed.stop;
  showCount();
  await feed.start();
  return feed.stop;
}

function noActsYet() {
  return h(
    'div.empty',
    {},
    h('p', {}, 'You have not shared any acts yet. Your photos will appear here, newest first.'),
    h('a.button.button-primary', { href: '#/upload' }, 'Share your first act'),
  );
}
