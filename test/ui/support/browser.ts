// Headless Chromium for the UI tests, and a watch on every page: console errors, uncaught
// exceptions, and any request leaving 127.0.0.1 (the site must fetch nothing from elsewhere).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { chromiumPath } from '../../helpers/requirements.ts';
import { repoRoot } from '../../helpers/node-process.ts';

export const artifactsDir = join(repoRoot, 'artifacts', 'ui');
export const docsScreenshotsDir = join(repoRoot, 'docs', 'screenshots');

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}

/**
 * A failed response the test expects (a 401 while logged out, a wrong password...). Any other
 * response of 400 or more is a problem, and so is a favicon that is not there.
 */
export interface ExpectedFailure {
  path: string;
  status: number;
}

export class PageWatch {
  readonly problems: string[] = [];
  readonly expected: ExpectedFailure[] = [];

  constructor(readonly page: Page) {
    page.on('console', (msg) => {
      if (msg.type() !== 'error') return;
      const text = msg.text();
      // Chromium reports each failed response as a console error too; the response handler
      // below judges those, by path and status.
      if (/^Failed to load resource: the server responded with a status of \d{3}/.test(text)) return;
      this.problems.push(`console error: ${text} (${msg.location().url || 'no url'})`);
    });
    page.on('pageerror', (err) => this.problems.push(`uncaught: ${err.message}`));
    page.on('request', (req) => {
      const url = new URL(req.url());
      if (url.protocol === 'data:' || url.protocol === 'blob:') return;
      if (url.hostname !== '127.0.0.1') this.problems.push(`request to another host: ${req.url()}`);
    });
    page.on('response', (res) => {
      const status = res.status();
      if (status < 400) return;
      const { pathname } = new URL(res.url());
      if (!this.expected.some((e) => e.status === status && e.path === pathname)) {
        this.problems.push(`${res.request().method()} ${pathname} answered ${status}`);
      }
    });
  }

  assertNoProblems(): void {
    assert.deepEqual(this.problems, [], 'console errors, failed responses or foreign hosts');
  }

  /** Forgives a failed response from now on; the returned function stops forgiving it. */
  expect(path: string, status: number): () => void {
    const entry = { path, status };
    this.expected.push(entry);
    return () => {
      const at = this.expected.indexOf(entry);
      if (at >= 0) this.expected.splice(at, 1);
    };
  }
}

export async function newWatchedPage(
  browser: Browser,
  options: Parameters<Browser['newContext']>[0] = {},
): Promise<{ context: BrowserContext; page: Page; watch: PageWatch }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, ...options });
  // Waits fail fast: every step here takes well under a second on a working page.
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  return { context, page, watch: new PageWatch(page) };
}

/**
 * A page of its own for one test: `use` drives it, then the page must have seen no problems;
 * its context is closed either way.
 */
export async function withWatchedPage(
  browser: Browser,
  options: Parameters<Browser['newContext']>[0],
  use: (watched: { page: Page; watch: PageWatch }) => Promise<void>,
): Promise<void> {
  const { context, page, watch } = await newWatchedPage(browser, options);
  try {
    await use({ page, watch });
    watch.assertNoProblems();
  } finally {
    await context.close();
  }
}

/**
 * A full-page (or, for an overlay, the screen's) screenshot into artifacts/ui/. With `docsName`,
 * also the README's committed copy under docs/screenshots/, written when it is missing or
 * UPDATE_SCREENSHOTS=1, so that an ordinary test run does not change tracked files.
 */
export async function screenshot(page: Page, name: string, docsName?: string, { fullPage = true } = {}): Promise<void> {
  await mkdir(artifactsDir, { recursive: true });
  const image = await page.screenshot({ path: join(artifactsDir, `${name}.png`), fullPage });
  const docsFile = docsName ? join(docsScreenshotsDir, docsName) : undefined;
  if (docsFile && (process.env.UPDATE_SCREENSHOTS === '1' || !existsSync(docsFile))) {
    await mkdir(docsScreenshotsDir, { recursive: true });
    await writeFile(docsFile, image);
  }
}
