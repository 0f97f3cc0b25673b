// The app's build step for the process runtime (config/orchestrator.json: services.<name>.build):
// the esbuild bundle the images carry (app-bundle.ts, the same entries and options), kept in a
// cache directory, one directory per hash of what it is made of (the app's sources, the lock
// file, tsconfig and the bundler's options), with a node_modules link to the project's, where
// its external packages (sharp) resolve. A bundle already there is used as it is. Prints the
// bundle's directory as its last line: the supervisor runs `build.run` from there.
// Runs under Node's own type stripping (`node scripts/app-build.ts CACHE_DIR`): a production
// checkout has no TypeScript loader.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BUNDLE_FILE, bundleApp, bundleFingerprint } from './app-bundle.ts';
import { bundleSourceFiles, exists } from './app-context.ts';

/** Bundles of other source versions kept beside the current one (a branch switched back and forth). */
const KEEP_OLD = 3;

export interface CachedBundle {
  dir: string;
  /** Whether this call built it (false: found in the cache). */
  built: boolean;
}

/** The project's bundle as `root`'s sources are now, in `cacheDir`: found there, or built into it. */
export async function cachedBundle(root: string, cacheDir: string): Promise<CachedBundle> {
  await mkdir(cacheDir, { recursive: true });
  const dir = path.join(cacheDir, `app-${await sourceHash(root)}`);
  if (await exists(path.join(dir, BUNDLE_FILE))) return { dir, built: false };
  const bundle = await bundleApp(root);
  for (const warning of bundle.warnings) console.warn(`esbuild: ${warning}`);
  // Written aside, then renamed: a supervisor starting meanwhile never runs half a bundle.
  const partial = `${dir}.partial-${randomBytes(4).toString('hex')}`;
  for (const entry of bundle.entries) {
    const file = path.join(partial, entry.name);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, entry.content as Uint8Array);
  }
  await symlink(path.join(root, 'node_modules'), path.join(partial, 'node_modules'), 'dir');
  try {
    await rename(partial, dir);
  } catch (err) {
    await rm(partial, { recursive: true, force: true });
    // Another supervisor built the same sources first: theirs is as good.
    if (!['ENOTEMPTY', 'EEXIST'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
  }
  await prune(cacheDir, dir);
  return { dir, built: true };
}

async function sourceHash(root: string): Promise<string> {
  const hash = createHash('sha256').update(bundleFingerprint());
  for (const file of await bundleSourceFiles(root)) {
    hash.update(`${file}\0`);
    for await (const chunk of createReadStream(path.join(root, file))) hash.update(chunk as Buffer);
  }
  return hash.digest('hex').slice(0, 16);
}

async function prune(cacheDir: string, current: string): Promise<void> {
  const others = [];
  for (const name of await readdir(cacheDir)) {
    const full = path.join(cacheDir, name);
    if (full === current || !name.startsWith('app-') || name.includes('.partial-')) continue;
    others.push({ full, mtime: (await stat(full)).mtimeMs });
  }
  others.sort((a, b) => b.mtime - a.mtime);
  for (const old of others.slice(KEEP_OLD)) await rm(old.full, { recursive: true, force: true });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const cacheDir = process.argv[2];
  if (cacheDir === undefined || process.argv.length > 3) {
    console.error('usage: node scripts/app-build.ts CACHE_DIR');
    process.exit(2);
  }
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const started = performance.now();
  const { dir, built } = await cachedBundle(root, path.resolve(cacheDir));
  console.error(
    built ? `built ${dir} in ${Math.round(performance.now() - started)} ms` : `${dir} is current: nothing to build`,
  );
  console.log(dir);
}
