// The one entry point: SERVICE=users | acts | all. Reads the environment, starts the
// services, and stops them cleanly on SIGTERM/SIGINT (exit 0); a second signal exits at once.
// A bad environment or a failed start is one log line and exit 1.
import { ConfigError, loadConfig } from './config.ts';
import { createLogger, describeError, type Logger } from './log.ts';
import { startApp, type RunningApp } from './server.ts';

async function main(): Promise<void> {
  let app: RunningApp;
  // Until the environment is read, the default level and format; then the configured ones.
  let logger: Logger = createLogger({ bindings: { component: 'app' } });
  try {
    const config = loadConfig(process.env);
    logger = createLogger({ ...config.log, bindings: { component: 'app' } });
    app = await startApp({ ...config, logger });
  } catch (err) {
    if (err instanceof ConfigError) {
      logger.error('config_invalid', {
        variable: err.variable,
        value: err.value,
        expected: err.expected,
        message: err.message,
      });
    } else {
      logger.error('start_failed', describeError(err));
    }
    process.exit(1);
  }

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn('stop_forced', { signal });
      process.exit(1);
    }
    stopping = true;
    app.close().then(
      () => {
        logger.info('stopped', { signal });
        process.exit(0);
      },
      (err: unknown) => {
        logger.error('stop_failed', { signal, ...describeError(err) });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

void main();
