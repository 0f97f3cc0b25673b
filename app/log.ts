// One JSON object per line: easy to grep, easy for a log shipper. Requests are not logged;
// only start/stop and errors, so a busy replica does not drown its own output.
export type LogLevel = 'info' | 'warn' | 'error';

export interface LogEntry {
  level: LogLevel;
  event: string;
  [field: string]: unknown;
}

export type Logger = (entry: LogEntry) => void;

export const jsonLogger: Logger = (entry) => {
  const line = JSON.stringify({ time: new Date().toISOString(), ...entry });
  (entry.level === 'info' ? process.stdout : process.stderr).write(`${line}\n`);
};

export const silentLogger: Logger = () => {};

/** The parts of an unknown error worth logging (never sent to a client). */
export function describeError(err: unknown): Record<string, unknown> {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { message: err.message, ...(code === undefined ? {} : { code }), stack: err.stack };
  }
  return { message: String(err) };
}
