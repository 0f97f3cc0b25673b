// The only door to the server: every route the site uses is a row of the API contract
// (docs/api.md; what the services add to it: docs/api-notes.md)
// (row numbers in the comments) or an extension of docs/api-notes.md. Views never call fetch themselves.

/** Largest photo we send; the server's default body limit is 16 MiB and the form adds a little. */
export const MAX_UPLOAD_BYTES = 16 * 1024 * 1024 - 64 * 1024;

/** The range routes (12, 19, 20) refuse more than this many acts at once. */
export const MAX_PAGE = 100;

export class ApiError extends Error {
  /** @param {number} status 0 when the server could not be reached. */
  constructor(status, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }
}

// actIds may exceed 2^53 and must round-trip digit for digit, which JSON.parse cannot do for
// numbers, so they become strings before parsing. Inside a JSON string every quote is escaped,
// so this pattern only ever matches a real "actId" key.
const ACT_ID_NUMBER = /"actId"\s*:\s*(\d+)/g;

/** @param {string} text */
export function parseJson(text) {
  return JSON.parse(text.replace(ACT_ID_NUMBER, '"actId":"$1"'));
}

/** An actId as it must appear in a JSON body: the digits, unquoted. */
function actIdLiteral(actId) {
  const digits = String(actId);
  if (!/^\d+$/.test(digits)) throw new ApiError(400, `not an act id: ${digits}`);
  return digits;
}

/** Fired on window when the server refuses a request for want of a (live) session. */
export const UNAUTHORIZED_EVENT = 'selflessacts:unauthorized';

const LOG_IN_FIRST = 'You need to log in to do that.';

/**
 * The server's reason, except for a 401 outside the session routes: with API_ACCESS=owner every write
 * needs a session, and a session can end elsewhere (log-out on another device), so the page is
 * told (session.js then re-checks who is logged in) and the user gets a plain sentence.
 */
function errorFrom(status, data, fallback, path) {
  if (status === 401 && !path.startsWith('/api/v1/sessions')) {
    window.dispatchEvent(new CustomEvent(UNAUTHORIZED_EVENT));
    return new ApiError(status, LOG_IN_FIRST);
  }
  const reason = data && typeof data.error === 'string' ? data.error : fallback;
  return new ApiError(status, reason);
}

async function call(method, path, body) {
  /** @type {RequestInit} */
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'The server cannot be reached. Check your connection and try again.');
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = parseJson(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) throw errorFrom(res.status, data, `${res.status} ${res.statusText}`.trim(), path);
  return { status: res.status, data };
}

const seg = encodeURIComponent;

// Sessions and users (rows 1, 4, 5, 6b, and the session probe)
/**
 * Who is logged in, and the access mode (owner: one upvote per user; open: a counter). The
 * probe route answers 200 to a visitor too, so a page loaded logged out logs no failed request
 * (row 6, GET /api/v1/sessions/me, answers 401 then).
 * @returns {Promise<{username: string | null, apiAccess: 'open' | 'owner'}>}
 */
export async function currentSession() {
  const { data } = await call('GET', '/api/v1/sessions/current');
  return { username: data?.username ?? null, apiAccess: data?.apiAccess === 'open' ? 'open' : 'owner' };
}

export async function logIn(username, passwordSha1) {
  const { data } = await call('POST', '/api/v1/sessions', { username, password: passwordSha1 });
  return data.username;
}

export async function logOut() {
  try {
    await call('DELETE', '/api/v1/sessions');
  } catch (err) {
    // The session had already ended (owner mode says 401): logged out all the same.
    if (!(err instanceof ApiError && err.status === 401)) throw err;
  }
}

export async function signUp(username, passwordSha1) {
  await call('POST', '/api/v1/users', { username, password: passwordSha1 });
}

// The account page's routes (extension, docs/api-notes.md).
/** @returns {Promise<{username: string, bio: string, avatar: string | null}>} */
export async function profile(username) {
  const { data } = await call('GET', `/api/v1/users/${seg(username)}/profile`);
  return data;
}

export async function setBio(username, bio) {
  await call('PUT', `/api/v1/users/${seg(username)}/profile`, { bio });
}

