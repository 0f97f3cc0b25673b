// A throwaway Debian 12 root for running scripts/aws-setup.sh for real: debootstrap's minbase
// plus systemd (as on any cloud VM), packed once into a tarball cached across runs, unpacked
// fresh for each test run. Commands run through chroot in a private mount namespace, so the
// /proc mounted for them vanishes with them and nothing is left mounted if a test dies.
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFile, cp, mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { must } from '../../testkit/run.ts';
import { repoRoot, run, type RunResult } from './exec.ts';

export { CACHE_DIR, baseTarball } from '../../testkit/debian-base.ts';
const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The files of this checkout as git sees them (tracked, and untracked but not ignored). */
export async function checkoutFiles(): Promise<string[]> {
  const r = await must(run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard']), 'git ls-files');
  return r.stdout.split('\0').filter((f) => f !== '' && existsSync(path.join(repoRoot, f)));
}

/**
 * npm's own folder, from its command (bin/npm-cli.js): `npm root -g` would name the global
 * folder of the Node that runs it, which under `npm test` is the one in node_modules.
 */
export async function npmPackageDir(): Promise<string> {
  const npmCommand = (await must(run('bash', ['-c', 'command -v npm']), 'command -v npm')).stdout.trim();
  return path.resolve(path.dirname(await realpath(npmCommand)), '..');
}

/** The CA bundle npm is configured with here (a proxy's), to carry into a root; undefined if none. */
async function npmCafile(): Promise<string | undefined> {
  const cafile = (await run('npm', ['config', 'get', 'cafile'])).stdout.trim();
  return cafile && cafile !== 'null' && existsSync(cafile) ? cafile : undefined;
}

/**
 * What this machine trusts for the npm registry, to carry into a root or a container: npm's own
 * cafile, and the extra CAs Node is given here (NODE_EXTRA_CA_CERTS: an egress proxy that
 * re-signs TLS, as this machine's has). Each file with the variable that names it inside, where
 * it is copied to `/root/<name>`.
 */
export async function registryTrust(): Promise<Array<{ file: string; name: string; variable: string }>> {
  const trust = [];
  const cafile = await npmCafile();
  if (cafile) trust.push({ file: cafile, name: 'npm-ca.crt', variable: 'npm_config_cafile' });
  const extra = process.env.NODE_EXTRA_CA_CERTS;
  if (extra && existsSync(extra))
    trust.push({ file: extra, name: 'node-extra-ca.crt', variable: 'NODE_EXTRA_CA_CERTS' });
  return trust;
}

/** SIGTERM, then SIGKILL after graceMs; resolves with how it ended. */
export async function stopChild(
  child: ChildProcess,
  graceMs = 30_000,
): Promise<{ code: number | null; signal: string | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return { code: child.exitCode, signal: child.signalCode };
  const exited = new Promise<{ code: number | null; signal: string | null }>((r) =>
    child.once('exit', (code, signal) => r({ code, signal })),
  );
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  const result = await exited;
  clearTimeout(timer);
  return result;
}

export class Chroot {
  readonly #children: ChildProcess[] = [];

  private constructor(readonly dir: string) {}

  /** A fresh root from the cached tarball, with services kept from starting inside it. */
  static async create(tarball: string): Promise<Chroot> {
    const dir = await mkdtemp('/var/tmp/selflessacts-chroot-');
    const chroot = new Chroot(dir);
    await must(run('tar', ['-C', dir, '-xf', tarball], { timeoutMs: 120_000 }), 'unpacking the base');
    // Debian's convention for chroots: package scripts may not start daemons (the host's
    // MariaDB and dockerd own the ports and the bridge).
    await writeFile(chroot.path('/usr/sbin/policy-rc.d'), '#!/bin/sh\nexit 101\n', { mode: 0o755 });
    await copyFile('/etc/resolv.conf', chroot.path('/etc/resolv.conf'));
    return chroot;
  }

  path(inside: string): string {
    return path.join(this.dir, inside);
  }

  /** This checkout, without node_modules or .git, at /root/selflessacts (the admin's clone). */
  async copyCheckout(): Promise<string> {
    const target = '/root/selflessacts';
    await mkdir(this.path(target), { recursive: true });
    const files = await checkoutFiles();
    await must(
      run('bash', ['-c', 'tar -C "$1" --null -T - -cf - | tar -C "$2" -xf -', '-', repoRoot, this.path(target)], {
        input: files.join('\0'),
        timeoutMs: 60_000,
      }),
      'copying the checkout',
    );
    return target;
  }

  /**
   * Node.js as an administrator may already have it: the Node 24 running this test and this
   * machine's npm. NodeSource's repository, the script's own way, is out of reach here. Also
   * what this machine trusts for the npm registry (registryTrust).
   */
  async provideNode(): Promise<Record<string, string>> {
    await copyFile(process.execPath, this.path('/usr/bin/node'));
    await cp(await npmPackageDir(), this.path('/usr/lib/node_modules/npm'), { recursive: true });
    await symlink('../lib/node_modules/npm/bin/npm-cli.js', this.path('/usr/bin/npm'));
    await symlink('../lib/node_modules/npm/bin/npx-cli.js', this.path('/usr/bin/npx'));
    const env: Record<string, string> = {};
    for (const { file, name, variable } of await registryTrust()) {
      await copyFile(file, this.path(`/root/${name}`));
      env[variable] = `/root/${name}`;
    }
    return env;
  }

  /**
   * unshare's argv for running `argv` inside the root, in `cwd`, as root, with a clean
   * environment plus `env`; /proc is mounted in a private mount namespace and every wrapper
   * execs, so the pid is the command's own.
   */
  #inside(argv: string[], env: Record<string, string>, cwd: string): string[] {
    const envArgs = Object.entries({ PATH: SYSTEM_PATH, HOME: '/root', LANG: 'C.UTF-8', ...env }).map(
      ([k, v]) => `${k}=${v}`,
    );
    const script =
      'mount -t proc proc "$1/proc" && root=$1 && dir=$2 && shift 2 && exec chroot "$root" /usr/bin/env -i -C "$dir" "$@"';
    return ['--mount', '--propagation', 'private', 'bash', '-c', script, '-', this.dir, cwd, ...envArgs, ...argv];
  }

  /** Runs argv inside the root to completion. */
  exec(argv: string[], env: Record<string, string> = {}, timeoutMs = 300_000): Promise<RunResult> {
    return run('unshare', this.#inside(argv, env, '/'), { timeoutMs });
  }

  /** Starts argv inside the root in the background, for servers; destroy() stops it if the test has not. */
  spawn(argv: string[], env: Record<string, string> = {}, cwd = '/'): ChildProcess {
    const child = spawn('unshare', this.#inside(argv, env, cwd), { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#children.push(child);
    return child;
  }

  /** The chroot's own MariaDB on its socket and on 127.0.0.1:port (the host's server has 3306). */
  async startMariadb(port: number): Promise<void> {
    await must(this.exec(['install', '-d', '-o', 'mysql', '-g', 'mysql', '/run/mysqld']), 'creating /run/mysqld');
    const child = this.spawn([
      '/usr/sbin/mariadbd',
      '--user=mysql',
      `--port=${port}`,
      '--bind-address=127.0.0.1',
      '--socket=/run/mysqld/mysqld.sock',
      '--innodb-buffer-pool-dump-at-shutdown=0',
      '--innodb-buffer-pool-load-at-startup=0',
    ]);
    child.stdout?.resume();
    child.stderr?.resume();
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if ((await this.exec(['mariadb-admin', '--protocol=socket', 'ping'])).code === 0) return;
      if (child.exitCode !== null) throw new Error(`mariadbd exited with ${child.exitCode}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error('mariadbd in the chroot did not answer within 60 s');
  }

  /** Stops what it started (by pid), then removes the root. Safe to call twice. */
  async destroy(): Promise<void> {
    for (const child of this.#children.splice(0).reverse()) await stopChild(child);
    await rm(this.dir, { recursive: true, force: true });
  }

  /**
   * Path, type, mode, owner, size and mtime of everything under the given directories of the
   * root: equal snapshots mean nothing there was written, created, removed or re-owned.
   */
  async snapshot(dirs: string[]): Promise<string> {
    const existing = dirs.filter((d) => existsSync(this.path(d)));
    const r = await must(
      run('find', [...existing.map((d) => this.path(d)), '-printf', '%p %y %m %U:%G %s %T@\\n'], { timeoutMs: 60_000 }),
      'snapshot',
    );
    return r.stdout
      .split('\n')
      .map((line) => line.slice(this.dir.length))
      .sort()
      .join('\n');
  }
}
