// The one entry point: SERVICE=users | acts | all. Reads the environment, starts the
// services, and stops them cleanly on SIGTERM/SIGINT (exit 0). A bad environment or a
// failed start is one JSON log line and exit 1.
import { ConfigError, loadConfig } from './config.ts';
import { describeError, jsonLogger } from './log.ts';
import { startApp, type RunningApp } from './server.ts';

async function main(): Promise<void> {
  let app: RunningApp;
  try {
    const config = loadConfig(process.env);
    app = await startApp({ ...config, logger: jsonLogger });
  } catch (err) {
    if (err instanceof ConfigError) {
      jsonLogger({ level: 'error', event: 'config_invalid', variable: err.variable, value: err.value, expected: err.expected, message: err.message });
    } else {
      jsonLogger({ level: 'error', event: 'start_failed', ...describeError(err) });
    }
    process.exit(1);
  }

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    app.close().then(
      () => {
        jsonLogger({ level: 'info', event: 'stopped', signal });
        process.exit(0);
      },
      (err: unknown) => {
        jsonLogger({ level: 'error', event: 'stop_failed', signal, ...describeError(err) });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

void main();
