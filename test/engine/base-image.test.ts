import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { APP_UID, IMAGE_NODE_PATH, baseImageRef } from '../../scripts/base-image.ts';
import { TEST_LABELS, engineSuite, skipEngine } from './support.ts';

describe('the base image made from this host’s Node.js (real dockerd)', { skip: skipEngine }, () => {
  const suite = engineSuite();
  const { engine } = suite;

  async function run(
    cmd: string[],
    extra: { user?: string; binds?: { source: string; target: string; readOnly?: boolean }[] } = {},
  ) {
    const { id } = await engine.containers.create({ image: suite.image, cmd, labels: TEST_LABELS, ...extra });
    await engine.containers.start(id);
    const { statusCode } = await engine.containers.wait(id);
    const logs = await engine.containers.logsText(id);
    await engine.containers.remove(id);
    return { statusCode, ...logs };
  }

  test('is tagged with the Node version and labelled as our base', async () => {
    assert.equal(suite.image, baseImageRef(process.version));
    const info = await engine.images.inspect(suite.image);
    assert.equal(info.labels['selflessacts.image'], 'base');
    assert.equal(info.labels['selflessacts.node-version'], process.version);
    assert.ok(info.env.some((e) => e.startsWith('PATH=') && e.split(':').includes(path.dirname(IMAGE_NODE_PATH))));
    assert.ok(
      !info.env.some((e) => e.includes(path.dirname(process.execPath))),
      "nothing of the build machine's paths",
    );
    assert.deepEqual(info.cmd, ['node']);
  });

  test("node is at a fixed path, whatever the host's, and runs with a tmpfs over /tmp (a checkout under /tmp)", async () => {
    const { id } = await engine.containers.create({
      image: suite.image,
      cmd: ['node', '-p', 'process.execPath'],
      labels: TEST_LABELS,
      tmpfs: { '/tmp': 'rw,noexec,nosuid,size=8m' },
      readonlyRootfs: true,
    });
    await engine.containers.start(id);
    const { statusCode } = await engine.containers.wait(id);
    const logs = await engine.containers.logsText(id);
    await engine.containers.remove(id);
    assert.equal(statusCode, 0, logs.stderr);
    assert.equal(logs.stdout.trim(), IMAGE_NODE_PATH);
  });

  test('runs the same node, with a non-root user, /etc files and a sticky /tmp', async () => {
    const script = [
      "const fs = require('fs'), os = require('os');",
      // The home directory the image's /etc/passwd gives the app user: it must exist and be theirs.
      'const home = os.userInfo().homedir, at = fs.statSync(home);',
      "const passwd = fs.readFileSync('/etc/passwd', 'utf8').split('\\n').find((l) => l.startsWith('app:')).split(':')[5];",
      'console.log(JSON.stringify({ version: process.version, user: os.userInfo().username, tmp: (fs.statSync("/tmp").mode & 0o7777).toString(8), home: home === passwd && home !== "/" && at.isDirectory() && at.uid === os.userInfo().uid }));',
    ].join('');
    const result = await run(['node', '-e', script], { user: `${APP_UID}` });
    assert.equal(result.statusCode, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), {
      version: process.version,
      user: 'app',
      tmp: '1777',
      home: true,
    });
  });

  test('Node 24 with its built-in SQLite, the storage the app uses without MySQL', async () => {
    const script =
      "const { DatabaseSync } = require('node:sqlite'); const db = new DatabaseSync('/tmp/probe.sqlite'); console.log(process.versions.node.split('.')[0], db.prepare('select 40 + 2 as n').get().n)";
    const result = await run(['node', '-e', script], { user: `${APP_UID}` });
    assert.equal(result.statusCode, 0, result.stderr);
    assert.equal(result.stdout, '24 42\n');
  });
});
