// The base image without a registry: the Node.js binary running here (as /usr/local/bin/node),
// every shared library it and our native addons link (as ldd lists them, the dynamic loader
// included), a minimal /etc with a non-root user, and /tmp — imported as a one-layer image
// through the Engine API.
// Native modules compiled on this host therefore find the same glibc and libstdc++ inside.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstat, readlink, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { DockerEngine, ProgressCallback, TarEntry } from '../engine-client/index.ts';
import { tarStream } from '../engine-client/index.ts';

const run = promisify(execFile);

export const BASE_REPO = 'selflessacts/node-base';
export const APP_UID = 10001;
export const APP_USER = 'app';

/** The tag for a Node version: selflessacts/node-base:20.20.2. */
export function baseImageRef(nodeVersion: string = process.version): string {
  return `${BASE_REPO}:${nodeVersion.replace(/^v/, '')}`;
}

/**
 * Paths of the shared objects in `ldd` output, the dynamic loader included; the kernel's vDSO
 * (no file) is left out. A "not found" line is an error: the image would not run.
 */
export function parseLdd(output: string, file = 'binary'): string[] {
  const paths: string[] = [];
  for (const rawLine of output.split('\n')) {
    const line = rawLine.trim();
    if (line === '' || line.includes('statically linked') || line.startsWith('linux-vdso')) continue;
    if (line.includes('=> not found')) throw new Error(`${file} needs ${line.split(' ')[0]}, which ldd cannot find`);
    const arrow = /=>\s*(\/\S+)/.exec(line);
    const direct = /^(\/\S+)/.exec(line);
    const found = arrow?.[1] ?? direct?.[1];
    if (found !== undefined) paths.push(found);
  }
  return paths;
}

export async function sharedLibraries(files: string[]): Promise<string[]> {
  const all = new Set<string>();
  for (const file of files) {
    let output: string;
    try {
      output = (await run('ldd', [file])).stdout;
    } catch (error) {
      const failed = error as { stdout?: string; stderr?: string; code?: string | number };
      // ldd exits 1 on a static binary ("not a dynamic executable"): nothing to add.
      if (`${failed.stdout ?? ''}${failed.stderr ?? ''}`.includes('not a dynamic executable')) continue;
      if (failed.code === 'ENOENT') throw new Error('ldd is not installed (Debian: package libc-bin)');
      throw error;
    }
    for (const lib of parseLdd(output, file)) all.add(lib);
  }
  return [...all].sort();
}

/**
 * Entries that recreate `absolute` inside the image exactly as the host resolves it: each
 * symlinked component (/lib → usr/lib, libstdc++.so.6 → libstdc++.so.6.0.30) becomes the same
 * symlink, followed literally, so the loader's hard-coded paths work the same way inside.
 */
async function hostPathEntries(absolute: string, seen: Set<string>, depth = 0): Promise<TarEntry[]> {
  if (depth > 40) throw new Error(`too many symlinks resolving ${absolute}`);
  const entries: TarEntry[] = [];
  const parts = absolute.split('/').filter(Boolean);
  let current = '/';
  for (let i = 0; i < parts.length; i++) {
    const next = path.join(current, parts[i] as string);
    const name = next.slice(1);
    const info = await lstat(next);
    if (info.isSymbolicLink()) {
      const target = await readlink(next);
      if (!seen.has(name)) {
        seen.add(name);
        entries.push({ name, type: 'symlink', linkname: target });
      }
      const literal = path.isAbsolute(target) ? target : path.join(current, target);
      return [...entries, ...(await hostPathEntries(path.join(literal, ...parts.slice(i + 1)), seen, depth + 1))];
    }
    if (!seen.has(name)) {
      seen.add(name);
      if (info.isDirectory()) entries.push({ name, type: 'directory', mode: info.mode & 0o7777 });
      else entries.push({ name, type: 'file', sourcePath: next, mode: info.mode & 0o7777 });
    }
    current = next;
  }
  return entries;
}

