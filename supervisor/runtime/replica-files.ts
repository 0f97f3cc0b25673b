// What a replica may read and write on the host, per service: its data directory
// (dataDir/replicas/<service>: one service cannot read another's database, where the users
// service keeps password hashes and session keys) and its secrets (dataDir/replica-secrets/
// <service>/<VARIABLE>, a file only the replica's user can read, named to the replica by
// <VARIABLE>_FILE: not an environment variable every child process inherits and an engine's
// inspect shows).
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export function serviceDataDir(replicaDataDir: string, service: string): string {
  return path.join(replicaDataDir, service);
}

export function serviceSecretsDir(dataDir: string, service: string): string {
  return path.join(dataDir, 'replica-secrets', service);
}

/**
 * Files of the shared data directory of before (dataDir/replicas/<service>.sqlite, its -wal and
 * -shm) moved into their service's own directory, once; what is already there stays.
 */
export function separateServiceData(replicaDataDir: string, services: readonly string[]): string[] {
  if (!existsSync(replicaDataDir)) return [];
  const moved: string[] = [];
  for (const entry of readdirSync(replicaDataDir, { withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const service = services.find((s) => entry.name.startsWith(`${s}.`));
    if (service === undefined) continue;
    const dir = serviceDataDir(replicaDataDir, service);
    mkdirSync(dir, { recursive: true });
    const target = path.join(dir, entry.name);
    if (existsSync(target)) continue;
    renameSync(path.join(replicaDataDir, entry.name), target);
    moved.push(`${entry.name} → ${service}/`);
  }
  return moved;
}

/**
 * Writes `secrets` (variable → value) as files in `dir`, readable by `owner` only (or by this
 * process's user when no owner is given); the variables the replica reads them by
 * (<VARIABLE>_FILE → `mountedAs`/<VARIABLE>). Each file is replaced whole (written aside, then
 * renamed over), never removed first: a replica starting beside this one may be reading it.
 * Throws EPERM when the files cannot be given to `owner` (not root): the caller decides what then.
 */
export function writeSecretFiles(
  dir: string,
  secrets: Readonly<Record<string, string>>,
  mountedAs: string,
  owner?: { uid: number; gid: number },
): Record<string, string> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(secrets)) {
    const file = path.join(dir, name);
    const aside = `${file}.${process.pid}.new`;
    writeFileSync(aside, value, { mode: 0o400 });
    try {
      if (owner) chownSync(aside, owner.uid, owner.gid);
      renameSync(aside, file);
    } catch (err) {
      rmSync(aside, { force: true });
      throw err;
    }
    env[`${name}_FILE`] = path.posix.join(mountedAs, name);
  }
  if (owner) chownSync(dir, owner.uid, owner.gid);
  chmodSync(dir, 0o700);
  return env;
}
