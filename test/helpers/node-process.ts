// A repository entry point (app/main.ts, supervisor/main.ts) run as a real child process the
// way production runs it, through tsx, with a stop that cannot hang a suite's after hook.
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

export const repoRoot = resolve(import.meta.dirname, '../..');

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface NodeProcess {
  child: ChildProcess;
  exited: Promise<ExitStatus>;
  /** SIGTERM, then SIGKILL after `graceMs`; the exit status. Safe after exit and twice. */
  stop(graceMs?: number): Promise<ExitStatus>;
}

/** `node --import tsx <entry> ...args` from the repository root; stdout and stderr piped. */
export function startTsx(entry: string, args: string[], env: NodeJS.ProcessEnv): NodeProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<ExitStatus>((done) => child.once('exit', (code, signal) => done({ code, signal })));
  const stop = async (graceMs = 10_000) => {
    if (child.exitCode !== null || child.signalCode !== null) return exited;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    const status = await exited;
    clearTimeout(timer);
    return status;
  };
  return { child, exited, stop };
}
