// The embedded store holds password hashes and session keys (hostile-clients finding 10): its
// directory is the service user's alone (0700) and its files 0600, whatever the umask and
// however the directory was made before.
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { addUser } from './support/data.ts';
import { api } from './support/client.ts';
import { startUsers } from './support/services.ts';

test('a data directory made 0755 by someone else: 0700 after start, the database and its WAL 0600', async (t) => {
  const dataDir = path.join(await mkdtemp(path.join(tmpdir(), 'sa-perms-')), 'data');
  t.after(() => rm(path.dirname(dataDir), { recursive: true, force: true }));
  const { mkdir } = await import('node:fs/promises');
  await mkdir(dataDir, { mode: 0o755 });
  await chmod(dataDir, 0o755);
  const old = process.umask(0o022);
  try {
    const users = await startUsers({ dataDir, databaseUrl: undefined });
    t.after(() => users.close());
    await addUser(api(users.url), 'pat');
    assert.equal((await stat(dataDir)).mode & 0o777, 0o700);
    for (const file of ['users.sqlite', 'users.sqlite-wal']) {
      assert.equal((await stat(path.join(dataDir, file))).mode & 0o777, 0o600, file);
    }
  } finally {
    process.umask(old);
  }
});
