// Structured logs: one JSON object per line on stdout, so a person can read them and a
// machine can filter them. Workers use the same logger; Node forwards their stdout.
import { threadId } from 'node:worker_threads';

export type Level = 'debug' | 'info' | 'warn' | 'error';

export type LogFields = Record<string, unknown>;

export interface Logger {
  log(level: Level, msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

export function createLogger(base: LogFields = {}, write: (line: string) => void = defaultWrite): Logger {
  const log = (level: Level, msg: string, fields: LogFields = {}) => {
    const entry = { time: new Date().toISOString(), level, msg, ...base, ...fields, ...(threadId ? { thread: threadId } : {}) };
    write(`${JSON.stringify(entry, replacer)}\n`);
  };
  return {
    log,
    info: (msg, fields) => log('info', msg, fields),
    warn: (msg, fields) => log('warn', msg, fields),
    error: (msg, fields) => log('error', msg, fields),
    child: (fields) => createLogger({ ...base, ...fields }, write),
  };
}

function defaultWrite(line: string): void {
  process.stdout.write(line);
}

/** Errors print as {code, message}; everything else as JSON would. */
function replacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return { ...(code === undefined ? {} : { code }), message: value.message };
  }
  return value;
}

export function errorFields(err: unknown): { code: string; message: string } {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { code: typeof code === 'string' ? code : err.name, message: err.message };
  }
  return { code: 'UNKNOWN', message: String(err) };
}
