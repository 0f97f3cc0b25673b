// Builds our images with no registry: the base image from the Node.js running here, then
// acts:latest and users:latest from it, all through engine-client.
//
//   npx tsx scripts/images.ts                 rebuild the app images (base reused if current)
//   npx tsx scripts/images.ts --if-missing    only what is missing or out of date
//   npx tsx scripts/images.ts --force         everything, the base image included
//   ... --quiet-if-no-engine                  exit 0 with one line when no engine answers
//   ... --verbose                             the engine's build output too
//   ... --podman                              into Podman (its Docker-compatible API at
//                                             CONTAINER_HOST or /run/podman/podman.sock) instead
//                                             of Docker: the same client and builds, no registry
import { pathToFileURL } from 'node:url';
import {
  DockerEngine,
  isConflict,
  isEngineUnavailable,
  isNotFound,
  tarStream,
  type ImageInfo,
} from '../engine-client/index.ts';
import { BUNDLE_ENTRY, bundleApp } from './app-bundle.ts';
import { appContextEntries, planAppContext, projectRoot } from './app-context.ts';
import { buildBaseImage, planBaseImage, type BuiltImage } from './base-image.ts';

export const APP_IMAGES = { acts: 'acts:latest', users: 'users:latest' } as const;
export type AppService = keyof typeof APP_IMAGES;

export interface ImageReport {
  ref: string;
  imageId: string;
  size: number;
  /** Build time; 0 when reused. */
  seconds: number;
  built: boolean;
  /** Why it was built or reused, for the log. */
  reason: string;
  /** The image that had the tag before this build, if another one. */
  replaced?: string;
}

export interface EnsureImagesOptions {
  /** Rebuild everything, the base image included. */
  force?: boolean;
  /** Rebuild the app images even when they look current. */
  rebuildApp?: boolean;
  engine?: DockerEngine;
  root?: string;
  /** Human-readable progress lines. */
  onProgress?: (line: string) => void;
  /** Also pass the engine's own build output to onProgress. */
  verbose?: boolean;
}

export interface EnsureImagesResult {
  base: ImageReport;
  acts: ImageReport;
  users: ImageReport;
}

function staleness(info: ImageInfo | undefined, label: string, wanted: string): string | undefined {
  if (info === undefined) return 'missing';
  if (info.labels[label] !== wanted) return `${label} ${info.labels[label] ?? '(none)'} ≠ ${wanted}`;
  return undefined;
}

const reused = (ref: string, info: ImageInfo): ImageReport => ({
  ref,
  imageId: info.id,
  size: info.size,
  seconds: 0,
  built: false,
  reason: 'up to date',
});

function built(image: BuiltImage, reason: string, previous: ImageInfo | undefined): ImageReport {
  const report: ImageReport = { ...image, built: true, reason };
  if (previous && previous.id !== image.imageId) report.replaced = previous.id;
  return report;
}

/**
 * The base image, rebuilt when missing, forced, or when the node binary or a library it links
 * changed. `addons`: native modules whose libraries must be inside too (default: the project's).
 */
export async function ensureBaseImage(
  options: { engine?: DockerEngine; addons?: string[]; force?: boolean; say?: (line: string) => void } = {},
): Promise<ImageReport> {
  const engine = options.engine ?? new DockerEngine();
  try {
    const addons = options.addons ?? (await planAppContext(projectRoot)).addons;
    const plan = await planBaseImage({ extraBinaries: addons });
    const info = await engine.images.find(plan.ref);
    const stale = options.force ? 'forced' : staleness(info, 'selflessacts.base-hash', plan.hash);
    if (stale === undefined && info) return reused(plan.ref, info);
    options.say?.(
      `base  ${plan.ref}: building (${stale}) from ${plan.nodePath} and ${plan.libraries.length} libraries`,
    );
    return built(await buildBaseImage(engine, plan), stale ?? 'forced', info);
  } finally {
    if (!options.engine) await engine.close();
  }
}

/** Builds whatever is missing or out of date (or everything with `force`); returns the figures. */
export async function ensureImages(options: EnsureImagesOptions = {}): Promise<EnsureImagesResult> {
  const engine = options.engine ?? new DockerEngine();
  const say = options.onProgress ?? (() => {});
  try {
    const root = options.root ?? projectRoot;
    const context = await planAppContext(root);
    const base = await ensureBaseImage({ engine, addons: context.addons, force: options.force ?? false, say });
    say(describe('base', base));

    // The app images depend on the sources and on the exact base image they sit on.
    const sourceHash = `${context.hash}-${base.imageId.replace(/^sha256:/, '').slice(0, 12)}`;
    const actsInfo = await engine.images.find(APP_IMAGES.acts);
    const actsStale =
      options.force || options.rebuildApp
        ? 'rebuild asked'
        : staleness(actsInfo, 'selflessacts.source-hash', sourceHash);
    let acts: ImageReport;
    if (actsStale === undefined && actsInfo) {
      acts = reused(APP_IMAGES.acts, actsInfo);
    } else {
      say(`acts ${APP_IMAGES.acts}: building (${actsStale}), ${context.files.length} files in the context`);
      acts = built(
        await buildApp(engine, options, base.imageId, sourceHash, context),
        actsStale ?? 'rebuild asked',
        actsInfo,
      );
    }
    say(describe('acts', acts));

    // users is acts with another SERVICE: one small layer on top, no second upload.
    const usersInfo = await engine.images.find(APP_IMAGES.users);
    const usersStale = acts.built ? 'acts rebuilt' : staleness(usersInfo, 'selflessacts.app-image', acts.imageId);
    let users: ImageReport;
    if (usersStale === undefined && usersInfo) {
      users = reused(APP_IMAGES.users, usersInfo);
    } else {
      say(`users ${APP_IMAGES.users}: building (${usersStale})`);
      users = built(
        await buildUsers(engine, options, acts.imageId, sourceHash),
        usersStale ?? 'acts rebuilt',
        usersInfo,
      );
    }
    say(describe('users', users));
    // The images these replaced would linger untagged; remove them unless a container still
    // uses one (the engine then refuses with CONFLICT, and that is fine). Children first.
    for (const report of [users, acts, base]) {
      if (report.replaced) await engine.images.remove(report.replaced).catch(ignoreInUse);
    }
    return { base, acts, users };
  } finally {
    if (!options.engine) await engine.close();
  }
}

