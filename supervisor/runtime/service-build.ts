// A service's build step under the process runtime (services.<name>.build): what the images do
// for the engine runtimes, from the config alone. The supervisor knows no project: the build
// command decides what to build, where in the cache directory it goes and whether what is there
// is still good; it prints the directory of its result as its last line, and the replicas run
// `build.run` with `{{build:dir}}` naming it. A build is settled once per supervisor run (like an
// image: replicas started later run the same code, not a half-edited tree) and shared by the
// services that declare the same command; a failed one is tried again at the next start.
import { spawn } from 'node:child_process';
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../core/log.ts';
import type { ServiceBuild } from '../schema/service.ts';
import { BUILD_CACHE, BUILD_DIR } from '../schema/service-values.ts';

/** A build still running after this is killed, and the replica's start fails saying so. */
const BUILD_TIMEOUT_MS = 300_000;
/** What of a failed build's standard error the error carries: its end, where the reason is. */
const STDERR_TAIL = 2000;
/** What of a build's standard output is kept: its end, where the last line names the result. */
const STDOUT_MAX = 64 * 1024;

export interface ServiceBuildsOptions {
  /** `{{build:cache}}`: where builds keep what they make (dataDir/builds). */
  cacheDir: string;
  /** The build runs here, as the replicas do. */
  cwd: string;
  /** The build's environment: what the replicas inherit of the supervisor's, nothing of its config. */
  env: Record<string, string>;
  logger?: Logger | undefined;
  timeoutMs?: number;
}

export class ServiceBuilds {
  readonly #options: ServiceBuildsOptions;
  /** By the build command: the directory of its result, or the build under way. */
  readonly #settled = new Map<string, Promise<string>>();

  constructor(options: ServiceBuildsOptions) {
    this.#options = options;
  }

  /** The command a replica of `service` runs: `build.run` from its build's directory. */
  async command(service: string, build: ServiceBuild): Promise<string[]> {
    const key = JSON.stringify(build.command);
    let settled = this.#settled.get(key);
    if (!settled) {
      settled = this.#run(service, build.command);
      this.#settled.set(key, settled);
      settled.catch(() => this.#settled.delete(key));
    }
    const dir = await settled;
    return build.run.map((arg) => arg.replaceAll(BUILD_DIR, dir));
  }

  async #run(service: string, template: readonly string[]): Promise<string> {
    const argv = template.map((arg) => arg.replaceAll(BUILD_CACHE, this.#options.cacheDir));
    const [program, ...args] = argv;
    const shown = `services.${service}.build.command (${argv.join(' ')})`;
    const started = performance.now();
    await mkdir(this.#options.cacheDir, { recursive: true, mode: 0o700 });
    const timeoutMs = this.#options.timeoutMs ?? BUILD_TIMEOUT_MS;
    const { code, signal, stdout, stderr, timedOut } = await runToEnd(
      program === 'node' ? process.execPath : program!,
      args,
      this.#options,
      timeoutMs,
    );
    const tail = stderr.trim().slice(-STDERR_TAIL);
    if (timedOut) throw new Error(`${shown} was still running after ${timeoutMs / 1000} s: killed`);
    if (code !== 0) {
      const how = signal ? `killed by ${signal}` : code === null ? 'could not start' : `exit ${code}`;
      throw new Error(`${shown} failed (${how})${tail ? `: ${tail}` : ''}`);
    }
    const last = stdout.trim().split('\n').at(-1)?.trim() ?? '';
    const dir = path.resolve(this.#options.cwd, last);
    const isDir =
      last !== '' &&
      (await stat(dir).then(
        (s) => s.isDirectory(),
        () => false,
      ));
    if (!isDir) {
      throw new Error(
        `${shown} ended without naming its result: its last line of output must be a directory, not "${last}"`,
      );
    }
    this.#options.logger?.info('service built', {
      service,
      dir,
      ms: Math.round(performance.now() - started),
      ...(tail ? { said: tail } : {}),
    });
    return dir;
  }
}

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

function runToEnd(bin: string, args: string[], options: ServiceBuildsOptions, timeoutMs: number): Promise<Ended> {
  return new Promise((resolve) => {
    const child = spawn(bin, args, {
      cwd: options.cwd,
      env: options.env,
      // Its own process group: a timeout kills what the build started too (esbuild's service).
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    // The end is what counts (the result's directory is the last line): a chatty build keeps
    // its last STDOUT_MAX characters, trimmed now and then rather than on every chunk.
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (stdout.length > 2 * STDOUT_MAX) stdout = stdout.slice(-STDOUT_MAX);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4 * STDERR_TAIL);
    });
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // gone already
      }
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      resolve({ code: null, signal: null, stdout, stderr: `${stderr}${err.message}`, timedOut });
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}
