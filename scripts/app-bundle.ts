// The app compiled once, when the image is built: app/main.ts and the packages it imports
// bundled by esbuild into one ES module, so a container starts without tsx compiling every
// TypeScript file at each boot (the larger part of a replacement's start at 0.5 CPU).
// Built in memory: the files go straight into the image's build context, never the work tree.
// deploy/Dockerfile runs this file instead (`node --import tsx scripts/app-bundle.ts`), which
// writes the same files to dist/ of the project it sits in.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import type { TarEntry } from '../engine-client/index.ts';

export const BUNDLE_ENTRY = 'app/main.ts';
/**
 * The app's worker threads, bundled beside it (dist/<name>.mjs): a worker runs a file of its
 * own, which app/http/json-pool.ts finds next to the bundle.
 */
const WORKER_ENTRIES = { 'json-worker': 'app/http/json-worker.ts' };
/** Inside the image, next to node_modules, so what stays external resolves from /app/node_modules. */
export const BUNDLE_FILE = 'dist/app.mjs';
/**
 * The image's command. No --enable-source-maps: the app maps a stack when it logs one
 * (app/stack-map.ts) instead of holding the parsed map from the start (27 MB a replica). V8's heap is sized to
 * the container (30 % of its memory: 77 MB in a 256 MB replica), not left at the default that
 * lets it grow to the whole limit before collecting: garbage of a few 16 MiB bodies then got the
 * replica OOM-killed although little of it was alive (docs/figures.md, bench:bodies --container).
 * The young generation is held to 1 MB semi-spaces: V8 sizes it for throughput (up to 16 MB
 * each) and keeps the pages, about 5 MB of an idle replica (bench:footprint).
 */
export const REPLICA_NODE_FLAGS = ['--max-old-space-size-percentage=30', '--max-semi-space-size=1'];
export const BUNDLE_CMD = ['node', ...REPLICA_NODE_FLAGS, BUNDLE_FILE];

/**
 * Left to node_modules: packages that load a native addon relative to their own files: sharp
 * (its prebuilt @img/sharp-<platform> addon and libvips). Everything else bundles (measured: a
 * whole bundle starts faster than one that resolves each package from node_modules at boot).
 * The image then carries these packages and what they need (app-context.ts), nothing more.
 */
export const BUNDLE_EXTERNAL: string[] = ['sharp'];

/**
 * Bundled CommonJS packages (mysql2, express, multer) call `require`, which an ES module lacks:
 * give the bundle one, resolving from dist/, that is from /app/node_modules.
 */
const REQUIRE_SHIM =
  "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);";

function options(root: string) {
  return {
    entryPoints: Object.fromEntries(
      Object.entries({ app: BUNDLE_ENTRY, ...WORKER_ENTRIES }).map(([name, file]) => [name, path.join(root, file)]),
    ),
    outdir: path.join(root, path.dirname(BUNDLE_FILE)),
    outExtension: { '.js': '.mjs' },
    // What is imported only when used (mysql2, on a DATABASE_URL) goes to a chunk of its own,
    // which a replica on SQLite never loads.
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node24',
    external: BUNDLE_EXTERNAL,
    banner: { js: REQUIRE_SHIM },
    // Lines and names are enough for stack traces; the sources would triple the map's size.
    sourcemap: 'linked',
    sourcesContent: false,
    write: false,
    logLevel: 'silent',
  } satisfies esbuild.BuildOptions;
}

/** What decides the bundle besides the sources and the lock file: part of the image's hash. */
export function bundleFingerprint(): string {
  const { entryPoints: _entry, outdir: _out, ...rest } = options('/');
  return JSON.stringify({ esbuild: esbuild.version, workers: WORKER_ENTRIES, ...rest });
}

export interface AppBundle {
  /** dist/app.mjs, the workers beside it, and their source maps, ready for the tar. */
  entries: TarEntry[];
  bytes: number;
  warnings: string[];
}

/** Bundles the app from `root`; esbuild's errors become one Error naming each location. */
export async function bundleApp(root: string): Promise<AppBundle> {
  let result: esbuild.BuildResult<ReturnType<typeof options>>;
  try {
    result = await esbuild.build(options(root));
  } catch (error) {
    const failure = error as esbuild.BuildFailure;
    const lines = (failure.errors ?? []).map(
      (m) => `${m.location ? `${m.location.file}:${m.location.line}: ` : ''}${m.text}`,
    );
    throw new Error(`bundling ${BUNDLE_ENTRY} failed: ${lines.length > 0 ? lines.join('; ') : failure.message}`);
  } finally {
    // esbuild's service process (about 170 MB) would otherwise stay for the life of the caller,
    // the supervisor's under the process runtime; the next build starts another.
    await esbuild.stop();
  }
  const entries = result.outputFiles.map((file) => ({
    name: path.relative(root, file.path),
    content: file.contents,
    mode: 0o644,
  }));
  const bytes = result.outputFiles.reduce((sum, file) => sum + file.contents.length, 0);
  const warnings = result.warnings.map(
    (m) => `${m.location ? `${m.location.file}:${m.location.line}: ` : ''}${m.text}`,
  );
  return { entries, bytes, warnings };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const bundle = await bundleApp(root);
  for (const warning of bundle.warnings) console.warn(`esbuild: ${warning}`);
  for (const entry of bundle.entries) {
    const file = path.join(root, entry.name);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, entry.content as Uint8Array);
  }
  console.log(`${BUNDLE_FILE}: ${(bundle.bytes / 1e6).toFixed(1)} MB with its source map`);
}
