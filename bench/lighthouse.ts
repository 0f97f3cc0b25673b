import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import lighthouse, { type Flags } from 'lighthouse';
import desktopConfig from 'lighthouse/core/config/desktop-config.js';
import { chromium } from 'playwright-core';
import { ownerWithCategory, postPhoto, startAppProcess, type AppProcess } from '../testkit/app-process.ts';
import { freePort } from '../testkit/ports.ts';
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

/** The app on SQLite in a fresh directory, with a user, a category and its photos. */
async function startSite(): Promise<AppProcess> {
  const site = await startAppProcess(ROOT, 'lighthouse');
  try {
    const cookie = await ownerWithCategory(site.base, 'lena', CATEGORY);
    // Phone photos' shape and weight: 4000×3000 and 3000×4000, a few of them, 24 acts.
    const photos = await Promise.all(
      [0, 1, 2, 3].map((seed) =>
        photoJpeg(seed % 2 ? { width: 3000, height: 4000, seed } : { width: 4000, height: 3000, seed }),
      ),
    );
    for (let i = 0; i < PHOTOS; i++)
      await postPhoto(
        site.base,
        cookie,
        photos[i % photos.length]!,
        `Sunset #${i + 1} from the hill, shared with the neighbours`,
        CATEGORY,
      );
    return site;
  } catch (err) {
    await site.stop();
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
