// The layering rules that keep the seams open, checked on the source itself: benchmarks share
// helpers with the suites only through testkit/, the supervisor's worker logic stays apart
// from the thread shells (heartbeat/ and scaler/ never touch worker_threads), the supervisor's
// modules live in folders by concern that import each other without a cycle (the root keeps
// only the entry), and the supervisor knows nothing of the app.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';

const root = path.resolve(import.meta.dirname, '../..');

function sources(dir: string): string[] {
  return readdirSync(path.join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.(ts|mts|mjs)$/.test(f))
    .map((f) => path.join(dir, f));
}

/** Module specifiers of every static or dynamic import in a file. */
function importsOf(file: string): string[] {
  const text = readFileSync(path.join(root, file), 'utf8');
  return [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)['"]([^'"]+)['"]/g)].map((m) => m[1]!);
}

function offenders(dir: string, bad: (resolved: string, specifier: string) => boolean): string[] {
  return sources(dir).flatMap((file) =>
    importsOf(file)
      .filter((spec) => bad(path.relative(root, path.resolve(root, path.dirname(file), spec)), spec))
      .map((spec) => `${file} imports ${spec}`),
  );
}

describe('layering', () => {
  test('bench/ imports nothing from test/ (shared helpers live in testkit/)', () => {
    assert.deepEqual(
      offenders('bench', (resolved, spec) => spec.startsWith('.') && resolved.split(path.sep)[0] === 'test'),
      [],
    );
  });
  test('testkit/ imports nothing from test/ or bench/', () => {
    assert.deepEqual(
      offenders(
        'testkit',
        (resolved, spec) => spec.startsWith('.') && ['test', 'bench'].includes(resolved.split(path.sep)[0]!),
      ),
      [],
    );
  });
  test('the supervisor imports nothing from app/ or scripts/: what it runs, and how that is built, is configuration', () => {
    const projectTrees = ['app', 'scripts'];
    assert.deepEqual(
      [
        ...offenders(
          'supervisor',
          (resolved, spec) => spec.startsWith('.') && projectTrees.includes(resolved.split(path.sep)[0]!),
        ),
        ...importsOf('supervisor/index.js')
          .filter((spec) => projectTrees.some((tree) => spec.includes(`${tree}/`)))
          .map((spec) => `supervisor/index.js imports ${spec}`),
      ],
      [],
    );
  });
  test("the supervisor's root holds only its entry and the entry's own build: every other module lives in a room (folder) of its concern", () => {
    const entry = ['index.js', 'main.ts', 'bundle.mjs', 'bundle.d.mts'];
    const loose = readdirSync(path.join(root, 'supervisor'), { withFileTypes: true })
      .filter((file) => file.isFile() && !entry.includes(file.name))
      .map((file) => file.name);
    assert.deepEqual(loose, []);
  });
  test("the supervisor's folders import each other without a cycle, and none imports the entry", () => {
    const folderOf = (file: string) => {
      const parts = path.relative('supervisor', file).split(path.sep);
      return parts.length > 1 ? parts[0]! : '.';
    };
    const edges = new Map<string, Set<string>>();
    for (const file of sources('supervisor')) {
      for (const spec of importsOf(file)) {
        if (!spec.startsWith('.')) continue;
        const target = path.relative(root, path.resolve(root, path.dirname(file), spec));
        if (target.split(path.sep)[0] !== 'supervisor') continue;
        const [from, to] = [folderOf(file), folderOf(target)];
        if (from === to) continue;
        if (!edges.has(from)) edges.set(from, new Set());
        edges.get(from)!.add(to);
      }
    }
    const intoEntry = [...edges].filter(([, to]) => to.has('.')).map(([from]) => from);
    assert.deepEqual(intoEntry, [], 'folders importing the root (the entry is the top, not a shared layer)');
    // Depth-first: a folder met again on the current path closes a cycle.
    const cycles: string[] = [];
    const done = new Set<string>();
    const walk = (folder: string, trail: string[]) => {
      if (trail.includes(folder)) return void cycles.push([...trail.slice(trail.indexOf(folder)), folder].join(' → '));
      if (done.has(folder)) return;
      for (const next of edges.get(folder) ?? []) walk(next, [...trail, folder]);
      done.add(folder);
    };
    for (const folder of edges.keys()) walk(folder, []);
    assert.deepEqual(cycles, [], JSON.stringify(Object.fromEntries([...edges].map(([k, v]) => [k, [...v]]))));
  });
  test('the data plane (balancer/) and the shared floors below it never reach up into the control plane', () => {
    // balancer/ runs in its own threads with only what its messages give it; core/ and web/ are
    // what every room may use. None of them may import the rooms that run the fleet.
    const controlPlane = ['admin', 'cli', 'config', 'fleet', 'primary', 'runtime', 'scaler', 'telemetry', 'workers'];
    const upward = (resolved: string) => {
      const [top, folder] = resolved.split(path.sep);
      return top === 'supervisor' && controlPlane.includes(folder!);
    };
    assert.deepEqual(
      [
        ...offenders('supervisor/balancer', upward),
        ...offenders('supervisor/core', upward),
        ...offenders('supervisor/web', upward),
      ],
      [],
    );
  });
  test("the workers' logic (heartbeat/, scaler/) has no thread of its own: only workers/ shells use worker_threads", () => {
    const threaded = (_: string, spec: string) =>
      spec === 'node:worker_threads' || spec === 'worker_threads' || spec.includes('/workers/');
    assert.deepEqual([...offenders('supervisor/heartbeat', threaded), ...offenders('supervisor/scaler', threaded)], []);
  });
  test('no module-level variable in the supervisor, but where a thread or a global registry is the module (issue 26 item 3)', () => {
    // A module's `let` is state every instance of every class in it shares, hidden from their
    // constructors: two balancers in one thread (the tests run several) would share it.
    const allowed = new Set([
      // The balancer thread's entry: the thread is the module, one server per thread.
      'supervisor/workers/balancer.ts',
      // convict's formats are registered globally: what they find can only come back this way.
      'supervisor/schema/formats.ts',
    ]);
    const found = sources('supervisor').flatMap((file) =>
      readFileSync(path.join(root, file), 'utf8')
        .split('\n')
        .map((line, i) => ({ line, at: i + 1 }))
        .filter(({ line }) => /^(export )?(let|var) /.test(line) && !allowed.has(file))
        .map(({ line, at }) => `${file}:${at}: ${line.trim()}`),
    );
    assert.deepEqual(found, []);
  });
});
