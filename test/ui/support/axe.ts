// axe-core, the engine behind Lighthouse's and most browsers' accessibility audits, in a page:
// its serious and critical violations, and a line each for a failure message. axe is injected
// into the page, so its context must bypass the page's CSP (`bypassCSP: true`).
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

const AXE = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string[]; failureSummary?: string }>;
}

/** axe's violations of impact serious or critical on the page as it is now. */
export async function seriousViolations(page: Page): Promise<Violation[]> {
  // Mid-animation (a toast fading in) colours blend with what is behind them: judge them at rest.
  // (Endless ones, such as the dashboard's live dot, never come to rest and keep their colours.)
  await page.waitForFunction(() =>
    document
      .getAnimations()
      .every((a) => a.playState !== 'running' || a.effect?.getComputedTiming().iterations === Number.POSITIVE_INFINITY),
  );
  await page.addScriptTag({ content: AXE });
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(): Promise<{ violations: Violation[] }> } }).axe;
    return (await axe.run()).violations;
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

export function describeViolations(violations: Violation[]): string {
  return violations
    .map(
      (v) =>
        `${v.impact} ${v.id} (${v.help}): ${v.nodes
          .map((n) => n.target.join(' '))
          .slice(0, 4)
          .join('; ')}`,
    )
    .join('\n');
}
