// Per-service data directories and secret files (runtime/replica-files.ts), on a temp dir.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { separateServiceData, writeSecretFiles } from '../../supervisor/runtime/replica-files.ts';

describe('replica files', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'sa-replica-files-'));
  after(() => rm(dir, { recursive: true, force: true }));

  test("an installation from before (one shared directory): each service's files move into its own, once", async () => {
    const replicas = path.join(dir, 'replicas');
    await mkdir(replicas);
    for (const f of ['users.sqlite', 'users.sqlite-wal', 'acts.sqlite', 'acts.sqlite-shm', 'notes.txt'])
      await writeFile(path.join(replicas, f), f);
    const moved = separateServiceData(replicas, ['users', 'acts']);
    assert.equal(moved.length, 4);
    assert.deepEqual((await readdir(replicas)).sort(), ['acts', 'notes.txt', 'users']);
    assert.deepEqual((await readdir(path.join(replicas, 'users'))).sort(), ['users.sqlite', 'users.sqlite-wal']);
    assert.equal(await readFile(path.join(replicas, 'acts', 'acts.sqlite'), 'utf8'), 'acts.sqlite');
    // A file already in place is never overwritten by a stray one left at the top.
    await writeFile(path.join(replicas, 'users.sqlite'), 'stray');
    assert.deepEqual(separateServiceData(replicas, ['users', 'acts']), []);
    assert.equal(await readFile(path.join(replicas, 'users', 'users.sqlite'), 'utf8'), 'users.sqlite');
  });

  test('secrets: one file each, mode 400 in a 700 directory, named by <VARIABLE>_FILE; rewritten in place', async () => {
    const secrets = path.join(dir, 'replica-secrets', 'users');
    const env = writeSecretFiles(secrets, { SESSION_SECRET: 's'.repeat(40) }, '/run/secrets');
    assert.deepEqual(env, { SESSION_SECRET_FILE: '/run/secrets/SESSION_SECRET' });
    assert.equal((await stat(path.join(secrets, 'SESSION_SECRET'))).mode & 0o777, 0o400);
    assert.equal((await stat(secrets)).mode & 0o777, 0o700);
    writeSecretFiles(secrets, { SESSION_SECRET: 't'.repeat(40) }, secrets);
    assert.equal(await readFile(path.join(secrets, 'SESSION_SECRET'), 'utf8'), 't'.repeat(40));
    assert.deepEqual(await readdir(secrets), ['SESSION_SECRET'], 'nothing left aside');
  });
});