/** Both as SHA-1 hex, as row 4 takes them; ends every other session of the account. */
export async function changePassword(username, currentSha1, passwordSha1) {
  await call('PUT', `/api/v1/users/${seg(username)}/password`, { current: currentSha1, password: passwordSha1 });
}

/** The avatar's copy at a version (`webp` or `jpg`), cached for good by its address. */
export function avatarUrl(username, version, ext = 'webp') {
  return `/api/v1/users/${seg(username)}/avatar/${version}.${ext}`;
}

/** The image itself as the body; the server makes the square. @returns {Promise<string>} its version */
export async function setAvatar(username, file) {
  let res;
  try {
    res = await fetch(`/api/v1/users/${seg(username)}/avatar`, {
      method: 'PUT',
      credentials: 'same-origin',
      headers: { Accept: 'application/json', 'Content-Type': file.type || 'application/octet-stream' },
      body: file,
    });
  } catch {
    throw new ApiError(0, 'The server cannot be reached. Check your connection and try again.');
  }
  const data = await res.json().catch(() => null);
  if (!res.ok) throw errorFrom(res.status, data, `${res.status} ${res.statusText}`.trim(), '/api/v1/users');
  return data.avatar;
}

export async function removeAvatar(username) {
  await call('DELETE', `/api/v1/users/${seg(username)}/avatar`);
}

/** Row 2: in owner mode only one's own, within minutes of a log-in. */
export async function deleteAccount(username) {
  await call('DELETE', `/api/v1/users/${seg(username)}`);
}

export async function userExists(username) {
  try {
    await call('GET', `/api/v1/users/${seg(username)}/exists`);
    return true;
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return false;
    throw err;
  }
}

// Categories (rows 7, 8, 11)
/** @returns {Promise<Record<string, number>>} */
export async function categories() {
  const { status, data } = await call('GET', '/api/v1/categories');
  return status === 204 || !data ? {} : data;
}

export async function addCategory(name) {
  await call('POST', '/api/v1/categories', [name]);
}

export async function categorySize(name) {
  const { data } = await call('GET', `/api/v1/categories/${seg(name)}/acts/size`);
  return Number(data[0]);
}

// Acts (rows 12, 13, 14, 16, 17, 18, 19, 20). Listings ask for cards (view=card): the same acts
// and ranges without imgB64, with what a page needs to load just the thumbnail it shows.
/**
 * @typedef {{type: string, version: string, width: number | null, height: number | null, widths: number[], alt: string}} ImageInfo
 * @typedef {{actId: string, username: string, timestamp: string, caption: string, upvotes: number,
 *   categoryName: string, image: ImageInfo, upvotedByMe?: boolean}} Card
 */

/** `&order=popular` for the most upvoted first; nothing for the contract's newest first. */
const orderParam = (order) => (order === 'popular' ? '&order=popular' : '');

/**
 * A category's acts at 1-based positions start..end (inclusive), newest (or, `order` popular,
 * most upvoted) first. @returns {Promise<Card[]>}
 */
export async function categoryActs(name, start, end, order = 'newest') {
  const { data } = await call(
    'GET',
    `/api/v1/categories/${seg(name)}/acts?start=${start}&end=${end}&view=card${orderParam(order)}`,
  );
  return data ?? [];
}

/** How many acts a search finds (row 16's count, narrowed by `q`: docs/api-notes.md). */
export async function searchCount(q) {
  const { data } = await call('GET', `/api/v1/acts/count?q=${encodeURIComponent(q)}`);
  return Number(data[0]);
}

/** The acts a search finds, at positions start..end. @returns {Promise<Card[]>} */
export async function searchActs(q, start, end, order = 'newest') {
  const { data } = await call(
    'GET',
    `/api/v1/acts?start=${start}&end=${end}&view=card&q=${encodeURIComponent(q)}${orderParam(order)}`,
  );
  return data ?? [];
}

export async function totalActs() {
  const { data } = await call('GET', '/api/v1/acts/count');
  return Number(data[0]);
}

