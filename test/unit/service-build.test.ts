// A service's build step under the process runtime (supervisor/runtime/service-build.ts), with
// real child processes: the command the config names runs once per supervisor run, names its
// result in its last line, and a failure, a silence or a hang each end the start with a reason.
// Then the shipped build (scripts/app-build.ts) itself, and what the config accepts as `build`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ConfigError, parseConfig } from '../../supervisor/config/config.ts';
import { specParts } from '../../supervisor/fleet/spec-hash.ts';
import { ServiceBuilds } from '../../supervisor/runtime/service-build.ts';

const root = path.resolve(import.meta.dirname, '../..');

/** A build script: counts its runs in `runs`, makes `cache/out`, and says so. */
function script(body: string): string[] {
  return ['node', '--input-type=module', '-e', body, '{{build:cache}}'];
}
const MAKES_OUT = `
  import { appendFileSync, mkdirSync } from 'node:fs';
  const cache = process.argv[1];
  appendFileSync(cache + '/../runs', 'x');
  mkdirSync(cache + '/out', { recursive: true });
  console.log('some chatter first');
  console.error('a warning');
  console.log(cache + '/out');
`;

describe('a service build step', () => {
  let dir: string;
  let cacheDir: string;
  const runs = () => (existsSync(path.join(dir, 'runs')) ? readFileSync(path.join(dir, 'runs'), 'utf8').length : 0);
  const builds = (timeoutMs?: number) =>
    new ServiceBuilds({
      cacheDir,
      cwd: dir,
      env: { PATH: process.env.PATH ?? '' },
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
    });

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'sa-build-'));
    cacheDir = path.join(dir, 'cache');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('runs once for every service that declares the same command, and their replicas run from its result', async () => {
    const b = builds();
    const build = { command: script(MAKES_OUT), run: ['node', '{{build:dir}}/app.mjs', '--x={{build:dir}}'] };
    const before = runs();
    const [acts, users] = await Promise.all([b.command('acts', build), b.command('users', build)]);
    const out = path.join(cacheDir, 'out');
    assert.deepEqual(acts, ['node', `${out}/app.mjs`, `--x=${out}`]);
    assert.deepEqual(users, acts);
    assert.deepEqual(await b.command('acts', build), acts, 'settled: a later replica runs the same');
    assert.equal(runs() - before, 1);
    assert.ok(statSync(cacheDir).isDirectory(), '{{build:cache}} named a place the build could use');
  });

  test('a chatty build still names its result: its last line counts, however much came before', async () => {
    const chatty = `
      import { mkdirSync } from 'node:fs';
      const cache = process.argv[1];
      mkdirSync(cache + '/chatty', { recursive: true });
      for (let i = 0; i < 4000; i++) console.log('compiling module ' + i + ' ' + 'x'.repeat(60));
      console.log(cache + '/chatty');
    `;
    const command = await builds().command('acts', { command: script(chatty), run: ['node', '{{build:dir}}/a.mjs'] });
    assert.deepEqual(command, ['node', `${path.join(cacheDir, 'chatty')}/a.mjs`]);
  });

  test('a failed build fails the start with the end of what it said, and runs again at the next start', async () => {
    const b = builds();
    const build = {
      command: script(`process.stderr.write('x'.repeat(5000) + ' the reason at the end'); process.exit(3);`),
      run: ['node', '{{build:dir}}/app.mjs'],
    };
    await assert.rejects(b.command('acts', build), (err: Error) => {
      assert.match(
        err.message,
        /^services\.acts\.build\.command \(node --input-type=module -e .*\) failed \(exit 3\): x+ the reason at the end$/s,
      );
      assert.ok(err.message.length < 2600, 'only the end of its standard error');
      return true;
    });
    const counted = { command: script(`${MAKES_OUT}; process.exit(Number(process.env.FAIL ?? 0));`), run: build.run };
    const failing = new ServiceBuilds({ cacheDir, cwd: dir, env: { PATH: process.env.PATH ?? '', FAIL: '1' } });
    const before = runs();
    await assert.rejects(failing.command('acts', counted), /failed \(exit 1\)/);
    await assert.rejects(failing.command('acts', counted), /failed \(exit 1\)/);
    assert.equal(runs() - before, 2, 'not settled on a failure');
  });

  test('a build that names no directory, or a program that does not exist, is refused with what went wrong', async () => {
    const b = builds();
    await assert.rejects(
      b.command('acts', { command: script(`console.log('done!')`), run: ['node', '{{build:dir}}/a.mjs'] }),
      /ended without naming its result: its last line of output must be a directory, not "done!"/,
    );
    await assert.rejects(
      b.command('acts', { command: ['sa-no-such-builder', '{{build:cache}}'], run: ['{{build:dir}}/a'] }),
      /services\.acts\.build\.command \(sa-no-such-builder .*\) failed \(could not start\): .*ENOENT/s,
    );
  });

  test('a build that hangs is killed with what it started, and the start fails saying so', async () => {
    const pidFile = path.join(dir, 'grandchild.pid');
    const hang = `
      import { spawn } from 'node:child_process';
      import { writeFileSync } from 'node:fs';
      const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
      writeFileSync(${JSON.stringify(pidFile)}, String(child.pid));
      setInterval(() => {}, 1000);
    `;
    const started = Date.now();
    await assert.rejects(
      builds(1500).command('acts', { command: script(hang), run: ['node', '{{build:dir}}/a.mjs'] }),
      /services\.acts\.build\.command .* was still running after 1\.5 s: killed/s,
    );
    assert.ok(Date.now() - started < 10_000);
    const grandchild = Number(await readFile(pidFile, 'utf8'));
    const alive = () => {
      try {
        process.kill(grandchild, 0);
        return !readFileSync(`/proc/${grandchild}/stat`, 'utf8').split(') ')[1]!.startsWith('Z');
      } catch {
        return false;
      }
    };
    try {
      for (let i = 0; i < 50 && alive(); i++) await new Promise((r) => setTimeout(r, 100));
      assert.equal(alive(), false, 'what the build started went with it');
    } finally {
      if (alive()) process.kill(grandchild, 'SIGKILL');
    }
  });
});

