// `selflessacts start` (the default command): loads and checks the config (a bad one exits 1
// naming key, value and expectation), picks the runtime, starts the supervisor in the
// foreground; SIGTERM/SIGINT drain and stop it, then exit 0, also when the signal arrives while
// it is still starting; a second SIGTERM/SIGINT hurries the stop (no drain, no grace: replicas
// are killed), as `docker compose` does on a second Ctrl-C; SIGHUP reloads (Supervisor.reload).
// LOG_LEVEL and LOG_FORMAT set the log (logging/logger.ts); a bad value stops start-up.
import { ConfigError, describeIssue, loadConfigFile } from '../config.ts';
import { createLogger, errorFields, logSettings, type Logger } from '../log.ts';
import { selectRuntime } from '../runtime/select.ts';
import { Supervisor } from '../supervisor.ts';

/** After a second signal: what a hurried stop may take before the process exits regardless. */
const FORCED_EXIT_MS = 5000;

function loggerFromEnv(): Logger {
  try {
    return createLogger({ ...logSettings(process.env, (key, value, expected) => new ConfigError([{ key: `${key} (environment)`, value, expected }])), bindings: { component: 'supervisor' } });
  } catch (err) {
    for (const issue of (err as ConfigError).issues) process.stderr.write(`${describeIssue(issue)}\n`);
    process.exit(1);
  }
}

async function start(configFile: string, logger: Logger): Promise<Supervisor> {
  try {
    const config = loadConfigFile(configFile);
    const { runtime, why } = await selectRuntime(config, logger);
    const supervisor = new Supervisor({ config, runtime, logger, why });
    await supervisor.start();
    return supervisor;
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const issue of err.issues) {
        logger.error('invalid config', { file: configFile, ...issue });
        process.stderr.write(`${describeIssue(issue)}\n`);
      }
    } else {
      logger.error('start-up failed', { error: errorFields(err) });
      process.stderr.write(`start-up failed: ${(err as Error).message}\n`);
    }
    process.exit(1);
  }
}

/** Runs the supervisor until a signal stops it: the process exits from here. */
export async function runSupervisor(configFile: string): Promise<void> {
  const logger = loggerFromEnv();
  // One bad callback must not take the fleet down with it: log, and the loop carries on.
  process.on('uncaughtException', (err) => logger.error('uncaught exception', { error: errorFields(err), stack: err.stack }));
  process.on('unhandledRejection', (err) => logger.error('unhandled rejection', { error: errorFields(err) }));

  const starting = start(configFile, logger);
  let stopping = false;
  let hurried = false;
  const stop = (signal: string) => {
    if (stopping) {
      if (hurried) return;
      hurried = true;
      logger.warn('forcing the stop: no drain, replicas killed', { signal });
      void starting.then((supervisor) => supervisor.hurry());
      setTimeout(() => {
        logger.error('forced stop did not finish in time; exiting', { signal, afterMs: FORCED_EXIT_MS });
        process.exit(1);
      }, FORCED_EXIT_MS).unref();
      return;
    }
    stopping = true;
    logger.info('stopping', { signal, hint: 'send it again to force' });
    starting
      .then((supervisor) => supervisor.stop())
      .then(
        () => {
          logger.info('stopped', { signal, forced: hurried });
          process.exit(0);
        },
        (err: unknown) => {
          logger.error('shutdown failed', { error: errorFields(err) });
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // SIGHUP (`systemctl reload`, certbot's deploy hook): reload, never stop. The supervisor's
  // reload() decides what that covers (today: the TLS certificate).
  process.on('SIGHUP', () => {
    if (stopping) return;
    starting.then((supervisor) => supervisor.reload('SIGHUP')).catch((err: unknown) => logger.error('reload failed', { error: errorFields(err) }));
  });
  await starting;
}
