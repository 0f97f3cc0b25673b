// Boot and hash routing. Routes live in the hash: #/, #/c/<category>, #/latest, #/u/<username>,
// #/me, #/upload?c=<category>, #/login?next=<route>, #/signup, and #/a/<actId>, the photo view,
// which opens over the page it was reached from (or over the act's category when the address is
// opened directly). The server serves public/ as files, and the shareable paths /a/, /c/ and /u/
// as this page with the preview tags of what they name; they are turned into the hash here.
import { h, toast } from './dom.js';
import { gallery } from './gallery.js';
import { session } from './session.js';
import { avatar, upvoteButton } from './views/act-card.js';
import * as home from './views/home.js';
import * as category from './views/category.js';
import * as latest from './views/latest.js';
import * as search from './views/search.js';
import * as account from './views/account.js';
import * as upload from './views/upload.js';
import * as profile from './views/profile.js';
import * as auth from './views/auth.js';
import { photoView } from './views/photo-view.js';

const main = document.getElementById('main');
let cleanup = null;
let firstRender = true;
/** The address of the page drawn in <main>; null when it must be drawn again. */
let pageKey = null;
/** The open photo view, and whether it was reached from a page of this site (then Back closes it). */
let photo = null;
let photoOverPage = false;

/** @returns {{path: string[], query: URLSearchParams}} */
function currentRoute() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const [path, search = ''] = raw.split('?');
  const parts = path
    .split('/')
    .filter(Boolean)
    .map((p) => {
      try {
        return decodeURIComponent(p);
      } catch {
        return p;
      }
    });
  return { path: parts, query: new URLSearchParams(search) };
}

function pick({ path }) {
  const [first, second] = path;
  if (!first) return { view: home, nav: 'home', params: {} };
  if (first === 'c' && second !== undefined && path.length === 2)
    return { view: category, nav: 'home', params: { name: second } };
  if (first === 'latest' && path.length === 1) return { view: latest, nav: 'home', params: {} };
  if (first === 'search' && path.length === 1) return { view: search, nav: 'search', params: {} };
  if (first === 'account' && path.length === 1) return { view: account, nav: 'account', params: {} };
  if (first === 'u' && second !== undefined && path.length === 2)
    return { view: profile, nav: '', params: { username: second } };
  if (first === 'upload' && path.length === 1) return { view: upload, nav: 'upload', params: {} };
  if (first === 'me' && path.length === 1) return { view: profile, nav: 'me', params: { self: true } };
  if ((first === 'login' || first === 'signup') && path.length === 1)
    return { view: auth, nav: first, params: { mode: first } };
  return { view: null, nav: '', params: {} };
}

/** The actId of a photo view address (#/a/<actId>), or null. */
function photoId({ path }) {
  return path[0] === 'a' && path.length === 2 && /^[0-9]+$/.test(path[1]) ? path[1] : null;
}

async function render() {
  const route = currentRoute();
  const actId = photoId(route);
  if (actId !== null) return showPhoto(actId);
  closePhoto();
  const key = location.hash || '#/';
  // Back from the photo view: the page beneath is still there, scrolled where it was.
  if (key === pageKey && main.firstElementChild?.isConnected) return;
  await renderPage(route, key);
}

