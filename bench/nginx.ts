// A real nginx for the benchmarks: a child process with a generated config in a temp prefix,
// round robin with keep-alive over the given upstreams, listening on 127.0.0.1 only.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';

export const NGINX = process.env.NGINX ?? '/usr/sbin/nginx';

export interface NginxOptions {
  listenPort: number;
  upstreamPorts: number[];
  /** Worker processes: 1 (against one balancer thread) or 'auto' (one per core). */
  workers: number | 'auto';
  /** Idle keep-alive connections kept per worker to the upstreams. */
  keepalive: number;
}

export function nginxConfig(prefix: string, o: NginxOptions): string {
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(
    (kind) => `  ${kind}_temp_path ${prefix}/${kind};`,
  );
  return [
    'daemon off;',
    'master_process on;',
    `worker_processes ${o.workers};`,
    `pid ${prefix}/nginx.pid;`,
    `error_log ${prefix}/error.log warn;`,
    'events { worker_connections 4096; }',
    'http {',
    '  access_log off;',
    '  keepalive_requests 1000000;',
    ...temp,
    '  upstream replicas {',
    ...o.upstreamPorts.map((port) => `    server 127.0.0.1:${port};`),
    `    keepalive ${o.keepalive};`,
    '  }',
    '  server {',
    `    listen 127.0.0.1:${o.listenPort};`,
    '    location / {',
    '      proxy_pass http://replicas;',
    '      proxy_http_version 1.1;',
    '      proxy_set_header Connection "";',
    // What our balancer sets too, so both do the same work per request.
    '      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
    '      proxy_set_header X-Forwarded-Proto $scheme;',
    '      proxy_set_header X-Forwarded-Host $host;',
    '    }',
    '  }',
    '}',
    '',
  ].join('\n');
}

export interface RunningNginx {
  origin: string;
  /** The master's pid (its workers are its children). */
  pid: number;
  stop(): Promise<void>;
}

/** Starts nginx and waits until `probePath` answers 200 through it (at most 10 s). */
export async function startNginx(o: NginxOptions, probePath: string): Promise<RunningNginx> {
  const prefix = await mkdtemp(path.join(tmpdir(), 'sa-bench-nginx-'));
  await chmod(prefix, 0o755); // workers run as nobody when the master is root
  const conf = path.join(prefix, 'nginx.conf');
  await writeFile(conf, nginxConfig(prefix, o));
  const child: ChildProcess = spawn(NGINX, ['-p', prefix, '-c', conf, '-e', path.join(prefix, 'error.log')], {
    stdio: 'ignore',
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGQUIT'); // graceful: the master stops its workers too
      await Promise.race([exited, sleep(5000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    await rm(prefix, { recursive: true, force: true });
  };
  const origin = `http://127.0.0.1:${o.listenPort}`;
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    try {
      const res = await request(`${origin}${probePath}`);
      await res.body.dump();
      if (res.statusCode === 200) return { origin, pid: child.pid!, stop };
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  const log = await readFile(path.join(prefix, 'error.log'), 'utf8').catch(() => '');
  await stop();
  throw new Error(`nginx did not answer 200 on ${origin}${probePath} within 10 s: ${log.trim()}`);
}
