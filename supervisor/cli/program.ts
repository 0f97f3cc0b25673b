// The `selflessacts` command, in the manner of `docker compose` and `nomad`: `start` (the
// default) runs the supervisor; status, events, logs and scale talk to a running one through
// its admin API; validate checks a config file. Parsing, help, --version and "did you mean" for a
// mistyped command come from commander (cli library: typed, no dependencies, the one most
// Node tools use), not from code of ours.
import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { ConfigError, describeIssue } from '../config/config.ts';
import { didYouMean } from '../schema/suggest.ts';
import { AdminClient, CliError, adminTarget, type TargetOptions } from './admin-client.ts';
import { runEvents, runLogs, runScale, runStatus } from './observe.ts';
import { runValidate } from './validate.ts';

const DEFAULT_CONFIG = 'config/orchestrator.json';

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Ends a following command (events -f, logs -f); Ctrl-C by default. */
  signal?: AbortSignal;
}

function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return manifest.version;
}

function nonNegativeInt(value: string): number {
  if (!/^\d{1,6}$/.test(value)) throw new InvalidArgumentError('expected a whole number of lines (0-999999)');
  return Number(value);
}

function replicaCount(value: string): number | 'auto' {
  if (value === 'auto') return value;
  if (!/^\d{1,5}$/.test(value)) throw new InvalidArgumentError('expected a number of replicas or "auto"');
  return Number(value);
}

function ctrlC(): AbortSignal {
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  return controller.signal;
}

export function buildProgram(io: CliIo, setExit: (code: number) => void): Command {
  const program = new Command('selflessacts')
    .description(
      'The SelfLessActs supervisor: runs the services, balances, heals and scales them; and looks at a running one.',
    )
    .version(`selflessacts ${packageVersion()} (Node ${process.version})`, '-V, --version')
    .addOption(new Option('-c, --config <file>', 'the deployment').default(DEFAULT_CONFIG).env('SELFLESSACTS_CONFIG'))
    .addOption(
      new Option('--admin <url>', "a running supervisor's admin API (default: admin.host:admin.port of --config)").env(
        'SELFLESSACTS_ADMIN',
      ),
    )
    .showSuggestionAfterError()
    .configureOutput({ writeOut: (s) => io.out(s.replace(/\n$/, '')), writeErr: (s) => io.err(s.replace(/\n$/, '')) })
    .exitOverride();

  const client = (command: Command) => new AdminClient(adminTarget(command.optsWithGlobals<TargetOptions>()));
  const action =
    <A extends unknown[]>(body: (...args: A) => Promise<number>) =>
    async (...args: A) =>
      setExit(await body(...args));

  program
    .command('start', { isDefault: true })
    .description(
      'run the supervisor in the foreground (the default; what npm start runs): Ctrl-C or SIGTERM drains and stops it',
    )
    // Whatever is not a command lands here, as the default command's operand: say so.
    .argument('[command]')
    .action(async (unknown: string | undefined, _options: object, command: Command) => {
      if (unknown !== undefined) {
        const names = program.commands.flatMap((c) => [c.name(), ...c.aliases()]);
        program.error(`error: unknown command '${unknown}'${didYouMean(unknown, names)}`, { exitCode: 2 });
      }
      const { runSupervisor } = await import('./start.ts');
      await runSupervisor(command.optsWithGlobals<TargetOptions>().config);
    });

  program
    .command('status')
    .alias('ps')
    .description('the replicas of every service: state, health, age, requests served')
    .option('--json', 'the admin API body (GET /status) as it is')
    .action(
      action(async (options: { json?: boolean }, command: Command) =>
        runStatus(client(command), { json: options.json ?? false }, io.out),
      ),
    );

  program
    .command('events')
    .description("the supervisor's event log, oldest first (the last 1000)")
    .option('-f, --follow', 'then live events until Ctrl-C')
    .option('--json', 'one JSON object per event')
    .action(
      action(async (options: { follow?: boolean; json?: boolean }, command: Command) =>
        runEvents(
          client(command),
          { follow: options.follow ?? false, json: options.json ?? false, signal: io.signal ?? ctrlC() },
          io.out,
        ),
      ),
    );

  program
    .command('logs')
    .argument('<service>', 'a service of the config')
    .description("the output of a service's replicas, each line prefixed with <service>-<port>")
    .option('-f, --follow', 'then new output (and new replicas) until Ctrl-C')
    .option('-n, --tail <lines>', 'only the last lines of each replica', nonNegativeInt)
    .option('--json', 'one JSON object per line: service, id, port, stream, line')
    .action(
      action(async (service: string, options: { follow?: boolean; tail?: number; json?: boolean }, command: Command) =>
        runLogs(
          client(command),
          service,
          {
            follow: options.follow ?? false,
            tail: options.tail,
            json: options.json ?? false,
            signal: io.signal ?? ctrlC(),
          },
          io.out,
        ),
      ),
    );

  program
    .command('scale')
    .argument('<service>', 'a service of the config')
    .argument('<replicas>', 'a count from the service\'s min to its max, or "auto"', replicaCount)
    .description('hold a service at N replicas, overruling the scaler, until `scale SERVICE auto` hands it back')
    .action(
      action(async (service: string, replicas: number | 'auto', _options: object, command: Command) =>
        runScale(client(command), service, replicas, io.out),
      ),
    );

  program
    .command('engine-guard')
    .description(
      'the Docker Engine API, filtered for an unprivileged supervisor (runs as root or in the docker group; see docs/operations.md)',
    )
    .requiredOption('--listen <socket>', 'the socket the supervisor connects to (runtimes.docker.socket)')
    .option('--engine <socket>', "the engine's own socket", '/var/run/docker.sock')
    .option(
      '--bind-root <dir>',
      'a directory bind mounts may come from (repeat for several)',
      (dir: string, all: string[]) => [...all, dir],
      [] as string[],
    )
    .option('--owner-label <key>', 'the label every container of ours carries', 'selflessacts.supervisor')
    .action(
      action(async (options: { listen: string; engine: string; bindRoot: string[]; ownerLabel: string }) => {
        const { runEngineGuard } = await import('../engine-guard/main.ts');
        return runEngineGuard({
          listen: options.listen,
          engine: options.engine,
          bindRoots: options.bindRoot,
          ownerLabel: options.ownerLabel,
        });
      }),
    );

  program
    .command('validate')
    .description('check a config file as start-up would, listing every problem; exit 0 if there is none, 1 otherwise')
    .action(
      action(async (_options: object, command: Command) =>
        runValidate(command.optsWithGlobals<TargetOptions>().config, io.out, io.err),
      ),
    );

  return program;
}

/** Parses `argv` (without node and the script) and runs the command; resolves to the exit code. */
export async function runCli(
  argv: string[],
  io: CliIo = { out: (s) => console.log(s), err: (s) => console.error(s) },
): Promise<number> {
  let code = 0;
  const program = buildProgram(io, (c) => (code = c));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and --version exit 0; a usage error exits 2, as getopt-style tools do.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof ConfigError) {
      for (const issue of err.issues) io.err(describeIssue(issue));
      return 1;
    }
    if (err instanceof CliError) {
      io.err(`selflessacts: ${err.message}`);
      return err.exitCode;
    }
    throw err;
  }
}
