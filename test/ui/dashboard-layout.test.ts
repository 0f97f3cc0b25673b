// The whole dashboard (public/dashboard/) in headless Chromium at a phone's size and a wide
// screen's, fed a busy supervisor's /status, /history and /events.json: ten acts replicas with
// CPU and memory, a replacement still starting after its first unanswered check, one held out of
// rotation, a capped count, a failure with output, scaling decisions close together. The
// browser's request routing answers from public/ and from the bodies below (typed as the
// supervisor's own StatusBody), so the page is what a real supervisor in that state would show:
// a state the live tests (orchestrator.test.ts) cannot hold still long enough to measure.
// Issue 25's dashboard defects: the table overflowing its card at 1440 px, a starting
// replacement in red as "failing ×1", the phone's axis figures clipped; and axe-core's serious
// findings on a page this full (an event list long enough to scroll must scroll from the keyboard).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { StatusBody, StatusReplica } from '../../supervisor/admin/status.ts';
import { repoRoot } from '../helpers/node-process.ts';
import { chromiumAvailable, skipUnless } from '../helpers/requirements.ts';
import { describeViolations, seriousViolations } from './support/axe.ts';
import { launchBrowser, type PageWatch, screenshot, withWatchedPage } from './support/browser.ts';

const skip = skipUnless(await chromiumAvailable(), 'Chromium');
// Loopback, on a port nothing listens on: every request is answered by the routes below.
const ORIGIN = 'http://127.0.0.1:9';
const TYPES: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };
const NOW = Date.now();
const iso = (msAgo: number) => new Date(NOW - msAgo).toISOString();

function replica(port: number, extra: Partial<StatusReplica> = {}): StatusReplica {
  return {
    id: `${port.toString(16)}c0ffee${port}`.padEnd(64, 'a'),
    port,
    url: `http://127.0.0.1:${port}`,
    state: 'ready',
    health: 'ok',
    requestsServed: 123_456 + port,
    startedAt: iso(3_725_000),
    consecutiveFailures: 0,
    reason: 'HTTP 200',
    latencyMs: 3,
    cpuPercent: 12.3,
    memoryBytes: 61_234_567,
    inRotation: true,
    ...extra,
  };
}

const status: StatusBody = {
  runtime: 'docker',
  upstreamParser: { parser: 'llhttp', reason: null },
  memoryEnforcement: 'cgroup',
  cpuEnforcement: 'cgroup',
  limits: "the engine's cgroup per container",
  startedAt: iso(7_200_000),
  listen: { host: '0.0.0.0', port: 3000 },
  listenError: null,
  capacity: {
    memoryMb: 1024,
    source: 'the docker engine',
    reserveMb: 256,
    budgetMb: 768,
    usedMb: 768,
  },
  services: {
    acts: {
      desired: 10,
      min: 1,
      max: 10,
      autoscale: true,
      override: null,
      memoryMb: 256,
      memoryRequestMb: 64,
      capped: {
        wanted: 12,
        allowed: 10,
        reason: '12 asked, 10 fit: 768 MB for replicas (capacity), 64 MB each, beside users 2 × 64 MB',
      },
      rollout: null,
      replicas: [
        ...Array.from({ length: 8 }, (_, i) => replica(8000 + i)),
        replica(8008, {
          health: 'unready',
          consecutiveFailures: 4,
          reason: 'HTTP 503',
          inRotation: false,
          out: { since: iso(30_000), cause: 'unready', reason: '3 health checks failed in a row (last: HTTP 503)' },
        }),
        // The replacement of a crashed replica: its first check came before it listened.
        replica(8009, {
          state: 'starting',
          health: 'failing',
          consecutiveFailures: 1,
          reason: 'connect ECONNREFUSED 127.0.0.1:8009',
          requestsServed: 0,
          startedAt: iso(1500),
          inRotation: false,
        }),
      ],
      window: {
        startedAt: iso(60_000),
        endsAt: new Date(NOW + 60_000).toISOString(),
        windowSeconds: 120,
        requests: 1234,
        requestsPerReplica: 20,
        nextDesired: 10,
        nextThreshold: 200,
        reason: '1234 requests / 20 per replica + 1 = 62, at most 10',
      },
      failures: [
        {
          id: 'f'.repeat(64),
          port: 8009,
          time: iso(2000),
          reason: 'killed by the kernel: out of memory at its cgroup limit (resources.memoryMb 256)',
          output: ['{"level":"error","msg":"a very long line of output that goes on and on without a break'.repeat(3)],
        },
      ],
    },
    users: {
      desired: 2,
      min: 1,
      max: 2,
      autoscale: false,
      override: null,
      memoryMb: 256,
      memoryRequestMb: 64,
      capped: null,
      rollout: null,
      replicas: [replica(8080), replica(8081)],
      window: null,
      failures: [],
    },
  },
};

const scaled = [
  [600, 1, 9],
  [300, 9, 5],
  [298, 5, 6],
  [296, 6, 10],
].map(([secondsAgo, from, to], i) => ({
  seq: i + 1,
  type: 'scaled',
  service: 'acts',
  time: iso(secondsAgo! * 1000),
  from,
  to,
  code: 'load',
  reason: `${from} → ${to}: window ${i}`,
}));

/** An hour of other events: enough that the event list scrolls. */
const events = [
  ...scaled,
  ...Array.from({ length: 40 }, (_, i) => ({
    seq: 100 + i,
    type: i % 2 === 0 ? 'replica.ready' : 'replica.started',
    service: 'acts',
    port: 8000 + (i % 10),
    time: iso(3_000_000 - i * 60_000),
    reason: i % 2 === 0 ? 'health check passed: HTTP 200 in 3 ms' : 'started from image acts:latest',
  })),
];

