// What the pressure suites share: a user and photo uploads on the real site (testkit/site.ts),
// CPU hogs as child processes (killed at the end whatever happened), the supervisor's events read
// as verdicts (replicas killed, taken out of rotation), and each suite's row of bench:pressure.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Admin, EventRecord } from '../../testkit/supervisor.ts';

export { siteUser, uploadPhoto, type SiteUser } from '../../testkit/site.ts';

/** `n` processes that each keep a core busy until stop() (also called by the suite's after()). */
export function cpuHogs(n: number): { stop(): Promise<void> } {
  const hogs: ChildProcess[] = [];
  for (let i = 0; i < n; i++) hogs.push(spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
  return {
    async stop() {
      await Promise.all(
        hogs.map((h) =>
          h.exitCode !== null || h.signalCode !== null
            ? undefined
            : new Promise<void>((resolve) => {
                h.once('exit', () => resolve());
                h.kill('SIGKILL');
              }),
        ),
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
