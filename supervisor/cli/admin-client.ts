// How the commands reach a running supervisor: its admin API (docs/status-api.md), at the
// address the config names (admin.host, admin.port, with their env overrides) or --admin URL.
// A POST carries X-Admin-Token as admin-access.ts requires: ADMIN_TOKEN, else admin.token, else
// the token the supervisor generated into its data directory (readable by its user and root).
import { request, type Dispatcher } from 'undici';
import { ADMIN_TOKEN_HEADER } from '../web/admin-access.ts';
import { adminTokenFile, readAdminToken } from '../admin/token.ts';
import { loadConfigFile } from '../config/config.ts';
import { dialHost } from '../runtime/runtime.ts';
import type { StatusBody } from '../admin/status.ts';
import type { SupervisorEvent } from '../telemetry/events.ts';

/** A failure the command reports in one line and exits 1 for. */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export interface AdminTarget {
  /** http://127.0.0.1:3001, no trailing slash. */
  base: string;
  /** Empty when none could be found: a GET still works, a POST says where the token lives. */
  token: string;
  /** Why there is no token, for the error a POST reports. */
  tokenProblem?: string;
  /** Where the address came from, for error messages. */
  from: string;
}

export interface TargetOptions {
  config: string;
  admin?: string | undefined;
}

/** --admin wins; otherwise the config file's admin listener (a wildcard host is dialled on loopback). */
export function adminTarget(options: TargetOptions, env: NodeJS.ProcessEnv = process.env): AdminTarget {
  const envToken = env.ADMIN_TOKEN ?? '';
  if (options.admin) {
    let url: URL;
    try {
      url = new URL(options.admin);
    } catch {
      throw new CliError(
        `--admin ${JSON.stringify(options.admin)} is not a URL; expected e.g. http://127.0.0.1:3001`,
        2,
      );
    }
    if (url.protocol !== 'http:')
      throw new CliError(
        `--admin ${options.admin}: expected an http:// URL (the admin listener speaks plain HTTP on loopback)`,
        2,
      );
    const base = url.href.replace(/\/+$/, '');
    if (envToken !== '') return { base, token: envToken, from: '--admin' };
    // The config file, when there is one, still says where the generated token is.
    let config: ReturnType<typeof loadConfigFile> | undefined;
    try {
      config = loadConfigFile(options.config);
    } catch {
      return {
        base,
        token: '',
        tokenProblem: 'set ADMIN_TOKEN to the admin token (admin.token, or the admin-token file in the data directory)',
        from: '--admin',
      };
    }
    return { base, ...tokenFrom(config), from: '--admin' };
  }
  // The whole file is checked: a supervisor could not have started from an invalid one either.
  const config = loadConfigFile(options.config);
  const host = dialHost(config.admin.host);
  const name = host.includes(':') ? `[${host}]` : host;
  const base = `http://${name}:${config.admin.port}`;
  if (envToken !== '') return { base, token: envToken, from: options.config };
  return { base, ...tokenFrom(config), from: options.config };
}

function tokenFrom(config: { admin: { token: string }; dataDir: string }): { token: string; tokenProblem?: string } {
  if (config.admin.token !== '') return { token: config.admin.token };
  const file = adminTokenFile(config.dataDir);
  try {
    const token = readAdminToken(config.dataDir);
    return token !== undefined
      ? { token }
      : { token: '', tokenProblem: `${file} does not exist yet: the supervisor writes it when it starts` };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'EACCES'
        ? "is readable only by the service's user: run this as that user (or root), or set ADMIN_TOKEN"
        : `cannot be read (${code ?? (err as Error).message})`;
    return { token: '', tokenProblem: `${file} ${why}` };
  }
}

export class AdminClient {
  constructor(readonly target: AdminTarget) {}

  #token(): string {
    if (this.target.token === '')
      throw new CliError(`no admin token: ${this.target.tokenProblem ?? 'set ADMIN_TOKEN'}`);
    return this.target.token;
  }

  async status(): Promise<StatusBody> {
    return (await this.json('GET', '/status')) as StatusBody;
  }

  async events(since = 0): Promise<SupervisorEvent[]> {
    return (await this.json('GET', `/events.json?since=${since}`)) as SupervisorEvent[];
  }

  /** A request whose body the caller reads (a stream): non-2xx answers become CliErrors. */
  async open(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    signal?: AbortSignal,
  ): Promise<Dispatcher.ResponseData> {
    const headers = {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(method === 'POST' ? { [ADMIN_TOKEN_HEADER]: this.#token() } : {}),
    };
    let res: Dispatcher.ResponseData;
    try {
      res = await request(`${this.target.base}${path}`, {
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
        headersTimeout: 10_000,
        bodyTimeout: 0,
        ...(signal ? { signal } : {}),
      });
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'UND_ERR_CONNECT_TIMEOUT') {
        throw new CliError(
          `no supervisor answers at ${this.target.base} (from ${this.target.from}): is it running? (${code})`,
        );
      }
      throw new CliError(`${method} ${this.target.base}${path}: ${(err as Error).message}`);
    }
    if (res.statusCode >= 300) {
      const text = await res.body.text();
      let message = text;
      try {
        message = (JSON.parse(text) as { error?: string }).error ?? text;
      } catch {
        // not JSON: the text as it came
      }
      throw new CliError(`${method} ${path}: ${res.statusCode} ${message}`);
    }
    return res;
  }

  async json(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    const res = await this.open(method, path, body);
    return res.body.json();
  }
}