const history = {
  sampleMs: 5000,
  spanMs: 3_600_000,
  services: Object.fromEntries(
    ['acts', 'users'].map((name) => [
      name,
      Array.from({ length: 144 }, (_, i) => ({
        t: NOW - (143 - i) * 5000,
        rps: i % 20 === 0 ? 2400 : 35 + (i % 7),
        p50: 4 + (i % 3),
        p99: i % 25 === 0 ? 1800 : 40,
        errors: i % 40 === 0 ? 3 : 0,
        ready: name === 'acts' ? 1 + (i % 10) : 2,
        desired: name === 'acts' ? 1 + (i % 10) : 2,
      })),
    ]),
  ),
  scaled,
};

async function dashboard(page: Page, watch: PageWatch): Promise<void> {
  // The stream and the /admin prefix are not there: the page polls /status, as behind a proxy
  // that buffers.
  watch.expect('/events', 404);
  watch.expect('/admin/status', 404);
  await page.route(`${ORIGIN}/**`, async (route) => {
    const { pathname } = new URL(route.request().url());
    const json = (body: unknown) => route.fulfill({ contentType: 'application/json', body: JSON.stringify(body) });
    if (pathname === '/status') return json(status);
    if (pathname === '/history') return json(history);
    if (pathname === '/events.json') return json(events);
    if (pathname.startsWith('/dashboard/')) {
      const file = normalize(join(repoRoot, 'public', pathname.endsWith('/') ? `${pathname}index.html` : pathname));
      if (file.startsWith(join(repoRoot, 'public', 'dashboard'))) {
        const type = TYPES[extname(file)] ?? 'text/html';
        return route.fulfill({ contentType: type, body: await readFile(file) });
      }
    }
    return route.fulfill({ status: 404, contentType: 'application/json', body: '{"error":"not found"}' });
  });
  await page.goto(`${ORIGIN}/dashboard/`);
  await page.locator('[data-service="acts"] tbody tr').nth(9).waitFor();
  await page.locator('[data-service="acts"] .scale-mark').first().waitFor();
}

/** Elements whose content is wider than their box (scrolled or cut off), described. */
function overflowing(page: Page, selector: string): Promise<string[]> {
  return page.evaluate(
    (selector) =>
      [...document.querySelectorAll<HTMLElement>(selector)]
        .filter((el) => el.scrollWidth > el.clientWidth + 1)
        .map((el) => `${el.className}: content ${el.scrollWidth} px in ${el.clientWidth} px`),
    selector,
  );
}

/** Chart figures (axis numbers, times, decision labels) that reach outside their drawing. */
function clippedFigures(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll<SVGSVGElement>('.chart-box svg')].flatMap((svg) => {
      const width = svg.viewBox.baseVal.width;
      return [...svg.querySelectorAll<SVGTextElement>('text')]
        .filter((t) => t.getBBox().x < 0 || t.getBBox().x + t.getBBox().width > width)
        .map((t) => `"${t.textContent}" at ${t.getBBox().x.toFixed(1)}+${t.getBBox().width.toFixed(1)} of ${width}`);
    }),
  );
}

describe('the dashboard laid out: a busy supervisor, on a phone and a wide screen', { skip }, () => {
  let browser: Browser | undefined;
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });

  for (const [name, viewport] of [
    ['a phone (390 × 844)', { width: 390, height: 844 }],
    ['a wide screen (1440 × 900)', { width: 1440, height: 900 }],
  ] as const) {
    test(`${name}: nothing wider than the screen, the replica table inside its card, every chart figure inside its chart`, async () => {
      await withWatchedPage(browser!, { viewport, bypassCSP: true }, async ({ page, watch }) => {
        await dashboard(page, watch);
        await screenshot(page, `dashboard-layout-${viewport.width}`);
        const pageWidth = await page.evaluate(() => document.documentElement.scrollWidth);
        assert.ok(pageWidth <= viewport.width, `the page is ${pageWidth} px wide`);
        if (viewport.width >= 1024) {
          // A phone may scroll the table sideways inside its card; a wide screen has the room.
          assert.deepEqual(await overflowing(page, '.service .table-scroll'), [], 'a table wider than its card');
        }
        assert.deepEqual(await clippedFigures(page), [], 'chart figures cut off');
        const violations = await seriousViolations(page);
        assert.deepEqual(violations, [], describeViolations(violations));
      });
    });
  }

  test('a replacement still starting reads "starting", not a red failure, until its start timeout', async () => {
    await withWatchedPage(browser!, { viewport: { width: 1440, height: 900 } }, async ({ page, watch }) => {
      await dashboard(page, watch);
      const row = page.locator('[data-service="acts"] tbody tr[data-port="8009"]');
      const health = row.locator('td').nth(3);
      assert.equal(((await health.textContent()) ?? '').trim(), 'starting');
      assert.equal(await health.locator('.badge-health-failing, .fails').count(), 0, 'no failure badge, no ×1');
      assert.match((await health.getAttribute('title')) ?? '', /1 check unanswered while it starts/);
      // A ready replica that fails is still shown as it is.
      const out = page.locator('[data-service="acts"] tbody tr[data-port="8008"] td').nth(3);
      assert.match((await out.textContent()) ?? '', /unready\s*×4/);
    });
  });
});
