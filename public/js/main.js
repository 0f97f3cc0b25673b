// Boot and hash routing. The server serves public/ as static files only, so routes live in the
// hash: #/, #/c/<category>, #/upload?c=<category>, #/me, #/login?next=<route>, #/signup.
import { h, toast } from './dom.js';
import { session } from './session.js';
import { avatar } from './views/act-card.js';
import * as home from './views/home.js';
import * as category from './views/category.js';
import * as upload from './views/upload.js';
import * as me from './views/me.js';
import * as auth from './views/auth.js';

const main = document.getElementById('main');
let cleanup = null;
let firstRender = true;

/** @returns {{path: string[], query: URLSearchParams}} */
function currentRoute() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const [path, search = ''] = raw.split('?');
  const parts = path.split('/').filter(Boolean).map((p) => {
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
  if (first === 'c' && second !== undefined && path.length === 2) return { view: category, nav: 'home', params: { name: second } };
  if (first === 'upload' && path.length === 1) return { view: upload, nav: 'upload', params: {} };
  if (first === 'me' && path.length === 1) return { view: me, nav: 'me', params: {} };
  if ((first === 'login' || first === 'signup') && path.length === 1) return { view: auth, nav: first, params: { mode: first } };
  return { view: null, nav: '', params: {} };
}

async function render() {
  const route = currentRoute();
  const { view, nav, params } = pick(route);
  for (const link of document.querySelectorAll('[data-nav]')) {
    if (link.dataset.nav === nav) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  cleanup?.();
  cleanup = null;
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
        h('div.empty', {}, h('h1', {}, 'Something went wrong'), h('p', {}, err.message), h('a.button', { href: '#/' }, 'Back to categories')),
      );
    }
  }
  if (!firstRender && section.isConnected) {
    // Move focus to the new page's heading so keyboard and screen-reader users land on it.
    const heading = section.querySelector('h1');
    if (heading) {
      heading.tabIndex = -1;
      heading.focus({ preventScroll: true });
    }
    window.scrollTo(0, 0);
  }
  firstRender = false;
}

function notFound(section) {
  document.title = 'Not found · SelfLessActs';
  section.append(
    h('div.empty', {}, h('h1', {}, 'Page not found'), h('p', {}, 'There is nothing at this address.'), h('a.button.button-primary', { href: '#/' }, 'Back to categories')),
  );
}

function renderAccount(user) {
  const box = document.getElementById('account');
  if (user) {
    box.replaceChildren(
      h('span.account-user', { title: `Logged in as ${user}` }, avatar(user), h('span.account-name', {}, user)),
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
  if (!['login', 'signup'].includes(currentRoute().path[0])) render();
});
render();
