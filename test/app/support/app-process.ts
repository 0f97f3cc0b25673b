// app/main.ts as a child process, the way replicas run: its JSON log lines collected, its
// URL read from the "started" line, stopped with SIGTERM.
import { JsonLinesSplitter } from '../../../engine-client/json-lines.ts';
import { startTsx, type NodeProcess } from '../../helpers/node-process.ts';

export interface AppProcess extends NodeProcess {
  /** Parsed JSON log lines from stdout and stderr, in arrival order. */
  logs: Record<string, unknown>[];
  /** Resolves with the URL from the "started" line; rejects if the process exits first. */
  started: Promise<string>;
}

export function spawnApp(env: Record<string, string>, startTimeoutMs = 30_000): AppProcess {
  // Only what the app needs from this environment, so the test decides the rest.
  const node = startTsx('app/main.ts', [], { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env });
  const logs: Record<string, unknown>[] = [];
  const started = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no "started" line within ${startTimeoutMs} ms: ${JSON.stringify(logs)}`)),
      startTimeoutMs,
    );
    const onLine = (line: string) => {
      const entry = parseLogLine(line);
      logs.push(entry);
      if (entry.msg === 'started') {
        clearTimeout(timer);
        resolve(String(entry.url));
      }
    };
    for (const stream of [node.child.stdout, node.child.stderr]) {
      const splitter = new JsonLinesSplitter();
      stream?.on('data', (chunk: Buffer) => splitter.push(chunk).forEach(onLine));
    }
    void node.exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`exited (code ${code}, signal ${signal}) before starting: ${JSON.stringify(logs)}`));
    });
  });
  started.catch(() => {}); // a test that only awaits `exited` must not see an unhandled rejection
  return { ...node, logs, started };
}

function parseLogLine(line: string): Record<string, unknown> {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return { unparsed: line };
  }
}