async function renderPage(route, key) {
  const { view, nav, params } = pick(route);
  pageKey = key;
  for (const link of document.querySelectorAll('[data-nav]')) {
    if (link.dataset.nav === nav) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  cleanup?.();
  cleanup = null;
  gallery.clear();
  // Views draw into a fresh section and check section.isConnected after each await, so a
  // slow answer for a page the user already left never lands on the new one.
  const section = h('section.view');
  main.replaceChildren(section);
  if (!view) {
    notFound(section);
  } else {
    try {
      cleanup = (await view.render(section, params, route.query)) ?? null;
    } catch (err) {
      if (!section.isConnected) return;
      section.replaceChildren(
        h(
          'div.empty',
          {},
          h('h1', {}, 'Something went wrong'),
          h('p', {}, err.message),
          h('a.button', { href: '#/' }, 'Back to categories'),
        ),
      );
    }
  }
  if (!firstRender && section.isConnected && !photo) {
    // Move focus to the new page's heading so keyboard and screen-reader users land on it.
    const heading = section.querySelector('h1');
    if (heading) {
      heading.tabIndex = -1;
      heading.focus({ preventScroll: true });
    }
    window.scrollTo(0, 0);
  }
  firstRender = false;
  photo?.refreshNav();
}

async function showPhoto(actId) {
  if (!photo) {
    photoOverPage = pageKey !== null;
    photo = photoView({
      onClose: () => {
        if (photoOverPage) history.back();
        else location.replace(pageKey ?? '#/');
      },
      // Stepping replaces the address: Back then leaves the photo view rather than step back.
      onStep: (id) => location.replace(`#/a/${id}`),
      onRemoved: () => {
        pageKey = null; // the page beneath shows the removed act: draw it again
        if (photoOverPage) history.back();
        else location.replace('#/');
      },
    });
  }
  let shown;
  try {
    shown = await photo.show(actId);
  } catch (err) {
    toast(`Could not open the photo: ${err.message}`, 'error');
    shown = false;
  }
  if (!shown) {
    closePhoto();
    const section = h('section.view');
    main.replaceChildren(section);
    pageKey = null;
    section.append(
      h(
        'div.empty',
        {},
        h('h1', {}, 'This photo is gone'),
        h('p', {}, 'It may have been removed by its author.'),
        h('a.button.button-primary', { href: '#/' }, 'Back to categories'),
      ),
    );
    return;
  }
  // Opened directly (a shared link, a reload): the act's category beneath, for context and arrows.
  if (pageKey === null) {
    const card = photo.card;
    const key = `#/c/${encodeURIComponent(card.categoryName)}`;
    await renderPage({ path: ['c', card.categoryName], query: new URLSearchParams() }, key);
  }
}

function closePhoto() {
  if (!photo) return;
  const act = photo.dispose();
  photo = null;
  // The page's card shows what the photo view changed (its upvote), whether the view had the
  // page's own card or one it fetched (opened directly).
  const shown = act && gallery.find(act.actId);
  if (shown && shown !== act) Object.assign(shown, { upvotes: act.upvotes, upvotedByMe: act.upvotedByMe });
  const button = act && main.querySelector(`[data-act-id="${act.actId}"] button.upvote`);
  if (button && shown) button.replaceWith(upvoteButton(shown));
  const card = act && main.querySelector(`[data-act-id="${act.actId}"] .act-photo`);
  card?.focus({ preventScroll: true });
}

function notFound(section) {
  document.title = 'Not found · SelfLessActs';
  section.append(
    h(
      'div.empty',
      {},
      h('h1', {}, 'Page not found'),
      h('p', {}, 'There is nothing at this address.'),
      h('a.button.button-primary', { href: '#/' }, 'Back to categories'),
    ),
  );
}

function renderAccount(user) {
  const box = document.getElementById('account');
  if (user) {
    box.replaceChildren(
      h(
        'a.account-user',
        {
          href: '#/account',
          title: `Your account (${user})`,
          dataset: { nav: 'account' },
        },
        avatar(user),
        h('span.account-name', {}, user),
      ),
      h('a.nav-link', { href: '#/me', dataset: { nav: 'me' } }, 'My acts'),
      h('button.button.button-ghost', { type: 'button', onclick: logOut }, 'Log out'),
    );
  } else {
    box.replaceChildren(
      h('a.nav-link', { href: '#/login', dataset: { nav: 'login' } }, 'Log in'),
      h('a.button', { href: '#/signup', dataset: { nav: 'signup' } }, 'Sign up'),
    );
  }
}

async function logOut() {
  try {
    await session.logOut();
    toast('You are logged out. See you soon!');
    location.hash = '#/';
  } catch (err) {
    toast(`Could not log out: ${err.message}`, 'error');
  }
}

// A shared address (/a/37, /c/kindness, /u/carol, answered by the server with this page and
// the preview tags of what it names) is the same route in the hash, where the site routes.
const shared = /^\/([acu])\/([^/]+)\/?$/.exec(location.pathname);
if (shared) history.replaceState(null, '', `/#/${shared[1]}/${shared[2]}`);

window.addEventListener('hashchange', render);

try {
  await session.refresh();
} catch (err) {
  toast(`Could not check your session: ${err.message}`, 'error');
}
renderAccount(session.user);
session.subscribe((user) => {
  renderAccount(user);
  // Views show different controls to their author and to visitors; the auth view moves on itself.
  if (!['login', 'signup'].includes(currentRoute().path[0])) {
    pageKey = null;
    void render();
  }
});
void render();
