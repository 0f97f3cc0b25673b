// app/main.ts as a child process, the way replicas run: its JSON log lines collected, its
// URL read from the "started" line, stopped with SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

export interface AppProcess {
  child: ChildProcess;
  /** Parsed JSON log lines from stdout and stderr, in arrival order. */
  logs: Record<string, unknown>[];
  /** Resolves with the URL from the "started" line; rejects if the process exits first. */
  started: Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then the exit status (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function spawnApp(env: Record<string, string>, startTimeoutMs = 30_000): AppProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'app/main.ts'], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const started = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "started" line within ${startTimeoutMs} ms: ${JSON.stringify(logs)}`)), startTimeoutMs);
    const onLine = (line: string) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        entry = { unparsed: line };
      }
      logs.push(entry);
      if (entry.event === 'started') {
        clearTimeout(timer);
        resolve(String(entry.url));
      }
    };
    for (const stream of [child.stdout, child.stderr]) {
      let buffered = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        buffered += chunk;
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) if (line.trim() !== '') onLine(line);
      });
    }
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`exited (code ${code}, signal ${signal}) before starting: ${JSON.stringify(logs)}`));
    });
  });
  started.catch(() => {}); // a test that only awaits `exited` must not see an unhandled rejection
  const stop = async (graceMs = 10_000) => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const status = await exited;
      clearTimeout(timer);
      return status;
    }
    return exited;
  };
  return { child, logs, started, exited, stop };
}
