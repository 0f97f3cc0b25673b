// The app with both services and the site (SERVICE=all, owner mode, SQLite in a fresh temporary
// directory) as a child process of any work tree, and a logged-in owner of it: for the
// benchmarks that drive the site in a browser (bench/lighthouse.ts, bench/ui-before-after.ts).
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './ports.ts';

export interface AppProcess {
  base: string;
  stop(): Promise<void>;
}

/** `root`'s app/main.ts through tsx, answering on 127.0.0.1 once its health check passes. */
export async function startAppProcess(root: string, tag: string): Promise<AppProcess> {
  const dir = await mkdtemp(path.join(tmpdir(), `sa-${tag}-`));
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'app/main.ts'], {
    cwd: root,
    env: {
      ...process.env,
      SERVICE: 'all',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATA_DIR: dir,
      PUBLIC_DIR: path.join(root, 'public'),
      API_ACCESS: 'owner',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  const stop = async () => {
    child.kill('SIGTERM');
    await new Promise((resolve) => (child.exitCode === null ? child.once('exit', resolve) : resolve(undefined)));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; ; i++) {
      const up = await fetch(`${base}/api/v1/_health`).then(
        (r) => r.ok,
        () => false,
      );
      if (up) break;
      if (i > 150) throw new Error('the app did not start within 30 s');
      await sleep(200);
    }
    return { base, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

const sha1 = async (text: string) =>
  Buffer.from(await crypto.subtle.digest('SHA-1', new TextEncoder().encode(text))).toString('hex');

/** Signs `username` up (password "<username> password"), logs in, makes `category`: the session cookie. */
export async function ownerWithCategory(base: string, username: string, category: string): Promise<string> {
  const json = (method: string, route: string, body: unknown, cookie = '') =>
    fetch(`${base}${route}`, {
      method,
      headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
      body: JSON.stringify(body),
    });
  const password = await sha1(`${username} password`);
  await json('POST', '/api/v1/users', { username, password });
  const session = await json('POST', '/api/v1/sessions', { username, password });
  if (session.status !== 200) throw new Error(`log-in of ${username}: ${session.status}`);
  const cookie = session.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  await json('POST', '/api/v1/categories', [category], cookie);
  return cookie;
}

/** Posts a JPEG as an act (row 17, multipart as a browser sends it); throws unless 201. */
export async function postPhoto(base: string, cookie: string, photo: Buffer, caption: string, category: string) {
  const form = new FormData();
  form.append('caption', caption);
  form.append('categoryName', category);
  form.append('image', new Blob([new Uint8Array(photo)], { type: 'image/jpeg' }), 'photo.jpg');
  const reply = await fetch(`${base}/api/v1/acts`, { method: 'POST', headers: { cookie }, body: form });
  if (reply.status !== 201) throw new Error(`upload: ${reply.status} ${await reply.text()}`);
}
