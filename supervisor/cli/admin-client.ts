// How the commands reach a running supervisor: its admin API (docs/status-api.md), at the
// address the config names (admin.host, admin.port, with their env overrides) or --admin URL.
// A POST carries X-Admin-Token (admin.token, or ADMIN_TOKEN) as admin-access.ts requires.
import { request, type Dispatcher } from 'undici';
import { ADMIN_TOKEN_HEADER } from '../admin-access.ts';
import { loadConfigFile } from '../config.ts';
import { dialHost } from '../runtime/runtime.ts';
import type { StatusBody } from '../status.ts';
import type { SupervisorEvent } from '../events.ts';

/** A failure the command reports in one line and exits 1 for. */
export class CliError extends Error {
  override name = 'CliError';
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

export interface AdminTarget {
  /** http://127.0.0.1:3001, no trailing slash. */
  base: string;
  token: string;
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
      throw new CliError(`--admin ${JSON.stringify(options.admin)} is not a URL; expected e.g. http://127.0.0.1:3001`, 2);
    }
    if (url.protocol !== 'http:') throw new CliError(`--admin ${options.admin}: expected an http:// URL (the admin listener speaks plain HTTP on loopback)`, 2);
    return { base: url.href.replace(/\/+$/, ''), token: envToken, from: '--admin' };
  }
  // The whole file is checked: a supervisor could not have started from an invalid one either.
  const config = loadConfigFile(options.config);
  const host = dialHost(config.admin.host);
  const name = host.includes(':') ? `[${host}]` : host;
  return { base: `http://${name}:${config.admin.port}`, token: config.admin.token, from: options.config };
}

export class AdminClient {
  constructor(readonly target: AdminTarget) {}

  async status(): Promise<StatusBody> {
    return (await this.json('GET', '/status')) as StatusBody;
  }

  async events(since = 0): Promise<SupervisorEvent[]> {
    return (await this.json('GET', `/events.json?since=${since}`)) as SupervisorEvent[];
  }

  /** A request whose body the caller reads (a stream): non-2xx answers become CliErrors. */
  async open(method: 'GET' | 'POST', path: string, body?: unknown, signal?: AbortSignal): Promise<Dispatcher.ResponseData> {
    let res: Dispatcher.ResponseData;
    try {
      res = await request(`${this.target.base}${path}`, {
        method,
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          // Any value passes when admin.token is unset: the header is what a web page cannot send.
          ...(method === 'POST' ? { [ADMIN_TOKEN_HEADER]: this.target.token || 'selflessacts-cli' } : {}),
        },
        body: body === undefined ? null : JSON.stringify(body),
        headersTimeout: 10_000,
        bodyTimeout: 0,
        ...(signal ? { signal } : {}),
      });
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'UND_ERR_CONNECT_TIMEOUT') {
        throw new CliError(`no supervisor answers at ${this.target.base} (from ${this.target.from}): is it running? (${code})`);
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
