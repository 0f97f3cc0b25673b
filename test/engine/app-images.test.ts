import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { DockerEngine } from '../../engine-client/index.ts';
import { APP_UID } from '../../scripts/base-image.ts';
import { ensureImages } from '../../scripts/images.ts';
import { TEST_LABELS, removeTestObjects, skipEngine } from './support.ts';

// The app's behaviour is tested elsewhere; here only what the image promises: where the app
// lives, who runs it, the SERVICE default, and that tsx (with its esbuild binary) and the
// native modules work inside.
describe('the app images acts:latest and users:latest (real dockerd)', { skip: skipEngine }, () => {
  const engine = new DockerEngine();
  after(async () => {
    await removeTestObjects(engine);
    await engine.close();
  });

  test('ensureImages builds or reuses them; a second call reuses all three', async () => {
    const lines: string[] = [];
    const first = await ensureImages({ engine, onProgress: (line) => lines.push(line) });
    for (const [kind, report] of Object.entries(first)) {
      assert.match(report.imageId, /^sha256:/, kind);
      assert.ok(report.size > 10_000_000, `${kind} has a plausible size`);
    }
    assert.ok(lines.some((line) => line.startsWith('acts ')));
    const again = await ensureImages({ engine });
    assert.deepEqual(
      Object.values(again).map((r) => [r.ref, r.built, r.imageId]),
      Object.values(first).map((r) => [r.ref, false, r.imageId]),
    );

    for (const [service, ref] of [['acts', 'acts:latest'], ['users', 'users:latest']] as const) {
      const info = await engine.images.inspect(ref);
      assert.equal(info.labels['selflessacts.image'], service);
      assert.match(info.labels['selflessacts.source-hash'] ?? '', /^[0-9a-f]{16}-[0-9a-f]{12}$/);
      assert.ok(info.env.includes(`SERVICE=${service}`), `${ref} defaults SERVICE=${service}`);
      assert.ok(info.env.includes('NODE_ENV=production'));
      assert.equal(info.workingDir, '/app');
      assert.equal(info.user, `${APP_UID}:${APP_UID}`);
      assert.deepEqual(info.cmd, ['node', '--import', 'tsx', 'app/main.ts']);
    }
  });

  test('inside: tsx compiles TypeScript, better-sqlite3 loads, /app/data is writable, devDependencies are absent', async () => {
    const script = [
      "import Database from 'better-sqlite3';",
      "import { writeFileSync, existsSync } from 'node:fs';",
      "const n: number = new Database(':memory:').prepare('select 6 * 7 as n').get().n;",
      "writeFileSync('/app/data/probe.txt', 'ok');",
      "console.log(JSON.stringify({ n, typescript: existsSync('/app/node_modules/typescript'), esbuild: existsSync('/app/node_modules/@esbuild/linux-x64/bin/esbuild'), service: process.env.SERVICE }));",
    ].join('\n');
    // tsx compiles files, not -e strings: write the probe under /app so it resolves /app/node_modules.
    const loader = `require('fs').writeFileSync('/app/data/probe.ts', ${JSON.stringify(script)}); import('/app/data/probe.ts')`;
    const { id } = await engine.containers.create({
      image: 'users:latest',
      cmd: ['node', '--import', 'tsx', '-e', loader],
      labels: TEST_LABELS,
    });
    await engine.containers.start(id);
    const { statusCode } = await engine.containers.wait(id);
    const logs = await engine.containers.logsText(id);
    await engine.containers.remove(id);
    assert.equal(statusCode, 0, logs.stderr);
    assert.deepEqual(JSON.parse(logs.stdout), { n: 42, typescript: false, esbuild: true, service: 'users' });
  });
});
