// Seeding and checking through the public API (spec rows 1, 4, 8, 12, 13, 17), from Node, so the
// browser tests can set up other people's acts and confirm what the page did on the server.
import { createHash } from 'node:crypto';

export interface Act {
  actId: string;
  username: string;
  timestamp: string;
  caption: string;
  upvotes: number;
  categoryName: string;
}

async function ok(res: Response, what: string): Promise<string> {
  const text = await res.text();
  if (!res.ok) throw new Error(`${what}: ${res.status} ${text}`);
  return text;
}

/** actIds can pass 2^53; they are kept as digit strings (as the site does). */
function parseActs(text: string): Act[] {
  return text ? (JSON.parse(text.replace(/"actId"\s*:\s*(\d+)/g, '"actId":"$1"')) as Act[]) : [];
}

export class ApiClient {
  private cookie = '';

  constructor(readonly baseUrl: string) {}

  private fetch(path: string, init: RequestInit & { timeoutMs?: number } = {}): Promise<Response> {
    const { timeoutMs = 10_000, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (this.cookie) headers.set('Cookie', this.cookie);
    return fetch(`${this.baseUrl}${path}`, { ...rest, headers, signal: AbortSignal.timeout(timeoutMs) });
  }

  private json(method: string, path: string, body: unknown): Promise<Response> {
    return this.fetch(path, { method, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  }

  async signUpAndLogIn(username: string, password: string): Promise<void> {
    await this.signUp(username, createHash('sha1').update(password).digest('hex'));
    await this.logIn(username, password);
  }

  /** Row 1 with the SHA1 hex itself. */
  async signUp(username: string, passwordSha1: string): Promise<void> {
    await ok(await this.json('POST', '/api/v1/users', { username, password: passwordSha1 }), `sign up ${username}`);
  }

  async logIn(username: string, password: string): Promise<void> {
    const hash = createHash('sha1').update(password).digest('hex');
    const res = await this.json('POST', '/api/v1/sessions', { username, password: hash });
    await ok(res, `log in ${username}`);
    this.cookie = res.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
  }

  /** Log-out: every session of the user ends, in every browser. */
  async logOut(): Promise<void> {
    await ok(await this.fetch('/api/v1/sessions', { method: 'DELETE' }), 'log out');
    this.cookie = '';
  }

  async addCategory(name: string): Promise<void> {
    await ok(await this.json('POST', '/api/v1/categories', [name]), `add category ${name}`);
  }

  async upload(image: Buffer, caption: string, categoryName: string, type = 'image/png'): Promise<string> {
    const form = new FormData();
    form.append('caption', caption);
    form.append('categoryName', categoryName);
    form.append(
      'image',
      new Blob([new Uint8Array(image)], { type }),
      type === 'image/jpeg' ? 'photo.jpg' : 'photo.png',
    );
    const text = await ok(
      await this.fetch('/api/v1/acts', { method: 'POST', body: form, timeoutMs: 60_000 }),
      `upload to ${categoryName}`,
    );
    return /"actId"\s*:\s*(\d+)/.exec(text)?.[1] ?? '';
  }

  async setBio(username: string, bio: string): Promise<void> {
    await ok(await this.json('PUT', `/api/v1/users/${encodeURIComponent(username)}/profile`, { bio }), 'set bio');
  }

  async setAvatar(username: string, image: Buffer, type = 'image/png'): Promise<void> {
    const path = `/api/v1/users/${encodeURIComponent(username)}/avatar`;
    const body = new Uint8Array(image);
    await ok(await this.fetch(path, { method: 'PUT', headers: { 'Content-Type': type }, body }), 'set avatar');
  }

  async upvote(actId: string): Promise<void> {
    await ok(
      await this.fetch('/api/v1/acts/upvote', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: `[${actId}]`,
      }),
      `upvote ${actId}`,
    );
  }

  async size(categoryName: string): Promise<number> {
    const text = await ok(await this.fetch(`/api/v1/categories/${encodeURIComponent(categoryName)}/acts/size`), 'size');
    return (JSON.parse(text) as number[])[0]!;
  }

  /** Every act of a category, newest first, through the range route. */
  async acts(categoryName: string): Promise<Act[]> {
    const n = await this.size(categoryName);
    const all: Act[] = [];
    for (let start = 1; start <= n; start += 100) {
      const end = Math.min(n, start + 99);
      const path = `/api/v1/categories/${encodeURIComponent(categoryName)}/acts?start=${start}&end=${end}`;
      all.push(...parseActs(await ok(await this.fetch(path), 'acts')));
    }
    return all;
  }
}
