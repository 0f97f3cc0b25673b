// The process runtime runs the app as the images do: from the project's esbuild bundle
// (scripts/app-bundle.ts, the same entries and options), not through tsx, which compiles every
// TypeScript file at each start. The bundle is built on the first start that needs it and kept
// in dataDir/bundles (the one place a hardened service may write), one directory per hash of
// what it is made of (the app's sources, the lock file, tsconfig and the bundler's options),
// with a node_modules link to the project's, where its external packages (sharp) resolve.
// Only a command that runs the bundle's own entry through tsx is rewritten; any other runs as written.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BUNDLE_ENTRY, BUNDLE_FILE, bundleApp, bundleFingerprint } from '../../scripts/app-bundle.ts';
import { bundleSourceFiles } from '../../scripts/app-context.ts';

/** Bundles of other source versions kept beside the current one (a branch switched back and forth). */
const KEEP_OLD = 3;

export interface PrebuiltCommand {
  command: string[];
  /** The bundle directory, when the command was rewritten. */
  bundleDir?: string;
  /** Whether this call built it (false: found in the cache). */
  built?: boolean;
}

/**
 * Where `node [flags] --import tsx <entry> [args]` (or `--import=tsx`) names the bundle's entry:
 * the flags and args around it.
 */
export function tsxEntry(command: readonly string[]): { flags: string[]; args: string[] } | undefined {
  if (command[0] !== 'node') return undefined;
  const rest = command.slice(1);
  for (let i = 0; i < rest.length; i++) {
    const isImport = rest[i] === '--import' && rest[i + 1] === 'tsx';
    const isJoined = rest[i] === '--import=tsx';
    if (!isImport && !isJoined) continue;
    const at = i + (isImport ? 2 : 1);
    if (path.normalize(rest[at] ?? '') !== BUNDLE_ENTRY) return undefined;
    return { flags: [...rest.slice(0, i), ...rest.slice(i + (isImport ? 2 : 1), at)], args: rest.slice(at + 1) };
  }
  return undefined;
}

/** The project's bundle, as `root`'s sources are now: from the cache, or built into it. */
export class BundleCache {
  readonly #root: string;
  readonly #dir: string;
  #current: Promise<{ dir: string; built: boolean }> | undefined;

  /** `root`: the project (its sources and node_modules); `dir`: where bundles are kept. */
  constructor(root: string, dir: string) {
    this.#root = root;
    this.#dir = dir;
  }

  /**
   * The command to spawn for `command`. The bundle is settled once per supervisor run (like an
   * image: replicas started later run the same code, not a half-edited tree).
   */
  async prebuilt(command: readonly string[]): Promise<PrebuiltCommand> {
    const entry = tsxEntry(command);
    if (!entry) return { command: [...command] };
    this.#current ??= this.#ensure().catch((err: unknown) => {
      this.#current = undefined; // a failed build is tried again at the next start
      throw err;
    });
    const { dir, built } = await this.#current;
    return {
      command: ['node', ...entry.flags, path.join(dir, BUNDLE_FILE), ...entry.args],
      bundleDir: dir,
      built,
    };
  }

  async #ensure(): Promise<{ dir: string; built: boolean }> {
    const dir = path.join(this.#dir, `app-${await this.#sourceHash()}`);
    if (await exists(path.join(dir, BUNDLE_FILE))) return { dir, built: false };
    const bundle = await bundleApp(this.#root);
    // Written aside, then renamed: a supervisor starting meanwhile never runs half a bundle.
    const partial = `${dir}.partial-${randomBytes(4).toString('hex')}`;
    for (const entry of bundle.entries) {
      const file = path.join(partial, entry.name);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, entry.content as Uint8Array);
    }
    await symlink(path.join(this.#root, 'node_modules'), path.join(partial, 'node_modules'), 'dir');
    try {
      await rename(partial, dir);
    } catch (err) {
      await rm(partial, { recursive: true, force: true });
      // Another supervisor built the same sources first: theirs is as good.
      if (!['ENOTEMPTY', 'EEXIST'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
    }
    await this.#prune(dir);
    return { dir, built: true };
  }

  async #sourceHash(): Promise<string> {
    const hash = createHash('sha256').update(bundleFingerprint());
    for (const file of await bundleSourceFiles(this.#root)) {
      hash.update(`${file}\0`);
      for await (const chunk of createReadStream(path.join(this.#root, file))) hash.update(chunk as Buffer);
    }
    return hash.digest('hex').slice(0, 16);
  }

  async #prune(current: string): Promise<void> {
    const others = [];
    for (const name of await readdir(this.#dir)) {
      const full = path.join(this.#dir, name);
      if (full === current || !name.startsWith('app-') || name.includes('.partial-')) continue;
      others.push({ full, mtime: (await stat(full)).mtimeMs });
    }
    others.sort((a, b) => b.mtime - a.mtime);
    for (const old of others.slice(KEEP_OLD)) await rm(old.full, { recursive: true, force: true });
  }
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}
