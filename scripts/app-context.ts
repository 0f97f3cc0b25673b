// The build context of the app image: the app bundled by esbuild (app-bundle.ts), public/ and,
// only for the packages the bundle leaves external (and what they need), their node_modules as installed
// here (no reinstall, no registry), streamed as a tar with a generated Dockerfile. The
// TypeScript sources are hashed, not shipped.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access, lstat, readdir, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TarEntry } from '../engine-client/index.ts';
import { BUNDLE_CMD, BUNDLE_EXTERNAL, bundleFingerprint } from './app-bundle.ts';
import { APP_UID } from './base-image.ts';

/** Top-level files and folders of the project that the image holds as they are. */
const PROJECT_FILES = ['package.json'];
const PROJECT_DIRS = ['public'];
/** What the bundle is made of besides node_modules: fingerprinted, compiled into dist/. */
const SOURCE_FILES = ['package-lock.json', 'tsconfig.json'];
const SOURCE_DIRS = ['app', 'logging', 'contracts'];

/** Compile-only files of node-gyp addons: sources, objects, gyp files. */
const ADDON_SOURCE = /\.(c|cc|cpp|cxx|h|hh|hpp|o|a|gyp|gypi|mk)$/i;

/**
 * The Node.js binary the project installs for itself (optionalDependencies, bin/node): the base
 * image already is that Node.js, so the app image never carries a second copy.
 */
const NODE_RUNTIME_PACKAGE = /(^|\/)node_modules\/node-(linux|darwin|win)-[a-z0-9]+$/;

/**
 * Directories of the packages the bundle leaves external and of everything they need at run
 * time (dependencies and the optional ones that are installed, e.g. sharp's @img binaries for
 * this platform), resolved as Node resolves them: from the package's own node_modules upwards.
 * Only these go into the image: not the whole production tree, which the bundle already holds.
 */
export async function externalPackageDirs(root: string, names: string[]): Promise<string[]> {
  const found = new Set<string>();
  const resolve = async (name: string, from: string): Promise<string | undefined> => {
    for (let dir = from; ; dir = path.dirname(dir)) {
      const candidate = path.join(dir, 'node_modules', name);
      if (await exists(path.join(candidate, 'package.json'))) return candidate;
      if (path.relative(root, dir) === '' || dir === path.dirname(dir)) return undefined;
    }
  };
  const visit = async (name: string, from: string, required: boolean): Promise<void> => {
    const dir = await resolve(name, from);
    if (dir === undefined) {
      if (required)
        throw new Error(`${name}, needed at run time by the app image, is not installed in ${from}: run npm ci`);
      return;
    }
    if (found.has(dir) || NODE_RUNTIME_PACKAGE.test(dir)) return;
    found.add(dir);
    const manifest = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
      optionalDependencies?: Record<string, string>;
    };
    for (const dep of Object.keys(manifest.dependencies ?? {})) await visit(dep, dir, true);
    // Optional ones are installed only for the platforms they fit (sharp's prebuilt binaries).
    for (const dep of Object.keys(manifest.optionalDependencies ?? {})) await visit(dep, dir, false);
  };
  for (const name of names) await visit(name, root, true);
  return [...found].sort();
}

/** Whether `file` is there (any kind: a file, a directory, a link that resolves). */
export async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

/**
 * Files under `dir`, relative to `root`; a package's own node_modules is skipped (npm lists the
 * production packages inside it separately), as is what only a compiler needs in an addon.
 */
async function* walk(root: string, dir: string, addon: boolean): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    const rel = path.relative(root, full);
    if (entry.isDirectory()) {
      if (entry.name === 'node_modules' && dir !== root) continue;
      if (addon && /(^|\/)build\/Release\/(obj|obj\.target|\.deps)$/.test(rel)) continue;
      yield* walk(root, full, addon);
    } else if (entry.isFile() || entry.isSymbolicLink()) {
      if (addon && ADDON_SOURCE.test(entry.name)) continue;
      yield rel;
    }
  }
}

export interface AppContextPlan {
  root: string;
  /** Paths relative to root, sorted: what the context carries besides the bundle. */
  files: string[];
  hasPublic: boolean;
  /** Whether node_modules goes in: only for what the bundle leaves external. */
  hasModules: boolean;
  /** Fingerprint of the shipped files, the bundle's sources and options, the package list, the Dockerfile. */
  hash: string;
  /** Native addons (.node) among the files, absolute, for the base image's library scan. */
  addons: string[];
}