/** Everyone's acts at positions start..end, newest (or most upvoted) first. @returns {Promise<Card[]>} */
export async function latestActs(start, end, order = 'newest') {
  const { data } = await call('GET', `/api/v1/acts?start=${start}&end=${end}&view=card${orderParam(order)}`);
  return data ?? [];
}

/** How many acts a user has shared (row 16's count, for one user). */
export async function userActCount(username) {
  const { data } = await call('GET', `/api/v1/acts/count?username=${seg(username)}`);
  return Number(data[0]);
}

/** Row 20: one user's acts at positions start..end, newest first. @returns {Promise<Card[]>} */
export async function userActs(username, start, end) {
  const { data } = await call('GET', `/api/v1/acts?username=${seg(username)}&start=${start}&end=${end}&view=card`);
  return data ?? [];
}

// Comments on an act (extension, docs/api-notes.md).
/** @typedef {{id: number, username: string, text: string, time: string}} Comment */

/** An act's comments, oldest first. @returns {Promise<Comment[]>} */
export async function comments(actId) {
  const { data } = await call('GET', `/api/v1/acts/${actIdLiteral(actId)}/comments`);
  return data ?? [];
}

export async function addComment(actId, text) {
  await call('POST', `/api/v1/acts/${actIdLiteral(actId)}/comments`, { text });
}

export async function removeComment(actId, id) {
  await call('DELETE', `/api/v1/acts/${actIdLiteral(actId)}/comments/${id}`);
}

/** One act as a card, for a photo's own page. @returns {Promise<Card>} */
export async function actById(actId) {
  const { data } = await call('GET', `/api/v1/acts/${actIdLiteral(actId)}/card`);
  return data;
}

export async function upvote(actId) {
  await call('POST', '/api/v1/acts/upvote', `[${actIdLiteral(actId)}]`);
}

/** Owner mode's extension: takes the logged-in user's upvote back. */
export async function unvote(actId) {
  await call('DELETE', `/api/v1/acts/${actIdLiteral(actId)}/upvote`);
}

export async function removeAct(actId) {
  await call('DELETE', `/api/v1/acts/${actIdLiteral(actId)}`);
}

/** Row 18: the original, as it was uploaded (without its metadata when it came through the site). */
export function imageUrl(actId) {
  return `/api/v1/acts/${actIdLiteral(actId)}/image`;
}

/** A sized copy of an act's photo: `format` webp or jpg, `width` one of card.image.widths. */
export function variantUrl(card, width, format) {
  return `/api/v1/acts/${actIdLiteral(card.actId)}/image/${card.image.version}/${width}.${format}`;
}

/**
 * Row 17. XMLHttpRequest rather than fetch because only it reports upload progress.
 * @param {{file: File, caption: string, categoryName: string}} act
 * @param {(fraction: number) => void} onProgress
 * @returns {Promise<string>} the new actId
 */
/**
 * Posts an act with its photo as multipart (row 17), reporting the share of the body sent. An
 * abort of `signal` stops the upload; it then rejects with an ApiError whose `cancelled` is true.
 */
export function uploadAct({ file, caption, categoryName, alt = '' }, onProgress, signal) {
  const form = new FormData();
  form.append('caption', caption);
  form.append('categoryName', categoryName);
  if (alt.trim()) form.append('alt', alt.trim());
  form.append('image', file, file.name);
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/v1/acts');
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    });
    xhr.addEventListener('load', () => {
      let data = null;
      try {
        data = xhr.responseText ? parseJson(xhr.responseText) : null;
      } catch {
        data = null;
      }
      if (xhr.status === 201) resolve(data?.actId ?? '');
      else reject(errorFrom(xhr.status, data, `${xhr.status} ${xhr.statusText}`.trim(), '/api/v1/acts'));
    });
    xhr.addEventListener('error', () =>
      reject(new ApiError(0, 'The upload was interrupted. Check your connection and try again.')),
    );
    xhr.addEventListener('abort', () =>
      reject(Object.assign(new ApiError(0, 'The upload was cancelled.'), { cancelled: true })),
    );
    if (signal?.aborted) return xhr.abort();
    signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(form);
  });
}
