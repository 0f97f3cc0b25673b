// The app's side of the shared log schema (logging/logger.ts). Requests are not logged; only
// start/stop and errors, so a busy replica does not drown its own output.
import { mapStack } from './stack-map.ts';

export { createLogger, logSettings, silentLogger, type Logger, type LogSettings } from '../logging/logger.ts';

/** The parts of an unknown error worth logging (never sent to a client). */
export function describeError(err: unknown): Record<string, unknown> {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return {
      message: err.message,
      ...(code === undefined ? {} : { code }),
      ...(err.stack === undefined ? {} : { stack: mapStack(err.stack) }),
    };
  }
  return { message: String(err) };
}
