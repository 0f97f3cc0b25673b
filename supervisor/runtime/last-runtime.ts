// Which runtime the last run used, remembered in dataDir, so `runtime: "auto"` never switches
// while replicas of the other one may be alive: with Docker down at a restart, auto would
// otherwise pick child processes and start a second set of replicas on the ports the old
// containers may still hold. The memory is dropped by a shutdown that removed every replica.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface LastRuntime {
  runtime: string;
  /** When this runtime was first chosen for the instance (ISO). */
  since: string;
}

export function lastRuntimeFile(dataDir: string, instance: string): string {
  return path.join(dataDir, `runtime-${instance}.json`);
}

/** The remembered runtime, or undefined when none is (or the file is unreadable: then auto is free). */
export function readLastRuntime(file: string): LastRuntime | undefined {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<LastRuntime>;
    return typeof parsed.runtime === 'string' && parsed.runtime !== ''
      ? { runtime: parsed.runtime, since: String(parsed.since ?? '') }
      : undefined;
  } catch {
    return undefined;
  }
}

export function rememberRuntime(file: string, runtime: string, now = new Date()): void {
  const known = readLastRuntime(file);
  if (known?.runtime === runtime) return;
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ runtime, since: now.toISOString() } satisfies LastRuntime)}\n`);
  renameSync(tmp, file);
}

export function forgetRuntime(file: string): void {
  rmSync(file, { force: true });
}
