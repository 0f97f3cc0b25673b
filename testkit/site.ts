// The real site as a person uses it, for the suites and the benchmarks: a signed-up user with a
// session and a category, and photo uploads as the browser sends them (multipart).
import { createHash } from 'node:crypto';
import { request } from 'undici';

const json = { 'content-type': 'application/json' };

export interface SiteUser {
  username: string;
  cookie: string;
  category: string;
}

/** Signs a user up and logs in through the balancer, and makes a category (owner mode). */
export async function siteUser(base: string, username: string, category: string): Promise<SiteUser> {
  const password = createHash('sha1').update(`${username} pressure`).digest('hex');
  const body = JSON.stringify({ username, password });
  const signup = await request(`${base}/api/v1/users`, { method: 'POST', headers: json, body });
  await signup.body.dump();
  if (signup.statusCode !== 201) throw new Error(`sign-up of ${username}: ${signup.statusCode}`);
  const login = await request(`${base}/api/v1/sessions`, { method: 'POST', headers: json, body });
  await login.body.dump();
  if (login.statusCode !== 200) throw new Error(`log-in of ${username}: ${login.statusCode}`);
  const cookie = String(login.headers['set-cookie']).split(';')[0]!;
  const made = await request(`${base}/api/v1/categories`, {
    method: 'POST',
    headers: { ...json, cookie },
    body: JSON.stringify([category]),
  });
  await made.body.dump();
  if (made.statusCode !== 201 && made.statusCode !== 400) throw new Error(`category ${category}: ${made.statusCode}`);
  return { username, cookie, category };
}

/** A photo upload (row 17) as a browser sends it: the status, or 0 and the error. */
export async function uploadPhoto(
  base: string,
  user: SiteUser,
  photo: Buffer,
  caption: string,
): Promise<{ status: number; ms: number; error?: string }> {
  const form = new FormData();
  form.append('image', new Blob([Uint8Array.from(photo)], { type: 'image/jpeg' }), 'photo.jpg');
  form.append('caption', caption);
  form.append('categoryName', user.category);
  const started = performance.now();
  try {
    const res = await fetch(`${base}/api/v1/acts`, { method: 'POST', body: form, headers: { cookie: user.cookie } });
    await res.arrayBuffer();
    return { status: res.status, ms: Math.round(performance.now() - started) };
  } catch (err) {
    return {
      status: 0,
      ms: Math.round(performance.now() - started),
      error: String((err as { cause?: { code?: string } }).cause?.code ?? err),
    };
  }
}
