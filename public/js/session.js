// Who is logged in, and the server's access mode, for every view. The session itself is the
// server's HttpOnly cookie; this only mirrors the session probe so the header and the views agree.
import * as api from './api.js';
import { sha1Hex } from './sha1.js';

let username = null;
/** 'owner': one upvote per user, taken back by a second click; 'open': upvotes are a plain counter. */
let apiAccess = 'owner';
const listeners = new Set();

export const session = {
  get user() {
    return username;
  },

  /** Whether an upvote is one per logged-in user (owner mode) rather than anyone's counter. */
  get upvotesPerUser() {
    return apiAccess === 'owner';
  },

  /** Whether only their authors remove things (owner mode); in open mode anyone logged in does. */
  get authorsOnly() {
    return apiAccess === 'owner';
  },

  /** @param {(user: string | null) => void} fn */
  subscribe(fn) {
    listeners.add(fn);
    return () => listeners.delete(fn);
  },

  async refresh() {
    const current = await api.currentSession();
    apiAccess = current.apiAccess;
    set(current.username);
  },

  async logIn(name, password) {
    set(await api.logIn(name, await sha1Hex(password)));
  },

  /** Creates the account, then logs in with it. */
  async signUp(name, password) {
    const hash = await sha1Hex(password);
    await api.signUp(name, hash);
    set(await api.logIn(name, hash));
  },

  async logOut() {
    await api.logOut();
    set(null);
  },

  /** With the current password; other browsers are logged out, this one stays. */
  async changePassword(current, next) {
    await api.changePassword(username, await sha1Hex(current), await sha1Hex(next));
  },

  /** Deletes the logged-in account; the session ends with it. */
  async deleteAccount() {
    await api.deleteAccount(username);
    set(null);
  },
};

// A write refused for want of a session: the session ended elsewhere (or was never there).
window.addEventListener(api.UNAUTHORIZED_EVENT, () => {
  if (username !== null) session.refresh().catch(() => {});
});

function set(next) {
  if (next === username) return;
  username = next;
  for (const fn of listeners) fn(username);
}