function ignoreInUse(error: unknown): void {
  if (!isConflict(error) && !isNotFound(error)) throw error;
}

function buildOutput(options: EnsureImagesOptions) {
  const say = options.onProgress;
  if (!options.verbose || !say) return undefined;
  return (message: { stream?: string; status?: string }) => {
    const text = (message.stream ?? message.status ?? '').trim();
    if (text !== '') say(`  ${text}`);
  };
}

async function buildApp(
  engine: DockerEngine,
  options: EnsureImagesOptions,
  baseImageId: string,
  sourceHash: string,
  context: Awaited<ReturnType<typeof planAppContext>>,
): Promise<BuiltImage> {
  const started = performance.now();
  const onProgress = buildOutput(options);
  const bundle = await bundleApp(context.root);
  const say = options.onProgress ?? (() => {});
  say(
    `acts ${BUNDLE_ENTRY} bundled: ${(bundle.bytes / 1e6).toFixed(1)} MB with its source map, ${bundle.warnings.length} warnings`,
  );
  for (const warning of bundle.warnings) say(`  esbuild: ${warning}`);
  const { imageId } = await engine.images.build(tarStream(appContextEntries(context, bundle.entries)), {
    tags: [APP_IMAGES.acts],
    buildArgs: { BASE_IMAGE: baseImageId, SERVICE: 'acts' },
    labels: { 'selflessacts.image': 'acts', 'selflessacts.source-hash': sourceHash },
    ...(onProgress ? { onProgress } : {}),
  });
  return figures(engine, APP_IMAGES.acts, imageId, started);
}

async function buildUsers(
  engine: DockerEngine,
  options: EnsureImagesOptions,
  actsImageId: string,
  sourceHash: string,
): Promise<BuiltImage> {
  const started = performance.now();
  const onProgress = buildOutput(options);
  const dockerfile = 'ARG APP_IMAGE\nFROM ${APP_IMAGE}\nENV SERVICE=users\n';
  const { imageId } = await engine.images.build(tarStream([{ name: 'Dockerfile', content: dockerfile }]), {
    tags: [APP_IMAGES.users],
    buildArgs: { APP_IMAGE: actsImageId },
    labels: {
      'selflessacts.image': 'users',
      'selflessacts.source-hash': sourceHash,
      'selflessacts.app-image': actsImageId,
    },
    ...(onProgress ? { onProgress } : {}),
  });
  return figures(engine, APP_IMAGES.users, imageId, started);
}

async function figures(engine: DockerEngine, ref: string, imageId: string, started: number): Promise<BuiltImage> {
  const info = await engine.images.inspect(imageId);
  return { ref, imageId, size: info.size, seconds: (performance.now() - started) / 1000 };
}

function describe(kind: string, report: ImageReport): string {
  const mb = (report.size / 1e6).toFixed(1);
  const how = report.built ? `built in ${report.seconds.toFixed(1)} s` : 'reused (up to date)';
  return `${kind.padEnd(5)} ${report.ref}  ${how}, ${mb} MB, ${report.imageId.slice(7, 19)}`;
}

async function main(argv: string[]): Promise<number> {
  const flags = new Set(argv);
  const known = ['--if-missing', '--force', '--quiet-if-no-engine', '--verbose', '--podman'];
  const unknown = argv.filter((arg) => !known.includes(arg));
  if (unknown.length > 0) {
    console.error(`images: unknown option ${unknown.join(' ')}; expected any of ${known.join(' ')}`);
    return 2;
  }
  const engine = flags.has('--podman')
    ? new DockerEngine({
        socketPath: (process.env.CONTAINER_HOST ?? '/run/podman/podman.sock').replace(/^unix:\/\//, ''),
      })
    : new DockerEngine();
  try {
    try {
      await engine.system.ping();
    } catch (error) {
      if (!isEngineUnavailable(error)) throw error;
      const line = `images: no engine at ${engine.socketPath}; images not built`;
      if (flags.has('--quiet-if-no-engine')) {
        console.log(line);
        return 0;
      }
      console.error(`${line} (${(error as Error).message})`);
      return 1;
    }
    const started = performance.now();
    await ensureImages({
      engine,
      force: flags.has('--force'),
      rebuildApp: !flags.has('--if-missing'),
      verbose: flags.has('--verbose'),
      onProgress: (line) => console.log(line),
    });
    console.log(`images: ready in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return 0;
  } catch (error) {
    console.error(`images: ${(error as Error).message}`);
    return 1;
  } finally {
    await engine.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