describe('the shipped build: scripts/app-build.ts', { timeout: 120_000 }, () => {
  let cacheDir: string;
  before(async () => {
    cacheDir = await mkdtemp(path.join(tmpdir(), 'sa-app-build-'));
  });
  after(() => rm(cacheDir, { recursive: true, force: true }));

  // Node's own type stripping, as production runs it: a production checkout has no tsx.
  const build = () =>
    spawnSync(process.execPath, ['scripts/app-build.ts', cacheDir], {
      cwd: root,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_OPTIONS: '' },
    });

  test("builds the images' bundle into the cache once, names it, and finds it there the next time", () => {
    const first = build();
    assert.equal(first.status, 0, first.stderr);
    const dir = first.stdout.trim().split('\n').at(-1)!;
    assert.match(path.basename(dir), /^app-[0-9a-f]{16}$/);
    assert.equal(path.dirname(dir), cacheDir);
    assert.ok(statSync(path.join(dir, 'dist/app.mjs')).size > 100_000, 'the bundle');
    assert.ok(
      lstatSync(path.join(dir, 'node_modules')).isSymbolicLink(),
      "the project's packages, where sharp resolves",
    );
    assert.match(first.stderr, /built .* in \d+ ms/);
    const made = statSync(path.join(dir, 'dist/app.mjs')).mtimeMs;
    const second = build();
    assert.equal(second.status, 0, second.stderr);
    assert.equal(second.stdout.trim(), dir);
    assert.match(second.stderr, /is current: nothing to build/);
    assert.equal(statSync(path.join(dir, 'dist/app.mjs')).mtimeMs, made);
  });
});

describe('services.<name>.build in the config', () => {
  const service = (build: unknown) => ({
    services: {
      web: {
        command: ['node', 'web.mjs'],
        build,
        replicas: { initial: 1, min: 1, max: 1 },
        startPort: 9100,
        healthPath: '/',
      },
    },
  });
  const issue = (build: unknown) => {
    try {
      parseConfig(service(build), { env: {} });
      return undefined;
    } catch (err) {
      assert.ok(err instanceof ConfigError, String(err));
      return err.issues.find((i) => i.key === 'services.web.build')?.expected;
    }
  };

  test('the shipped one is taken as it is', () => {
    const shipped = JSON.parse(readFileSync(path.join(root, 'config/orchestrator.json'), 'utf8'));
    const parsed = parseConfig(shipped, { env: {} });
    for (const s of parsed.services) assert.deepEqual(s.build, shipped.services[s.name].build);
  });

  const refused: Array<[string, unknown]> = [
    ['not an object', ['node', 'build.mjs']],
    ['no run', { command: ['make'] }],
    ['an empty command', { command: [], run: ['{{build:dir}}/a'] }],
    ['an empty word', { command: ['make', ''], run: ['{{build:dir}}/a'] }],
    ['a key of its own', { command: ['make'], run: ['{{build:dir}}/a'], inputs: ['src'] }],
    ['a run that does not use what was built', { command: ['make'], run: ['node', 'a.mjs'] }],
    [
      '{{build:dir}} in the command: nothing is built yet',
      { command: ['make', '{{build:dir}}'], run: ['{{build:dir}}/a'] },
    ],
    ['another template', { command: ['make', '{{env:HOME}}'], run: ['{{build:dir}}/a'] }],
    ['a misspelt one', { command: ['make'], run: ['{{build:dri}}/a'] }],
  ];
  for (const [name, build] of refused) {
    test(`refused, naming the key and the shape: ${name}`, () => {
      assert.match(issue(build) ?? '(taken)', /^an object \{command, run\}: .* run must name \{\{build:dir\}\}$/);
    });
  }

  test("a build is part of the replica's command in its spec label: changing it replaces replicas; none keeps the labels of before", () => {
    const base = {
      imageId: '',
      env: {},
      command: ['node', 'a.mjs'],
      resources: { memoryMb: 64, cpus: 1 },
      containerPort: 1,
    };
    const withBuild = (run: string[]) => specParts({ ...base, build: { command: ['make'], run } });
    assert.notEqual(withBuild(['{{build:dir}}/a']).command, specParts(base).command);
    assert.notEqual(withBuild(['{{build:dir}}/a']).command, withBuild(['{{build:dir}}/b']).command);
    assert.equal(specParts({ ...base, build: undefined }).command, specParts(base).command);
  });
});
