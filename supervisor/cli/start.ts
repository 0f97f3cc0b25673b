// `selflessacts start` (the default command): loads and checks the config (a bad one exits 1
// naming key, value and expectation), picks the runtime (for "auto", the last run's when one is
// remembered), starts the supervisor in the foreground (on the sockets systemd passes, if any:
// LISTEN_FDS; a start that fails undoes what it made, then exits 1); SIGTERM/SIGINT drain and
// stop it, then exit 0, also when the signal arrives while it is still starting, or exit 1
// naming the replicas it could not remove; a second SIGTERM/SIGINT hurries the stop (no drain,
// no grace: replicas are killed), as `docker compose` does on a second Ctrl-C; SIGHUP reloads
// (Supervisor.reload).
// LOG_LEVEL and LOG_FORMAT set the log (logging/logger.ts); a bad value stops start-up.
import {
  ActivationError,
  forgetActivationEnv,
  inheritedSockets,
  type InheritedSockets,
} from '../balancer/socket-activation.ts';
import { ConfigError, describeIssue, loadConfigFile, type Config } from '../config/config.ts';
import { createLogger, errorFields, logSettings, type Logger } from '../core/log.ts';
import { forgetRuntime, lastRuntimeFile, readLastRuntime, rememberRuntime } from '../runtime/last-runtime.ts';
import { selectRuntime, type Selection } from '../runtime/select.ts';
import { Supervisor } from '../primary/supervisor.ts';

/** After a second signal: what a hurried stop may take before the process exits regardless. */
const FORCED_EXIT_MS = 5000;

function loggerFromEnv(): Logger {
  try {
    return createLogger({
      ...logSettings(
        process.env,
        (key, value, expected) => new ConfigError([{ key: `${key} (environment)`, value, expected }]),
      ),
      bindings: { component: 'supervisor' },
    });
  } catch (err) {
    for (const issue of (err as ConfigError).issues) process.stderr.write(`${describeIssue(issue)}\n`);
    process.exit(1);
  }
}

/**
 * The configured runtime; for "auto", the one the last run used when one is remembered: if that
 * one cannot run now, start-up stops rather than switch (its replicas may still be running).
 */
async function chooseRuntime(c: Config, logger: Logger): Promise<Selection> {
  const file = lastRuntimeFile(c.dataDir, c.instance);
  const last = c.runtime === 'auto' ? readLastRuntime(file) : undefined;
  let selection: Selection;
  try {
    selection = await selectRuntime(last ? { ...c, runtime: last.runtime as Config['runtime'] } : c, logger);
  } catch (err) {
    if (!last || !(err instanceof ConfigError)) throw err;
    const why = err.issues.map((i) => i.expected).join('; ');
    throw new ConfigError([
      {
        key: 'runtime',
        value: 'auto',
        expected: `the runtime of the last run, "${last.runtime}" (${file}), which cannot run now (${why}): its replicas may still be running, and another runtime would start a second set on their ports. Start ${last.runtime} again; or remove its replicas and that file; or name a runtime in the config`,
      },
    ]);
  }
  rememberRuntime(file, selection.runtime.kind);
  return last
    ? { ...selection, why: `auto kept ${last.runtime}, the runtime of the last run (${file}): ${selection.why}` }
    : selection;
}

async function start(configFile: string, logger: Logger, loaded: (config: Config) => void): Promise<Supervisor> {
  let supervisor: Supervisor | undefined;
  try {
    // Read (and unset) before anything runs a child: the sockets are the supervisor's alone.
    let inherited: InheritedSockets | null;
    try {
      inherited = inheritedSockets(process.env, process.pid);
    } finally {
      forgetActivationEnv(process.env);
    }
    const config = loadConfigFile(configFile);
    loaded(config);
    const { runtime, why } = await chooseRuntime(config, logger);
    supervisor = new Supervisor({ config, runtime, logger, why, inherited, configFile });
    await supervisor.start();
    return supervisor;
  } catch (err) {
    // What the start made (the Docker network, workers, the admin listener) goes with it.
    await supervisor
      ?.abandonStart()
      .catch((undo: unknown) => logger.error('undoing the start failed', { error: errorFields(undo) }));
    if (err instanceof ConfigError) {
      for (const issue of err.issues) {
        logger.error('invalid config', { file: configFile, ...issue });
        process.stderr.write(`${describeIssue(issue)}\n`);
      }
    } else if (err instanceof ActivationError) {
      logger.error('bad socket activation', { message: err.message });
      process.stderr.write(`socket activation: ${err.message}\n`);
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
  process.on('uncaughtException', (err) =>
    logger.error('uncaught exception', { error: errorFields(err), stack: err.stack }),
  );
  process.on('unhandledRejection', (err) => logger.error('unhandled rejection', { error: errorFields(err) }));

  let config: Config | undefined;
  const starting = start(configFile, logger, (c) => (config = c));
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
        (left) => {
          if (left.length > 0) {
            // Exiting 0 would tell systemd (and the operator) that all is clean.
            logger.error('stopped, leaving replicas behind', { signal, left });
            for (const r of left)
              process.stderr.write(
                `not removed: ${r.id ? `${r.service}-${r.port} (${r.id.slice(0, 12)})` : 'replicas unknown'}: ${r.reason}\n`,
              );
            process.exit(1);
          }
          // Nothing of this run is left: the next "auto" start may pick any runtime.
          if (config?.onShutdown === 'remove' && !hurried)
            forgetRuntime(lastRuntimeFile(config.dataDir, config.instance));
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
  // reload() decides what that covers: the TLS certificate, the replicas' specs (rolled out).
  process.on('SIGHUP', () => {
    if (stopping) return;
    starting
      .then((supervisor) => supervisor.reload('SIGHUP'))
      .catch((err: unknown) => logger.error('reload failed', { error: errorFields(err) }));
  });
  await starting;
}
