// The supervisor compiled once, as the app is for its images (scripts/app-bundle.ts): its entry
// and each worker thread's, bundled by esbuild into dist/supervisor/, so production runs plain
// JavaScript: no TypeScript loader in any thread (tsx cost about 33 MB per worker thread) and no
// esbuild service process left running. Plain JavaScript itself, so it runs before any loader:
// `npm ci` runs it (package.json "prepare"), and supervisor/index.js checks the bundle is the
// one of the sources now (a hash of them, the lock file and these options) before it runs it,
// building it when it is not and the directory is writable.
//
//   node supervisor/bundle.mjs            build it if missing or out of date
//   node supervisor/bundle.mjs --force    build it whatever
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const OUT_DIR = path.join(ROOT, 'dist', 'supervisor');
export const MAIN = path.join(OUT_DIR, 'main.mjs');
const STAMP = path.join(OUT_DIR, 'sources.sha256');

/** The entries: the command, and one per worker thread (workers/spec.ts finds them beside it). */
const ENTRIES = {
  main: 'supervisor/main.ts',
  'workers/balancer': 'supervisor/workers/balancer.ts',
  'workers/heartbeat': 'supervisor/workers/heartbeat.ts',
  'workers/scaler': 'supervisor/workers/scaler.ts',
};
/** The trees the supervisor's code comes from (this file among them). */
const SOURCE_DIRS = ['supervisor', 'engine-client', 'logging', 'contracts'];
const SOURCE_FILES = ['package-lock.json', 'tsconfig.json'];

/** Left to node_modules: pino-pretty (optional: readable logs on a terminal when installed). */
const EXTERNAL = ['pino-pretty'];
/** Bundled CommonJS packages call `require`, which an ES module lacks: give the bundle one. */
const REQUIRE_SHIM = "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);";

function buildOptions() {
  return {
    entryPoints: Object.fromEntries(Object.entries(ENTRIES).map(([name, file]) => [name, path.join(ROOT, file)])),
    outdir: OUT_DIR,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node24',
    external: EXTERNAL,
    banner: { js: REQUIRE_SHIM },
    sourcemap: 'linked',
    sourcesContent: false,
    logLevel: 'silent',
  };
}

function filesUnder(dir) {
  const out = [];
  for (const entry of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(rel));
    else if (/\.(ts|mts|mjs|js|json)$/.test(entry.name)) out.push(rel);
  }
  return out;
}

/** A hash of what the bundle is made of: the sources, the lock file, tsconfig and the options. */
export function sourcesHash() {
  const hash = createHash('sha256');
  const files = [...SOURCE_DIRS.flatMap(filesUnder), ...SOURCE_FILES].sort();
  for (const file of files) {
    hash.update(file).update('\0').update(readFileSync(path.join(ROOT, file))).update('\0');
  }
  const { entryPoints: _entries, outdir: _out, ...options } = buildOptions();
  hash.update(JSON.stringify({ ENTRIES, options }));
  return hash.digest('hex');
}

/** Whether dist/supervisor holds the bundle of the sources as they are now. */
export function bundleIsCurrent(hash = sourcesHash()) {
  try {
    return readFileSync(STAMP, 'utf8').trim() === hash;
  } catch {
    return false;
  }
}

/**
 * Builds dist/supervisor from the sources (into a new directory, then renamed into place, so a
 * supervisor starting meanwhile never sees half a bundle); stops esbuild's service after.
 * Returns the milliseconds it took.
 */
export async function buildBundle(hash = sourcesHash()) {
  const started = performance.now();
  const esbuild = await import('esbuild');
  const staging = `${OUT_DIR}.new-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  try {
    await esbuild.build({ ...buildOptions(), outdir: staging });
    writeFileSync(path.join(staging, 'sources.sha256'), `${hash}\n`);
    rmSync(OUT_DIR, { recursive: true, force: true });
    mkdirSync(path.dirname(OUT_DIR), { recursive: true });
    renameSync(staging, OUT_DIR);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    const lines = (error.errors ?? []).map((m) => `${m.location ? `${m.location.file}:${m.location.line}: ` : ''}${m.text}`);
    throw new Error(`bundling the supervisor failed: ${lines.length > 0 ? lines.join('; ') : error.message}`);
  } finally {
    // The service process esbuild started for this build is not needed any more.
    await esbuild.stop();
  }
  return Math.round(performance.now() - started);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const hash = sourcesHash();
  if (!process.argv.includes('--force') && bundleIsCurrent(hash)) {
    console.log(`${path.relative(ROOT, OUT_DIR)}: up to date`);
  } else {
    const ms = await buildBundle(hash);
    console.log(`${path.relative(ROOT, OUT_DIR)}: built in ${ms} ms`);
  }
}
