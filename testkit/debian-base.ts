// The Debian 12 root the deploy suites and bench:restart boot or chroot into: debootstrap's
// minbase plus systemd (as on any cloud VM), packed once into a tarball cached across runs.
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { must, run } from './run.ts';

export const CACHE_DIR = process.env.SELFLESSACTS_TEST_CACHE ?? '/var/cache/selflessacts-test';
const SUITE = 'bookworm';
const MIRROR = process.env.DEBIAN_MIRROR ?? 'http://deb.debian.org/debian';
// Bump when the recipe below changes, so a stale cached tarball is not reused.
const BASE_NAME = `debian-${SUITE}-minbase-systemd-v1.tar`;

/** The cached base tarball, built with debootstrap when missing (about 40 s). */
export async function baseTarball(log: (line: string) => void): Promise<string> {
  const tarball = path.join(CACHE_DIR, BASE_NAME);
  if (existsSync(tarball)) return tarball;
  await mkdir(CACHE_DIR, { recursive: true });
  const work = await mkdtemp(path.join(CACHE_DIR, 'build-'));
  try {
    log(`building ${tarball} with debootstrap from ${MIRROR}`);
    const root = path.join(work, 'root');
    await must(
      run('debootstrap', ['--variant=minbase', '--include=systemd,systemd-sysv', SUITE, root, MIRROR], {
        timeoutMs: 600_000,
      }),
      'debootstrap',
    );
    await must(run('bash', ['-c', 'rm -f "$1"/var/cache/apt/archives/*.deb', '-', root]), 'cleaning apt archives');
    const partial = `${tarball}.${process.pid}.partial`;
    await must(run('tar', ['-C', root, '-cf', partial, '.'], { timeoutMs: 120_000 }), 'packing the base');
    await rename(partial, tarball);
    return tarball;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
