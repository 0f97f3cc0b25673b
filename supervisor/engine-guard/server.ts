// The engine guard's socket: a filtering proxy in front of the Docker Engine API (policy.ts says
// what passes). It runs as its own process with the rights the supervisor no longer has (root,
// or the docker group: scripts/aws-setup.sh installs it as selflessacts-engine-guard.service),
// listening on a unix socket only the supervisor's group may open. Requests are passed on as
// they are, streamed both ways (logs and events follow); a refusal is a 403 in the engine's own
// error shape ({"message"}), which the engine client reports like any engine error.
import { chmodSync, realpathSync, rmSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '../core/log.ts';
import { containerRefusal, insideRoots, networkRefusal, route, type GuardPolicy } from './policy.ts';

export interface EngineGuardOptions {
  /** The socket the supervisor connects to. */
  listen: string;
  /** The engine's own socket. */
  engine: string;
  policy: GuardPolicy;
  logger: Logger;
}

/** Container-create and network-create bodies are small; a larger one is no request of ours. */
const MAX_BODY_BYTES = 1024 * 1024;

function refuse(res: ServerResponse, status: number, message: string): void {
  const body = JSON.stringify({ message: `engine guard: ${message}` });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.destroy();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export class EngineGuard {
  readonly #o: EngineGuardOptions;
  readonly #server: Server;
  /** Containers and networks found to be ours (by id or name as asked): asked of the engine once. */
  readonly #owned = new Set<string>();

  constructor(options: EngineGuardOptions) {
    this.#o = options;
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((err: Error) => {
        options.logger.error('engine guard request failed', { method: req.method, path: req.url, error: err.message });
        if (!res.headersSent) refuse(res, 502, `the engine could not be asked: ${err.message}`);
        else res.destroy();
      });
    });
  }

  async listen(): Promise<void> {
    rmSync(this.#o.listen, { force: true });
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#o.listen, () => resolve());
    });
    // The owner (root) and the group (the service's, systemd's Group=): nobody else.
    chmodSync(this.#o.listen, 0o660);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeAllConnections();
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const where = route(method, path);
    const deny = (reason: string) => {
      this.#o.logger.warn('engine guard refused', { method, path, reason });
      req.resume();
      refuse(res, 403, reason);
    };
    switch (where.kind) {
      case 'deny':
        return deny(where.reason);
      case 'allow':
        return this.#forward(req, res);
      case 'owned-container':
      case 'owned-network': {
        const kind = where.kind === 'owned-container' ? 'containers' : 'networks';
        if (!(await this.#isOurs(kind, where.id)))
          return deny(`${kind === 'containers' ? 'container' : 'network'} ${where.id} is not one of ours`);
        return this.#forward(req, res);
      }
      case 'create-container':
      case 'create-network': {
        const body = await readBody(req);
        if (body === undefined) return refuse(res, 413, 'the body is too large');
        let parsed: unknown;
        try {
          parsed = JSON.parse(body.toString('utf8'));
        } catch {
          return refuse(res, 400, 'the body is not JSON');
        }
        const binds: string[] = [];
        const why =
          where.kind === 'create-container'
            ? containerRefusal(parsed, this.#o.policy, binds)
            : networkRefusal(parsed, this.#o.policy);
        if (why !== undefined) return deny(why);
        for (const source of binds) {
          const outside = this.#bindOutsideRoots(source);
          if (outside !== undefined) return deny(outside);
        }
        return this.#forward(req, res, body);
      }
    }
  }

  /**
   * Why a bind source is refused: outside the roots once links are resolved, or a link itself
   * (a link swapped in later would be followed by the engine at start). A container made here
   * runs as a non-root user without capabilities: even so, what it may see stays in the roots.
   */
  #bindOutsideRoots(source: string): string | undefined {
    let real: string;
    try {
      real = realpathSync(source);
    } catch {
      // The engine would create a missing source as root, anywhere: it must exist already.
      return `bind source ${source} does not exist`;
    }
    if (real !== source.replace(/\/+$/, '')) return `bind source ${source} is a link (to ${real})`;
    if (!insideRoots(real, this.#o.policy.bindRoots))
      return `bind source ${source} is outside ${this.#o.policy.bindRoots.join(', ')}`;
    return undefined;
  }

  async #isOurs(kind: 'containers' | 'networks', id: string): Promise<boolean> {
    const key = `${kind}/${id}`;
    if (this.#owned.has(key)) return true;
    const { status, body } = await this.#ask(
      `/${kind}/${encodeURIComponent(id)}${kind === 'containers' ? '/json' : ''}`,
    );
    // Not found: let the engine say so (a 404 is what the client expects of a gone replica).
    if (status === 404) return true;
    if (status !== 200) return false;
    const labels = JSON.parse(body) as {
      Config?: { Labels?: Record<string, string> };
      Labels?: Record<string, string>;
    };
    const found = (kind === 'containers' ? labels.Config?.Labels : labels.Labels) ?? {};
    const prefix = this.#o.policy.ownerLabel.slice(0, this.#o.policy.ownerLabel.lastIndexOf('.') + 1);
    const ours =
      kind === 'containers'
        ? typeof found[this.#o.policy.ownerLabel] === 'string'
        : Object.keys(found).some((k) => k.startsWith(prefix));
    if (ours) this.#owned.add(key);
    return ours;
  }

  #ask(path: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const up = request({ socketPath: this.#o.engine, path, method: 'GET' }, (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (c: Buffer) => chunks.push(c));
        answer.on('end', () =>
          resolve({ status: answer.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        answer.on('error', reject);
      });
      up.on('error', reject);
      up.end();
    });
  }

  /** The request as it came (or with the body already read), the answer streamed back. */
  #forward(req: IncomingMessage, res: ServerResponse, body?: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      const headers = { ...req.headers };
      if (body !== undefined) {
        delete headers['transfer-encoding'];
        headers['content-length'] = String(body.length);
      }
      const up = request({ socketPath: this.#o.engine, path: req.url, method: req.method, headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        answer.on('end', () => resolve());
        answer.on('error', reject);
      });
      up.on('error', reject);
      // A client that leaves (a follow ended) ends the engine's side too.
      res.on('close', () => up.destroy());
      if (body !== undefined) up.end(body);
      else req.pipe(up);
    });
  }
}
