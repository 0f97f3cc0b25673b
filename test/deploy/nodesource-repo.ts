// A stand-in for https://deb.nodesource.com/node_24.x, on disk, so aws-setup.sh's NodeSource
// path runs unchanged with `--node-repo file:///.../node_24.x` and no network: the layout the
// script relies on (<repo>/../gpgkey/nodesource-repo.gpg.key; `deb [signed-by=...] <repo>
// nodistro main`), an InRelease signed with a throwaway key, and one `nodejs` package holding
// what NodeSource's does (node, npm, npx): the Node 24 this project installs and this host's npm.
import { createHash } from 'node:crypto';
import {
  chmod,
  cp,
  copyFile,
  mkdir,
  mkdtemp,
  readFile,
  realpath,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { npmPackageDir } from './chroot.ts';
import { run } from './exec.ts';

async function must(argv: string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = 120_000): Promise<string> {
  const r = await run(argv[0]!, argv.slice(1), { env, timeoutMs });
  if (r.code !== 0) throw new Error(`${argv.join(' ')} failed (exit ${r.code}):\n${r.output.slice(-3000)}`);
  return r.stdout;
}

export interface NodesourceRepo {
  /** The folder to copy into the target system; the repository is `<dir>/node_24.x`. */
  dir: string;
  version: string;
  dispose(): Promise<void>;
}

/** Builds the repository in a temp folder (about 10 s: the package holds a 100 MB binary). */
export async function buildNodesourceRepo(): Promise<NodesourceRepo> {
  const dir = await mkdtemp(path.join(tmpdir(), 'sa-nodesource-'));
  await chmod(dir, 0o755); // apt reads a file: repository as its _apt user
  const work = await mkdtemp(path.join(tmpdir(), 'sa-nodesource-work-'));
  try {
    const version = `${process.versions.node}-1nodesource1`;
    const arch = (await must(['dpkg', '--print-architecture'])).trim();

    // The package: /usr/bin/node, npm's folder and its two commands, as NodeSource lays them out.
    const staging = path.join(work, 'nodejs');
    await mkdir(path.join(staging, 'DEBIAN'), { recursive: true });
    await mkdir(path.join(staging, 'usr/bin'), { recursive: true });
    await mkdir(path.join(staging, 'usr/lib/node_modules'), { recursive: true });
    await copyFile(await realpath(process.execPath), path.join(staging, 'usr/bin/node'));
    await chmod(path.join(staging, 'usr/bin/node'), 0o755);
    await cp(await npmPackageDir(), path.join(staging, 'usr/lib/node_modules/npm'), { recursive: true });
    await symlink('../lib/node_modules/npm/bin/npm-cli.js', path.join(staging, 'usr/bin/npm'));
    await symlink('../lib/node_modules/npm/bin/npx-cli.js', path.join(staging, 'usr/bin/npx'));
    const control = [
      'Package: nodejs',
      `Version: ${version}`,
      `Architecture: ${arch}`,
      'Maintainer: SelfLessActs tests <tests@selflessacts.invalid>',
      'Depends: libc6, libstdc++6',
      'Provides: nodejs-dev, nodejs-doc, nodejs-legacy, npm',
      'Conflicts: nodejs-dev, nodejs-doc, nodejs-legacy, npm',
      'Replaces: nodejs-dev, nodejs-doc, nodejs-legacy, npm',
      'Section: web',
      'Priority: optional',
      "Description: Node.js for aws-setup.sh's tests (stands in for NodeSource's package)",
    ];
    await writeFile(path.join(staging, 'DEBIAN/control'), `${control.join('\n')}\n`);
    const repo = path.join(dir, 'node_24.x');
    const filename = `pool/main/n/nodejs/nodejs_${version}_${arch}.deb`;
    await mkdir(path.dirname(path.join(repo, filename)), { recursive: true });
    await must(['dpkg-deb', '--root-owner-group', '-Zgzip', '-z1', '--build', staging, path.join(repo, filename)]);

    // The index and the signed release file.
    const deb = await readFile(path.join(repo, filename));
    const hash = (algorithm: string, data: Buffer | string) => createHash(algorithm).update(data).digest('hex');
    const packages = [
      ...control.filter((l) => !l.startsWith('Description:')),
      `Filename: ${filename}`,
      `Size: ${deb.length}`,
      `MD5sum: ${hash('md5', deb)}`,
      `SHA256: ${hash('sha256', deb)}`,
      control.at(-1)!,
    ].join('\n');
    const packagesPath = `main/binary-${arch}/Packages`;
    await mkdir(path.join(repo, 'dists/nodistro', path.dirname(packagesPath)), { recursive: true });
    await writeFile(path.join(repo, 'dists/nodistro', packagesPath), `${packages}\n`);
    const indexed = await readFile(path.join(repo, 'dists/nodistro', packagesPath));
    const release = [
      'Origin: SelfLessActs tests',
      'Label: NodeSource stand-in',
      'Suite: nodistro',
      'Codename: nodistro',
      `Date: ${new Date().toUTCString()}`,
      `Architectures: ${arch}`,
      'Components: main',
      'SHA256:',
      ` ${hash('sha256', indexed)} ${indexed.length} ${packagesPath}`,
    ].join('\n');
    await writeFile(path.join(repo, 'dists/nodistro/Release'), `${release}\n`);

    const gnupg = { ...process.env, GNUPGHOME: path.join(work, 'gnupg') };
    await mkdir(gnupg.GNUPGHOME, { recursive: true, mode: 0o700 });
    const uid = 'SelfLessActs test repository <tests@selflessacts.invalid>';
    await must(
      [
        'gpg',
        '--batch',
        '--pinentry-mode',
        'loopback',
        '--passphrase',
        '',
        '--quick-gen-key',
        uid,
        'ed25519',
        'sign',
        'never',
      ],
      gnupg,
    );
    await mkdir(path.join(dir, 'gpgkey'));
    await writeFile(
      path.join(dir, 'gpgkey/nodesource-repo.gpg.key'),
      await must(['gpg', '--batch', '--armor', '--export', uid], gnupg),
    );
    await must(
      [
        'gpg',
        '--batch',
        '--yes',
        '--local-user',
        uid,
        '--digest-algo',
        'SHA256',
        '--clearsign',
        '-o',
        path.join(repo, 'dists/nodistro/InRelease'),
        path.join(repo, 'dists/nodistro/Release'),
      ],
      gnupg,
    );
    await stat(path.join(repo, 'dists/nodistro/InRelease'));
    return { dir, version, dispose: () => rm(dir, { recursive: true, force: true }) };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  } finally {
    // gpg-agent started for the throwaway home goes with it.
    await run('gpgconf', ['--kill', 'gpg-agent'], {
      env: { ...process.env, GNUPGHOME: path.join(work, 'gnupg') },
    }).catch(() => undefined);
    await rm(work, { recursive: true, force: true });
  }
}