/** Files and the files under folders of the project that exist, relative to `root`. */
async function projectFiles(root: string, names: string[], dirs: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const file of names) if (await exists(path.join(root, file))) found.push(file);
  for (const dir of dirs) {
    if (await exists(path.join(root, dir)))
      for await (const file of walk(root, path.join(root, dir), false)) found.push(file);
  }
  return found;
}

/**
 * What the bundle is compiled from besides node_modules: the image's hash and the process runtime's bundle cache use
 * it.
 */
export function bundleSourceFiles(root: string): Promise<string[]> {
  return projectFiles(root, SOURCE_FILES, SOURCE_DIRS);
}

/** Lists the context and fingerprints it; files on the list are streamed, not read, when building. */
export async function planAppContext(root: string): Promise<AppContextPlan> {
  const files = await projectFiles(root, PROJECT_FILES, PROJECT_DIRS);
  const sources = await bundleSourceFiles(root);
  const hasPublic = files.some((file) => file.startsWith('public/'));
  // A bundle with nothing external runs without node_modules (checked: dist/app.mjs alone);
  // otherwise only the external packages and what they need go in.
  const packages = await externalPackageDirs(root, BUNDLE_EXTERNAL);
  const hasModules = packages.length > 0;
  for (const dir of packages) {
    const addon = await exists(path.join(dir, 'binding.gyp'));
    for await (const file of walk(root, dir, addon)) files.push(file);
  }
  files.sort();
  // The app's own files by content; node_modules through the lock file and npm's package list.
  const hash = createHash('sha256').update(dockerfile(hasPublic, hasModules)).update(bundleFingerprint());
  for (const file of [...files.filter((f) => !f.startsWith('node_modules/')), ...sources].sort()) {
    hash.update(`${file}\0`);
    for await (const chunk of createReadStream(path.join(root, file))) hash.update(chunk as Buffer);
  }
  hash.update(packages.map((dir) => path.relative(root, dir)).join('\n'));
  const addons = files.filter((f) => f.endsWith('.node')).map((f) => path.join(root, f));
  return { root, files, hasPublic, hasModules, hash: hash.digest('hex').slice(0, 16), addons };
}

/**
 * node_modules first: it changes least, so a rebuild after an app edit reuses that layer.
 * /app/data is the app's SQLite directory (DATA_DIR=./data) and the only place it may write.
 */
export function dockerfile(hasPublic: boolean, hasModules: boolean): string {
  return [
    'ARG BASE_IMAGE',
    'FROM ${BASE_IMAGE}',
    'WORKDIR /app',
    ...(hasModules ? ['COPY node_modules /app/node_modules'] : []),
    'COPY package.json /app/',
    ...(hasPublic ? ['COPY public /app/public'] : []),
    'COPY dist /app/dist',
    `COPY --chown=${APP_UID}:${APP_UID} .data /app/data`,
    'ARG SERVICE',
    // glibc's malloc raises its mmap threshold to the size of each large block freed (up to
    // 32 MiB), after which 16 MiB request bodies come from heap arenas (one per thread: the
    // JSON worker's too) that do not shrink: a fixed threshold returns each body to the kernel
    // when it is freed, so a 256 MB replica's memory tracks what is alive.
    'ENV NODE_ENV=production SERVICE=${SERVICE} MALLOC_MMAP_THRESHOLD_=131072 MALLOC_ARENA_MAX=2',
    `USER ${APP_UID}:${APP_UID}`,
    `CMD ${JSON.stringify(BUNDLE_CMD)}`,
    '',
  ].join('\n');
}

/**
 * The tar entries of the context: the bundle's files (bundleApp, made before the build so that a
 * bundling error stops it before the engine sees anything), then files streamed from disk.
 */
export async function* appContextEntries(plan: AppContextPlan, bundle: TarEntry[]): AsyncGenerator<TarEntry> {
  yield { name: 'Dockerfile', content: dockerfile(plan.hasPublic, plan.hasModules) };
  yield { name: '.data', type: 'directory', mode: 0o755 };
  yield { name: 'dist', type: 'directory', mode: 0o755 };
  yield* bundle;
  for (const file of plan.files) {
    const full = path.join(plan.root, file);
    const info = await lstat(full);
    if (info.isSymbolicLink()) {
      yield { name: file, type: 'symlink', linkname: await readlink(full), mtime: info.mtime };
    } else {
      yield { name: file, sourcePath: full, mode: info.mode & 0o777, mtime: info.mtime };
    }
  }
}

/** For tests and the CLI: the project root this script lives in. */
export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
