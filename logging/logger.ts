// The one log schema of the supervisor and the app, on pino: every line is
// {level, time, component, ...fields, msg}, `level` a name ("info"), `time` ISO 8601. JSON lines
// when stdout is a pipe or a file (systemd's journal, Docker's log driver, a log shipper); one
// readable, coloured line per entry on a terminal (pino-pretty, in this thread: no transport
// worker, so a line is out before process.exit). LOG_LEVEL and LOG_FORMAT choose. pino-pretty is
// a development dependency, loaded when present: an install without it (npm ci --omit=dev, the
// app's images) writes JSON lines on a terminal too.
// Writes are synchronous on fd 1, which also holds in worker threads (their process.stdout is
// forwarded through the parent; fd 1 is not). Nothing on a hot path logs per request.
import { createRequire } from 'node:module';
import { threadId } from 'node:worker_threads';
import { pino, stdTimeFunctions, type DestinationStream, type Logger as Pino } from 'pino';
import type { PinoPretty as PinoPrettyFactory } from 'pino-pretty';

/** Resolved at run time (and left out of the bundles): it may not be installed. */
const requireOptional = createRequire(import.meta.url);

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];
/** `auto`: pretty on a terminal, JSON otherwise. */
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export type Level = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

export interface Logger {
  log(level: Level, msg: string, fields?: LogFields): void;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** The same output with more fields on every line; a child's `component` replaces its parent's. */
  child(fields: LogFields): Logger;
}

export interface LogSettings {
  level: LogLevelName;
  format: LogFormat;
}

/**
 * LOG_LEVEL (default info) and LOG_FORMAT (default auto) from the environment; a bad value
 * becomes the caller's own config error (`invalid`), so start-up stops naming the variable.
 */
export function logSettings(
  env: Record<string, string | undefined>,
  invalid: (variable: string, value: string, expected: string) => Error,
): LogSettings {
  const pick = <T extends string>(variable: string, allowed: readonly T[], fallback: T): T => {
    const value = env[variable];
    if (value === undefined || value === '') return fallback;
    if ((allowed as readonly string[]).includes(value)) return value as T;
    throw invalid(variable, value, `one of ${allowed.join(', ')}`);
  };
  return { level: pick('LOG_LEVEL', LOG_LEVELS, 'info'), format: pick('LOG_FORMAT', LOG_FORMATS, 'auto') };
}

export interface LoggerOptions extends Partial<LogSettings> {
  /** Fields on every line, `component` first among them. */
  bindings?: LogFields;
  /** Where lines go (tests); default fd 1, pretty or JSON by `format`. */
  destination?: DestinationStream;
  /** Whether stdout is a terminal (for `auto`); default process.stdout.isTTY. */
  isTTY?: boolean;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const format = options.format ?? 'auto';
  const isTTY = options.isTTY ?? process.stdout.isTTY === true;
  const pretty = format === 'pretty' || (format === 'auto' && isTTY);
  const root = pino(
    {
      level: options.level ?? 'info',
      base: threadId === 0 ? null : { thread: threadId },
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }), log: plainErrors },
    },
    options.destination ?? (pretty ? prettyStream(isTTY) : undefined) ?? pino.destination({ dest: 1, sync: true }),
  );
  return wrap(root, options.bindings ?? {});
}

/** Discards everything: for tests that start the app in-process. */
export const silentLogger: Logger = createLogger({ level: 'silent', destination: { write: () => {} } });

/** Readable lines, when pino-pretty is installed. */
function prettyStream(colorize: boolean): DestinationStream | undefined {
  let factory: typeof PinoPrettyFactory;
  try {
    factory = (requireOptional('pino-pretty') as { PinoPretty: typeof PinoPrettyFactory }).PinoPretty;
  } catch {
    return undefined;
  }
  return factory({ ...prettyOptions(colorize), sync: true });
}

/** "[12:01:02.345] WARN: fleet: replica failed {...}": the component reads as the subject. */
export function prettyOptions(colorize: boolean) {
  return {
    colorize,
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss.l',
    messageFormat: '{if component}{component}: {end}{msg}',
    ignore: 'component,thread',
  };
}

// Bindings are merged here, not stacked as pino children, so a child's `component` replaces its
// parent's instead of appearing twice in one JSON object.
function wrap(root: Pino, bindings: LogFields): Logger {
  const bound = Object.keys(bindings).length === 0 ? root : root.child(bindings);
  const log = (level: Level, msg: string, fields?: LogFields) => {
    if (fields === undefined) bound[level](msg);
    else bound[level](fields, msg);
  };
  return {
    log,
    debug: (msg, fields) => log('debug', msg, fields),
    info: (msg, fields) => log('info', msg, fields),
    warn: (msg, fields) => log('warn', msg, fields),
    error: (msg, fields) => log('error', msg, fields),
    child: (fields) => wrap(root, { ...bindings, ...fields }),
  };
}

/** An Error among the fields prints as {code, message} (JSON would print {}). */
function plainErrors(fields: Record<string, unknown>): Record<string, unknown> {
  let copy: Record<string, unknown> | undefined;
  for (const [key, value] of Object.entries(fields)) {
    if (!(value instanceof Error)) continue;
    copy ??= { ...fields };
    copy[key] = errorFields(value);
  }
  return copy ?? fields;
}

export function errorFields(err: unknown): { code: string; message: string } {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { code: typeof code === 'string' ? code : err.name, message: err.message };
  }
  return { code: 'UNKNOWN', message: String(err) };
}
