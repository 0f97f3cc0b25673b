// The dashboard's charts (public/dashboard/chart.js) drawn in headless Chromium from made-up
// history, at a phone's width and a wide screen's: the figures a supervisor would give, without
// waiting minutes for one to make them. Scaling decisions close in time once printed their
// labels over each other ("95→63→8", issue 25); now they join into one label, and every label and
// axis figure stays inside the drawing. The page and its files are served from public/ by the
// browser's own request routing: no server, no network.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { repoRoot } from '../helpers/node-process.ts';
import { chromiumAvailable, skipUnless } from '../helpers/requirements.ts';
import { launchBrowser, screenshot, withWatchedPage } from './support/browser.ts';

const skip = skipUnless(await chromiumAvailable(), 'Chromium');
// Loopback, on a port nothing listens on: every request is answered by the route below.
const ORIGIN = 'http://127.0.0.1:9';
const TYPES: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };
const PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/dashboard/dashboard.css"><link rel="icon" href="/dashboard/favicon.svg"></head>
<body><div class="chart"><svg id="traffic" role="img" aria-label="traffic"></svg></div></body></html>`;

async function chartPage(page: Page): Promise<void> {
  await page.route(`${ORIGIN}/**`, async (route) => {
    const { pathname } = new URL(route.request().url());
    if (pathname === '/') return route.fulfill({ contentType: 'text/html', body: PAGE });
    const file = normalize(join(repoRoot, 'public', pathname));
    if (!file.startsWith(join(repoRoot, 'public'))) return route.fulfill({ status: 404 });
    return route.fulfill({
      contentType: TYPES[extname(file)] ?? 'application/octet-stream',
      body: await readFile(file),
    });
  });
  await page.goto(`${ORIGIN}/`);
}

interface Drawn {
  labels: Array<{ text: string; left: number; right: number; title: string }>;
  axis: Array<{ text: string; left: number; right: number }>;
  lines: number;
}

/** Draws the traffic chart `width` px wide with decisions `at` seconds before the last sample. */
function draw(
  page: Page,
  width: number,
  decisions: Array<[seconds: number, from: number, to: number]>,
): Promise<Drawn> {
  return page.evaluate(
    async ({ width, decisions }) => {
      const { drawTraffic } = (await import('/dashboard/chart.js' as string)) as {
        drawTraffic: (svg: SVGSVGElement, samples: unknown[], marks: unknown[], W: number) => void;
      };
      const svg = document.querySelector<SVGSVGElement>('#traffic')!;
      svg.style.width = `${width}px`;
      const now = Date.parse('2026-12-07T08:00:00Z');
      // Ten minutes of samples: bursts to 2,500 requests a second, so the right axis reads "2500".
      const samples = Array.from({ length: 120 }, (_, i) => ({
        t: now - (119 - i) * 5000,
        ready: 1 + (i % 9),
        desired: 1 + (i % 9),
        rps: i % 30 === 0 ? 2400 : 40,
      }));
      const marks = decisions.map(([seconds, from, to], seq) => ({
        seq,
        type: 'scaled',
        time: new Date(now - seconds * 1000).toISOString(),
        from,
        to,
        reason: `window ${seq}`,
      }));
      drawTraffic(svg, samples, marks, width);
      // No helper functions in here: tsx names them with a function the page does not have.
      return {
        labels: [...svg.querySelectorAll<SVGTextElement>('.scale-mark text')].map((t) => ({
          text: t.firstChild?.textContent ?? '',
          title: t.querySelector('title')?.textContent ?? '',
          left: t.getBBox().x,
          right: t.getBBox().x + t.getBBox().width,
        })),
        axis: [...svg.querySelectorAll<SVGTextElement>('.chart-grid text')].map((t) => ({
          text: t.textContent ?? '',
          left: t.getBBox().x,
          right: t.getBBox().x + t.getBBox().width,
        })),
        lines: svg.querySelectorAll('.scale-mark line').length,
      };
    },
    { width, decisions },
  );
}

describe('the dashboard chart: decision labels and axes', { skip }, () => {
  let browser: Browser | undefined;
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });

  // Three decisions within seconds of each other (9 → 5 → 6 → 3), one alone minutes later,
  // one at the very start and one at the very end.
  const decisions: Array<[number, number, number]> = [
    [595, 1, 9],
    [300, 9, 5],
    [298, 5, 6],
    [296, 6, 3],
    [120, 3, 8],
    [0, 8, 2],
  ];

  for (const [name, width] of [
    ['a phone (360 px)', 360],
    ['a wide screen (1200 px)', 1200],
  ] as const) {
    test(`${name}: no two labels overlap, every figure stays inside, a joined label reads the whole step`, async () => {
      await withWatchedPage(browser!, { viewport: { width: width + 40, height: 400 } }, async ({ page }) => {
        await chartPage(page);
        const drawn = await draw(page, width, decisions);
        await screenshot(page, `dashboard-chart-${width}`);
        assert.equal(drawn.lines, decisions.length, 'a line at every decision');
        const texts = drawn.labels.map((l) => l.text);
        assert.ok(texts.includes('9 → 3'), `the close decisions joined, first count to last: ${texts.join(' | ')}`);
        const joined = drawn.labels.find((l) => l.text === '9 → 3')!;
        assert.deepEqual(
          joined.title.split('\n').map((line) => line.replace(/^\S+ /, '').replace(/:.*/, '')),
          ['9 → 5', '5 → 6', '6 → 3'],
          'its title lists every decision',
        );
        const sorted = [...drawn.labels].sort((a, b) => a.left - b.left);
        for (let i = 1; i < sorted.length; i++) {
          assert.ok(
            sorted[i]!.left >= sorted[i - 1]!.right,
            `"${sorted[i - 1]!.text}" (${sorted[i - 1]!.right.toFixed(1)}) overlaps "${sorted[i]!.text}" (${sorted[i]!.left.toFixed(1)})`,
          );
        }
        for (const figure of [...drawn.labels, ...drawn.axis]) {
          assert.ok(
            figure.left >= 0 && figure.right <= width,
            `"${figure.text}" spans ${figure.left.toFixed(1)}–${figure.right.toFixed(1)}, outside 0–${width}`,
          );
        }
      });
    });
  }
});
