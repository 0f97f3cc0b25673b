// `selflessacts start` (the default command): loads and checks the config (a bad one exits 1
// naming key, value and expectation), picks the runtime, starts the supervisor in the
// foreground; SIGTERM/SIGINT drain and stop it, then exit 0, also when the signal arrives while
// it is still starting; SIGHUP reloads (Supervisor.reload).
import { ConfigError, describeIssue, loadConfigFile } from '../config.ts';
import { createLogger, errorFields } from '../log.ts';
import { selectRuntime } from '../runtime/select.ts';
import { Supervisor } from '../supervisor.ts';

const logger = createLogger({ component: 'supervisor' });

async function start(configFile: string): Promise<Supervisor> {
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
  // One bad callback must not take the fleet down with it: log, and the loop carries on.
  process.on('uncaughtException', (err) => logger.error('uncaught exception', { error: errorFields(err), stack: err.stack }));
  process.on('unhandledRejection', (err) => logger.error('unhandled rejection', { error: errorFields(err) }));

  const starting = start(configFile);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('stopping', { signal });
    starting
      .then((supervisor) => supervisor.stop())
      .then(
        () => {
          logger.info('stopped', { signal });
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
