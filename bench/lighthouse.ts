// Lighthouse (issue 25) on the site as a visitor meets it: the real app (owner mode, SQLite) with
// 24 photos of a phone camera's shape in one category, its home page and that category page, on
// a phone (Lighthouse's mobile preset: a mid-range phone, slow 4G and a 4× slower CPU, simulated)
// and a desktop, in headless Chromium. Each page and device is audited `--runs` times (default
// 2, interleaved) and the median score of each category is kept, with the figures behind the
// performance score. The goal: performance ≥ 95 and accessibility 100 on home and
// category at both sizes. Lighthouse's own score moves by a few points between runs: the
// median of runs, and the figures (LCP, CLS, TBT, bytes), are what to compare.
//
//   npm run bench:lighthouse -- [--runs 2]
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import lighthouse, { type Flags } from 'lighthouse';
import desktopConfig from 'lighthouse/core/config/desktop-config.js';
import { chromium } from 'playwright-core';
import { photoJpeg } from '../testkit/photos.ts';
import { ResultRecorder } from './results.ts';
import { median } from './stats.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '2' } } });
const RUNS = Math.max(1, Math.min(5, Number(values.runs)));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CATEGORY = 'Sunsets';
const PHOTOS = 24;
const CATEGORIES = ['performance', 'accessibility', 'best-practices'] as const;

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const sha1 = async (text: string) =>
  Buffer.from(await crypto.subtle.digest('SHA-1', new TextEncoder().encode(text))).toString('hex');

/** The app on SQLite in a fresh directory, with a user, a category and its photos. */
async function startSite(): Promise<{ base: string; stop: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'sa-lighthouse-'));
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'app/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      SERVICE: 'all',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATA_DIR: dir,
      PUBLIC_DIR: path.join(ROOT, 'public'),
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
    const json = (method: string, route: string, body: unknown, cookie = '') =>
      fetch(`${base}${route}`, {
        method,
        headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
        body: JSON.stringify(body),
      });
    const password = await sha1('lighthouse password');
    await json('POST', '/api/v1/users', { username: 'lena', password });
    const session = await json('POST', '/api/v1/sessions', { username: 'lena', password });
    const cookie = session.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    await json('POST', '/api/v1/categories', [CATEGORY], cookie);
    // Phone photos' shape and weight: 4000×3000 and 3000×4000, a few of them, 24 acts.
    const photos = await Promise.all(
      [0, 1, 2, 3].map((seed) =>
        photoJpeg(seed % 2 ? { width: 3000, height: 4000, seed } : { width: 4000, height: 3000, seed }),
      ),
    );
    for (let i = 0; i < PHOTOS; i++) {
      const form = new FormData();
      form.append('caption', `Sunset #${i + 1} from the hill, shared with the neighbours`);
      form.append('categoryName', CATEGORY);
      form.append('image', new Blob([new Uint8Array(photos[i % photos.length]!)], { type: 'image/jpeg' }), 'p.jpg');
      const reply = await fetch(`${base}/api/v1/acts`, { method: 'POST', headers: { cookie }, body: form });
      if (reply.status !== 201) throw new Error(`upload ${i}: ${reply.status} ${await reply.text()}`);
    }
    return { base, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

interface Audit {
  page: string;
  device: 'phone' | 'desktop';
  scores: Record<(typeof CATEGORIES)[number], number>;
  lcpMs: number;
  cls: number;
  tbtMs: number;
  bytes: number;
  /** Failed audits that cost accessibility points, by id. */
  accessibilityMisses: string[];
}

async function audit(url: string, page: string, device: Audit['device'], port: number): Promise<Audit> {
  const flags: Flags = { port, output: 'json', logLevel: 'error', onlyCategories: [...CATEGORIES] };
  const result = await lighthouse(url, flags, device === 'desktop' ? desktopConfig : undefined);
  if (!result) throw new Error(`no Lighthouse result for ${url}`);
  const { lhr } = result;
  const numeric = (id: string) => lhr.audits[id]?.numericValue ?? Number.NaN;
  const accessibility = lhr.categories.accessibility!;
  return {
    page,
    device,
    scores: Object.fromEntries(
      CATEGORIES.map((c) => [c, Math.round((lhr.categories[c]?.score ?? 0) * 100)]),
    ) as Audit['scores'],
    lcpMs: numeric('largest-contentful-paint'),
    cls: numeric('cumulative-layout-shift'),
    tbtMs: numeric('total-blocking-time'),
    bytes: numeric('total-byte-weight'),
    accessibilityMisses: accessibility.auditRefs
      .filter((ref) => ref.weight > 0 && (lhr.audits[ref.id]?.score ?? 1) < 1)
      .map((ref) => ref.id),
  };
}

const site = await startSite();
const debuggingPort = await freePort();
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: [`--remote-debugging-port=${debuggingPort}`, '--no-sandbox', '--disable-gpu', '--no-first-run'],
});
const recorder = new ResultRecorder('lighthouse', 'Lighthouse on home and a 24-photo category', {
  lighthouse: (await import('lighthouse/package.json', { with: { type: 'json' } })).default.version,
  chromium: browser.version(),
});
const pages = [
  ['home', `${site.base}/#/`],
  ['category', `${site.base}/#/c/${CATEGORY}`],
] as const;
const audits: Audit[] = [];
try {
  for (let run = 0; run < RUNS; run++) {
    for (const device of ['phone', 'desktop'] as const) {
      for (const [name, url] of run % 2 ? [...pages].reverse() : pages) {
        const a = await audit(url, name, device, debuggingPort);
        audits.push(a);
        console.log(JSON.stringify(a));
      }
    }
  }
} finally {
  await browser.close();
  await site.stop();
}

const rows = pages.flatMap(([name]) =>
  (['phone', 'desktop'] as const).map((device) => {
    const mine = audits.filter((a) => a.page === name && a.device === device);
    const m = (pick: (a: Audit) => number) => median(mine.map(pick));
    return {
      name,
      device,
      performance: m((a) => a.scores.performance),
      accessibility: m((a) => a.scores.accessibility),
      bestPractices: m((a) => a.scores['best-practices']),
      lcpMs: m((a) => a.lcpMs),
      cls: m((a) => a.cls),
      tbtMs: m((a) => a.tbtMs),
      bytes: m((a) => a.bytes),
      misses: [...new Set(mine.flatMap((a) => a.accessibilityMisses))],
    };
  }),
);
await recorder.write({
  summary: rows.map((r) => ({
    figure: `Lighthouse, ${r.name} on a ${r.device} (goal: performance ≥ 95, accessibility 100)`,
    value: `performance ${r.performance}, accessibility ${r.accessibility}, best practices ${r.bestPractices}`,
  })),
  tables: [
    {
      caption: `Medians of ${RUNS} runs each (phone: Lighthouse's mobile preset, simulated slow 4G and a 4× slower CPU; desktop: its desktop preset)`,
      columns: [
        'page',
        'device',
        'performance',
        'accessibility',
        'best practices',
        'LCP',
        'CLS',
        'TBT',
        'transferred',
        'accessibility misses',
      ],
      rows: rows.map((r) => [
        r.name,
        r.device,
        String(r.performance),
        String(r.accessibility),
        String(r.bestPractices),
        `${(r.lcpMs / 1000).toFixed(2)} s`,
        r.cls.toFixed(3),
        `${Math.round(r.tbtMs)} ms`,
        `${Math.round(r.bytes / 1024)} KiB`,
        r.misses.join(', ') || '–',
      ]),
    },
  ],
  figures: { runs: RUNS, audits },
});
