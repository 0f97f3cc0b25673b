// What a page costs a visitor: the bytes it transferred (Chrome's own count, headers included,
// from a fresh context with an empty cache) while a person opens it and scrolls to its end, and
// its cumulative layout shift as images arrive. Uses nothing of the site's own code, so the same
// measurement runs against an older version of the site (the "before" figures).
import type { Browser, BrowserContextOptions } from 'playwright-core';

export interface PageWeight {
  bytes: number;
  requests: number;
  /** Layout shift: every shift not after input, summed over the whole visit (stricter than the Web
   *  Vitals' CLS, which takes only the worst burst). */
  cls: number;
  /** Each shift counted in `cls`: its score and the elements that moved, for a failure message. */
  shifts: { value: number; moved: string[] }[];
  /** Images on the page and how many had loaded (complete, with pixels) at the end. */
  images: number;
  loaded: number;
  /** The image URLs the page chose, for a failure message. */
  sources: string[];
  /** The width each image is shown at, CSS px (in the order of `sources`). */
  shownWidths: number[];
}

export const PHONE: BrowserContextOptions = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 3,
  isMobile: true,
  hasTouch: true,
};
export const DESKTOP: BrowserContextOptions = { viewport: { width: 1280, height: 860 } };

/** Opens `url`, waits for `ready` (a selector), scrolls to the end like a person, and counts. */
export async function pageWeight(
  browser: Browser,
  url: string,
  ready: string,
  options: BrowserContextOptions,
): Promise<PageWeight> {
  const context = await browser.newContext(options);
  try {
    context.setDefaultTimeout(60_000);
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    let bytes = 0;
    let requests = 0;
    cdp.on('Network.loadingFinished', (event: { encodedDataLength: number }) => {
      bytes += event.encodedDataLength;
      requests += 1;
    });
    await page.addInitScript(() => {
      type Shift = {
        value: number;
        hadRecentInput: boolean;
        sources: { node: Node | null; previousRect: DOMRectReadOnly; currentRect: DOMRectReadOnly }[];
      };
      const w = window as unknown as { pageCls: number; pageShifts: { value: number; moved: string[] }[] };
      w.pageCls = 0;
      w.pageShifts = [];
      const describe = (node: Node | null) => {
        if (!(node instanceof Element)) return node?.nodeName ?? '?';
        return `${node.tagName.toLowerCase()}${node.id ? `#${node.id}` : ''}${node.classList.length > 0 ? `.${Array.from(node.classList).join('.')}` : ''}`;
      };
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries() as unknown as Shift[]) {
          if (entry.hadRecentInput) continue;
          w.pageCls += entry.value;
          w.pageShifts.push({
            value: entry.value,
            moved: entry.sources.map(
              (s) =>
                `${describe(s.node)} y ${Math.round(s.previousRect.y)}→${Math.round(s.currentRect.y)} h ${Math.round(s.previousRect.height)}→${Math.round(s.currentRect.height)}`,
            ),
          });
        }
      }).observe({ type: 'layout-shift', buffered: true });
    });
    await page.goto(url);
    await page.locator(ready).first().waitFor();
    // Down a screen at a time, as far as the page goes (bounded), giving lazy images their turn.
    for (let step = 0; step < 80; step++) {
      const atEnd = await page.evaluate(() => {
        window.scrollBy(0, window.innerHeight * 0.8);
        return window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 2;
      });
      await page.waitForTimeout(120);
      if (atEnd) break;
    }
    await page.waitForLoadState('networkidle');
    await page.waitForFunction(() => Array.from(document.images).every((img) => img.complete));
    const seen = await page.evaluate(() => ({
      cls: (window as unknown as { pageCls: number }).pageCls,
      shifts: (window as unknown as { pageShifts: { value: number; moved: string[] }[] }).pageShifts,
      images: document.images.length,
      loaded: Array.from(document.images).filter((img) => img.complete && img.naturalWidth > 0).length,
      sources: Array.from(document.images).map((img) => img.currentSrc),
      shownWidths: Array.from(document.images).map((img) => img.getBoundingClientRect().width),
    }));
    return { bytes, requests, ...seen };
  } finally {
    await context.close();
  }
}
