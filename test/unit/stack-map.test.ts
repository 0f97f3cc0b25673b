// A stack from a bundle, mapped back to the TypeScript when logged (app/stack-map.ts), as
// --enable-source-maps would, without holding the map in every replica from its start.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { mapStack } from '../../app/stack-map.ts';
import { describeError } from '../../app/log.ts';

const dir = await mkdtemp(path.join(tmpdir(), 'sa-stack-map-'));
after(() => rm(dir, { recursive: true, force: true }));

/** The stack a bundle's error has in a plain `node` (the test runner here maps stacks itself). */
async function bundledStack(files: Record<string, string>, sourcemap: boolean): Promise<string> {
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
  const out = path.join(dir, `dist-${sourcemap}`, 'app.mjs');
  await esbuild.build({
    entryPoints: [path.join(dir, 'entry.ts')],
    outfile: out,
    bundle: true,
    format: 'esm',
    platform: 'node',
    ...(sourcemap ? { sourcemap: 'linked' as const, sourcesContent: false } : {}),
    logLevel: 'silent',
  });
  const script = `import { run } from ${JSON.stringify(pathToFileURL(out).href)}; try { run(); } catch (err) { process.stdout.write(err.stack); }`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(child.status, 0, child.stderr);
  return child.stdout;
}

const SOURCES = {
  'entry.ts': "import { openStore } from './store.ts';\nexport function run(): void {\n  openStore('x');\n}\n",
  'store.ts':
    '// line 1\n// line 2\nexport function openStore(name: string): void {\n  throw new Error(`no store ${name}`);\n}\n',
};

test('frames of a bundle with a map name the TypeScript file, line and column; others are kept', async () => {
  const stack = await bundledStack(SOURCES, true);
  assert.match(stack, /dist-true\/app\.mjs:\d+:\d+/, 'the raw stack names the bundle');
  const mapped = mapStack(stack);
  assert.match(mapped, new RegExp(`at openStore \\(${path.join(dir, 'store.ts').replace(/\//g, '\\/')}:4:9\\)`));
  assert.match(mapped, /at run \(.*entry\.ts:3:3\)/);
  assert.doesNotMatch(mapped, /app\.mjs:\d+/, 'every frame of the bundle is mapped');
  assert.match(mapped, /^Error: no store x$/m, 'the message line is untouched');
  assert.match(mapped, /\[eval1\]:1:\d+/, 'frames outside a bundle as they were');
  const err = Object.assign(new Error('no store x'), { stack });
  assert.equal(describeError(err).stack, mapped, 'what the app logs');
});

test('a bundle without its map keeps its stack as it is', async () => {
  const stack = await bundledStack(SOURCES, false);
  assert.match(stack, /app\.mjs:\d+:\d+/);
  assert.equal(mapStack(stack), stack);
});