function etcEntries(): TarEntry[] {
  const passwd = [
    'root:x:0:0:root:/root:/usr/sbin/nologin',
    `${APP_USER}:x:${APP_UID}:${APP_UID}:${APP_USER}:/home/${APP_USER}:/usr/sbin/nologin`,
    'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin',
  ];
  const group = ['root:x:0:', `${APP_USER}:x:${APP_UID}:`, 'nogroup:x:65534:'];
  return [
    { name: 'etc', type: 'directory' },
    { name: 'etc/passwd', content: `${passwd.join('\n')}\n` },
    { name: 'etc/group', content: `${group.join('\n')}\n` },
    // glibc's default would try DNS before /etc/hosts; containers want the file first.
    { name: 'etc/nsswitch.conf', content: 'passwd: files\ngroup: files\nhosts: files dns\n' },
    { name: 'tmp', type: 'directory', mode: 0o1777 },
    { name: 'root', type: 'directory', mode: 0o700 },
    { name: 'home', type: 'directory' },
    { name: `home/${APP_USER}`, type: 'directory', uid: APP_UID, gid: APP_UID },
  ];
}

export interface BaseImagePlan {
  ref: string;
  nodePath: string;
  libraries: string[];
  /** Changes when the node binary or a library changes: the image's `selflessacts.base-hash`. */
  hash: string;
}

/** What goes into the image, and its fingerprint, without building anything. */
export async function planBaseImage(options: { extraBinaries?: string[] } = {}): Promise<BaseImagePlan> {
  const nodePath = process.execPath;
  // A library inside a package (sharp's libvips) ships with that package in the app image.
  const libraries = (await sharedLibraries([nodePath, ...(options.extraBinaries ?? [])])).filter(
    (lib) => !lib.includes('/node_modules/'),
  );
  const hash = createHash('sha256');
  // The layout: node at IMAGE_NODE_PATH (2); images of the layout before are stale.
  hash.update(`layout 2 ${IMAGE_NODE_PATH}\n`);
  for (const file of [nodePath, ...libraries]) {
    const info = await stat(file);
    hash.update(`${file}\0${info.size}\0${info.mtimeMs}\n`);
  }
  return { ref: baseImageRef(), nodePath, libraries, hash: hash.digest('hex').slice(0, 16) };
}

/**
 * Where node is inside the image, wherever it is on the host: a host path under /tmp (a CI
 * checkout there) would be hidden by the replicas' tmpfs on /tmp, and one under a home
 * directory says something about the build machine it need not.
 */
export const IMAGE_NODE_PATH = '/usr/local/bin/node';

async function* rootfsEntries(plan: BaseImagePlan): AsyncGenerator<TarEntry> {
  const seen = new Set<string>();
  yield* etcEntries().map((entry) => {
    seen.add(entry.name);
    return entry;
  });
  for (const file of plan.libraries) yield* await hostPathEntries(file, seen);
  for (const dir of ['usr', 'usr/local', 'usr/local/bin']) {
    if (seen.has(dir)) continue;
    seen.add(dir);
    yield { name: dir, type: 'directory', mode: 0o755 };
  }
  const node = await realpath(plan.nodePath);
  yield { name: IMAGE_NODE_PATH.slice(1), type: 'file', sourcePath: node, mode: (await stat(node)).mode & 0o7777 };
}

export interface BuiltImage {
  ref: string;
  imageId: string;
  size: number;
  seconds: number;
}

export async function buildBaseImage(
  engine: DockerEngine,
  plan: BaseImagePlan,
  onProgress?: ProgressCallback,
): Promise<BuiltImage> {
  const started = performance.now();
  const [repo, tag] = plan.ref.split(':') as [string, string];
  const searchPath = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
  const { imageId } = await engine.images.import(tarStream(rootfsEntries(plan)), {
    repo,
    tag,
    message: `Node.js ${process.version} and its shared libraries, from this host`,
    changes: [
      `ENV PATH=${searchPath.join(':')}`,
      'ENV NODE_ENV=production',
      `LABEL selflessacts.image=base selflessacts.node-version=${process.version} selflessacts.base-hash=${plan.hash}`,
      'CMD ["node"]',
    ],
    ...(onProgress ? { onProgress } : {}),
  });
  const info = await engine.images.inspect(imageId);
  return { ref: plan.ref, imageId, size: info.size, seconds: (performance.now() - started) / 1000 };
}
