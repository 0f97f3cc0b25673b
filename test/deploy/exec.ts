// Running the deployment's tools (bash, shellcheck, systemd-analyze, docker-compose, chroot)
// from the deploy tests: bounded in time, output kept for the assertion messages.
import { access, constants } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Requirement } from '../helpers/requirements.ts';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export { run, type RunOptions, type RunResult } from '../../testkit/run.ts';

/** Where `name` is on PATH, or undefined. */
export async function which(name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const file = path.join(dir, name);
    try {
      await access(file, constants.X_OK);
      return file;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** A command-line tool as a test requirement (skip locally, fail under CI). */
export async function toolAvailable(name: string, installHint: string): Promise<Requirement> {
  return { missing: (await which(name)) ? undefined : `${name} is not on PATH (${installHint})` };
}

export function rootAvailable(): Requirement {
  return { missing: process.getuid?.() === 0 ? undefined : 'the test needs root (chroot, mounts, apt)' };
}

/** n distinct ports free on 127.0.0.1 right now (held together, then released). */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}
