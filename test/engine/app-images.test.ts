import assert from 'node:assert/strict';
import { appendFile, cp, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { request } from 'undici';
import { BUNDLE_CMD } from '../../scripts/app-bundle.ts';
import { planAppContext, projectRoot } from '../../scripts/app-context.ts';
import { APP_UID } from '../../scripts/base-image.ts';
import { ensureImages } from '../../scripts/images.ts';
import { eventually } from '../../testkit/eventually.ts';
import { TEST_LABELS, engineSuite, skipEngine } from './support.ts';

// The app's behaviour is tested elsewhere; here only what the image promises: where the app
// lives, who runs it, the SERVICE default, that it runs the bundle made at build time (no
// TypeScript inside, stack traces still naming app/*.ts lines) and that the native module works.
describe('the app images acts:latest and users:latest (real dockerd)', { skip: skipEngine }, () => {
  const { engine } = engineSuite();

  /** Runs `image` with `spec` to its exit; its status and output. */
  async function runToExit(spec: { image: string; cmd?: string[]; env?: Record<string, string> }) {
    const { id } = await engine.containers.create({ ...spec, labels: TEST_LABELS });
    try {
      await engine.containers.start(id);
      const { statusCode } = await engine.containers.wait(id);
      return { statusCode, ...(await engine.containers.logsText(id)) };
    } finally {
      await engine.containers.remove(id, { force: true });
    }
  }

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

    for (const [service, ref] of [
      ['acts', 'acts:latest'],
      ['users', 'users:latest'],
    ] as const) {
      const info = await engine.images.inspect(ref);
      assert.equal(info.labels['selflessacts.image'], service);
      assert.match(info.labels['selflessacts.source-hash'] ?? '', /^[0-9a-f]{16}-[0-9a-f]{12}$/);
      assert.ok(info.env.includes(`SERVICE=${service}`), `${ref} defaults SERVICE=${service}`);
      assert.ok(info.env.includes('NODE_ENV=production'));
      assert.equal(info.workingDir, '/app');
      assert.equal(info.user, `${APP_UID}:${APP_UID}`);
      assert.deepEqual(info.cmd, [
        'node',
        '--max-old-space-size-percentage=30',
        '--max-semi-space-size=1',
        'dist/app.mjs',
      ]);
      assert.deepEqual(info.cmd, BUNDLE_CMD);
    }
  });

  test('inside: the bundle and no TypeScript, node:sqlite works, /app/data is writable, devDependencies are absent', async () => {
    const probe = [
      "import { DatabaseSync } from 'node:sqlite';",
      "import { existsSync, readdirSync, writeFileSync } from 'node:fs';",
      "import { createRequire } from 'node:module';",
      "const n = new DatabaseSync(':memory:').prepare('select 6 * 7 as n').get().n;",
      "writeFileSync('/app/data/probe.txt', 'ok');",
      // sharp resolves as the bundle resolves it, and libvips inside the image encodes a WebP.
      "const sharp = createRequire('/app/dist/app.mjs')('sharp');",
      "const webp = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#e8574a' } }).webp().toBuffer();",
      'console.log(JSON.stringify({ n, bundle: existsSync("/app/dist/app.mjs") && existsSync("/app/dist/app.mjs.map"),',
      '  sources: existsSync("/app/app"), typescript: existsSync("/app/node_modules/typescript"), service: process.env.SERVICE,',
      '  webp: webp.subarray(8, 12).toString(), modules: readdirSync("/app/node_modules").sort(), img: readdirSync("/app/node_modules/@img").sort() }));',
    ].join('\n');
    const run = await runToExit({ image: 'users:latest', cmd: ['node', '--input-type=module', '-e', probe] });
    assert.equal(run.statusCode, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), {
      n: 42,
      bundle: true,
      sources: false,
      typescript: false,
      service: 'users',
      webp: 'WEBP',
      // Only sharp and what it needs: not the production tree the bundle already holds, nor the Node.js runtime
      // package.
      modules: ['@img', 'detect-libc', 'semver', 'sharp'],
      img: ['colour', `sharp-libvips-linux-${process.arch}`, `sharp-linux-${process.arch}`],
    });
  });

  test('the image starts the app: /api/v1/_health answers 200 on SQLite', async () => {
    const { id } = await engine.containers.create({
      image: 'acts:latest',
      env: { PORT: '8000', USERS_URL: 'http://127.0.0.1:9' },
      labels: TEST_LABELS,
      ports: [{ containerPort: 8000, hostIp: '127.0.0.1', hostPort: 0 }],
    });
    try {
      await engine.containers.start(id);
      const port = (await engine.containers.inspect(id)).ports.find((p) => p.containerPort === 8000)?.hostPort;
      assert.ok(port, 'a published port');
      const status = await eventually(
        async () => {
          const res = await request(`http://127.0.0.1:${port}/api/v1/_health`, { headersTimeout: 1000 });
          await res.body.dump();
          return res.statusCode;
        },
        '_health',
        15_000,
      );
      assert.equal(status, 200);
      const logs = await engine.containers.logsText(id);
      assert.match(logs.stdout, /^(?=.*"msg":"started")(?=.*"service":"acts").*$/m);
      assert.match(logs.stdout, /"storage":\["acts: data\/acts\.sqlite"\]/);
    } finally {
      await engine.containers.remove(id, { force: true });
    }
  });

  test('a stack trace from the bundle names the TypeScript file and line', async () => {
    // A data directory under a file: openSqlite's mkdirSync throws ENOTDIR during start-up.
    const run = await runToExit({ image: 'users:latest', env: { DATA_DIR: '/app/package.json/data' } });
    assert.equal(run.statusCode, 1, run.stdout + run.stderr);
    const failed = `${run.stdout}\n${run.stderr}`
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { msg?: string; stack?: string })
      .find((l) => l.msg === 'start_failed');
    assert.ok(failed?.stack, run.stdout + run.stderr);
    assert.match(failed.stack, /at openSqlite \(\/app\/app\/db\/connect\.ts:\d+:\d+\)/);
    assert.doesNotMatch(failed.stack, /dist\/app\.mjs:\d+/, 'every frame of ours is mapped back');
  });
});

describe('the app image fingerprint', () => {
  test('changes when an app source changes; the sources are hashed, not shipped', async (t) => {
    const root = await mkdtemp(path.join(tmpdir(), 'sa-fingerprint-'));
    t.after(() => rm(root, { recursive: true, force: true }));
    for (const entry of ['app', 'package.json', 'package-lock.json', 'tsconfig.json']) {
      await cp(path.join(projectRoot, entry), path.join(root, entry), { recursive: true });
    }
    await symlink(path.join(projectRoot, 'node_modules'), path.join(root, 'node_modules'));
    const before = await planAppContext(root);
    const ours = before.files.filter((file) => !file.startsWith('node_modules/'));
    assert.ok(
      !ours.some((file) => file.startsWith('app/') || file.endsWith('.ts')),
      `no TypeScript of ours in the context: ${ours.join(' ')}`,
    );
    assert.equal((await planAppContext(root)).hash, before.hash, 'stable when nothing changes');
    await appendFile(path.join(root, 'app/log.ts'), '\n// an edit\n');
    assert.notEqual((await planAppContext(root)).hash, before.hash);
  });
});
