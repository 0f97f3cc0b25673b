// What the pressure suites share: a signed-up user with a session and a category on the real
// site, photo uploads as the browser sends them (multipart), CPU hogs as child processes (killed
// at the end whatever happened), and the supervisor's events read as verdicts (replicas killed,
// taken out of rotation).
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { request } from 'undici';
import type { Admin, EventRecord } from '../../testkit/supervisor.ts';

export interface SiteUser {
  username: string;
  cookie: string;
  category: string;
}

const json = { 'content-type': 'application/json' };

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
  const made = await request(`${base}/api/v1/categories`, { method: 'POST', headers: { ...json, cookie }, body: JSON.stringify([category]) });
  await made.body.dump();
  if (made.statusCode !== 201 && made.statusCode !== 400) throw new Error(`category ${category}: ${made.statusCode}`);
  return { username, cookie, category };
}

/** A photo upload (row 17) as a browser sends it: the status, or 0 and the error. */
export async function uploadPhoto(base: string, user: SiteUser, photo: Buffer, caption: string): Promise<{ status: number; ms: number; error?: string }> {
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
    return { status: 0, ms: Math.round(performance.now() - started), error: String((err as { cause?: { code?: string } }).cause?.code ?? err) };
  }
}

/** `n` processes that each keep a core busy until stop() (also called by the suite's after()). */
export function cpuHogs(n: number): { stop(): Promise<void> } {
  const hogs: ChildProcess[] = [];
  for (let i = 0; i < n; i++) hogs.push(spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
  return {
    async stop() {
      await Promise.all(
        hogs.map((h) => (h.exitCode !== null || h.signalCode !== null ? undefined : new Promise<void>((resolve) => {
          h.once('exit', () => resolve());
          h.kill('SIGKILL');
        }))),
      );
    },
  };
}

/** Events of `types` since `seq` (exclusive). */
export async function eventsOf(admin: Admin, types: string[], seq = 0): Promise<EventRecord[]> {
  return (await admin.events(seq)).filter((e) => types.includes(e.type));
}

/** The last event's sequence number: later reads take only what came after. */
export async function lastSeq(admin: Admin): Promise<number> {
  return (await admin.events()).at(-1)?.seq ?? 0;
}

/**
 * Measuring the code before this work (bench/pressure.ts --before, in a worktree of that code):
 * the suites ask it only what it knows (no config key it would refuse), record what happened,
 * and their assertions then say how it fell short.
 */
export const BEFORE = process.env.PRESSURE_BEFORE === '1';

/** One row of the pressure table: what a suite measured, appended to PRESSURE_ROWS (bench/pressure.ts) when set. */
export async function recordRow(row: string, figures: Record<string, number | string | boolean | null>): Promise<void> {
  const file = process.env.PRESSURE_ROWS;
  if (!file) return;
  const { appendFile } = await import('node:fs/promises');
  await appendFile(file, `${JSON.stringify({ row, figures })}\n`);
}
