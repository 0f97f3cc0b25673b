// The layering rules that keep the seams open, checked on the source itself: benchmarks share
// helpers with the suites only through testkit/, and the supervisor's worker logic stays apart
// from the thread shells (heartbeat/ and scaler/ never touch worker_threads).
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
  test("the workers' logic (heartbeat/, scaler/) has no thread of its own: only workers/ shells use worker_threads", () => {
    const threaded = (_: string, spec: string) =>
      spec === 'node:worker_threads' || spec === 'worker_threads' || spec.includes('/workers/');
    assert.deepEqual([...offenders('supervisor/heartbeat', threaded), ...offenders('supervisor/scaler', threaded)], []);
  });
});
