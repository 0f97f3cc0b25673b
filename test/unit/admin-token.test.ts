// The generated admin token: made once, 0600, reused across restarts; a configured one wins.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { adminTokenFile, ensureAdminToken, readAdminToken } from '../../supervisor/admin/token.ts';

describe('the admin token', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'sa-admin-token-'));
  after(() => rm(dir, { recursive: true, force: true }));

  test('none configured: generated into the data directory with mode 600, the same on the next start', async () => {
    const dataDir = path.join(dir, 'a', 'data');
    const token = ensureAdminToken(dataDir, '');
    assert.match(token, /^[A-Za-z0-9_-]{43}$/);
    assert.equal((await stat(adminTokenFile(dataDir))).mode & 0o777, 0o600);
    assert.equal(ensureAdminToken(dataDir, ''), token);
    assert.equal(readAdminToken(dataDir), token);
  });

  test('a configured token wins and nothing is written', async () => {
    const dataDir = path.join(dir, 'b');
    assert.equal(ensureAdminToken(dataDir, 's3cret'), 's3cret');
    assert.equal(readAdminToken(dataDir), undefined);
  });

  test('a loosened file is tightened again; a too-short one is replaced', async () => {
    const dataDir = path.join(dir, 'c');
    const token = ensureAdminToken(dataDir, '');
    await chmod(adminTokenFile(dataDir), 0o644);
    assert.equal(ensureAdminToken(dataDir, ''), token);
    assert.equal((await stat(adminTokenFile(dataDir))).mode & 0o777, 0o600);
    await writeFile(adminTokenFile(dataDir), 'short\n');
    const fresh = ensureAdminToken(dataDir, '');
    assert.notEqual(fresh, 'short');
    assert.equal((await readFile(adminTokenFile(dataDir), 'utf8')).trim(), fresh);
  });
});
