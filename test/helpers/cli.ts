// The `selflessacts` command as a user runs it: a real child process (`node supervisor ...`, the
// directory entry) from the repository root, its output collected; `follow` ones read line by
// line and stopped with Ctrl-C (SIGINT).
import { spawn, type ChildProcess } from 'node:child_process';
import { eventually } from '../../testkit/eventually.ts';
import { repoRoot } from './node-process.ts';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export class CliProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<CliRun>;

  constructor(args: string[], options: { entry?: string[]; env?: NodeJS.ProcessEnv } = {}) {
    this.child = spawn(process.execPath, [...(options.entry ?? ['supervisor']), ...args], {
      cwd: repoRoot,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.setEncoding('utf8').on('data', (s: string) => (this.stdout += s));
    this.child.stderr!.setEncoding('utf8').on('data', (s: string) => (this.stderr += s));
    this.exited = new Promise((done) =>
      this.child.once('close', (code) => done({ code, stdout: this.stdout, stderr: this.stderr })),
    );
  }

  /** Waits until stdout matches; fails early, with the output, if the command ends first. */
  async waitFor(pattern: RegExp, what: string, timeoutMs = 15_000): Promise<void> {
    await eventually(
      async () => {
        if (pattern.test(this.stdout)) return true;
        if (this.child.exitCode !== null)
          throw new Error(`the command ended (${this.child.exitCode}) before ${what}: ${this.stdout}${this.stderr}`);
        return undefined;
      },
      what,
      timeoutMs,
      50,
    );
  }

  /** Ctrl-C, then SIGKILL if it is still there after `graceMs`. */
  async interrupt(graceMs = 5000): Promise<CliRun> {
    this.child.kill('SIGINT');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const run = await this.exited;
    clearTimeout(timer);
    return run;
  }
}

/** Runs `selflessacts ...args` to its end (killed after `timeoutMs`). */
export async function selflessacts(
  args: string[],
  options: { entry?: string[]; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CliRun> {
  const run = new CliProcess(args, options);
  const timer = setTimeout(() => run.child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
  const result = await run.exited;
  clearTimeout(timer);
  return result;
}
