// docs/operations.md, "Back up the database": the commands are read from the guide itself and
// run (paths and the database name swapped for the test's, `sudo` dropped) against a running
// app that keeps writing, then the backup is restored and read back through the API. SQLite:
// the files are in WAL mode, a copy of the main file alone misses recent writes (the guide's
// warning), the online backup (sqlite3 CLI and Node's node:sqlite) does not. MariaDB: the dump
// taken while the app runs restores to exactly what was there at dump time.
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, test } from 'node:test';
import { spawnApp, type AppProcess } from '../app/support/app-process.ts';
import { createMysqlDatabase } from '../app/support/backends.ts';
import { mysqlAvailable, skipUnless } from '../helpers/requirements.ts';
import { repoRoot, rootAvailable, run, toolAvailable } from './exec.ts';

const SECRET = 'backups-test-secret-0123456789abcdef';

/** The shell commands of the guide's backup section, one per line, comments dropped. */
async function guideCommands(): Promise<string[]> {
  const doc = await readFile(path.join(repoRoot, 'docs/operations.md'), 'utf8');
  const start = doc.indexOf('## Back up the database');
  const section = doc.slice(start, doc.indexOf('\n## ', start + 1));
  const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
  return blocks
    .flatMap((b) => b.split('\n'))
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

function commandStarting(commands: string[], prefix: string): string {
  const found = commands.find((c) => c.startsWith(prefix));
  assert.ok(found, `docs/operations.md has no command starting with "${prefix}"`);
  return found.replace(/^sudo /, '').replaceAll('| sudo ', '| ');
}

/** Runs a guide command in `cwd` (a temp dir: a command that writes where it stands stays there). */
async function sh(command: string, cwd = tmpdir()): Promise<void> {
  const result = await run('bash', ['-o', 'pipefail', '-c', command], { cwd, timeoutMs: 60_000 });
  assert.equal(result.code, 0, `${command}\n${result.output}`);
}

async function startApp(env: Record<string, string>): Promise<{ app: AppProcess; url: string }> {
  const app = spawnApp({
    SERVICE: 'all',
    PORT: '0',
    HOST: '127.0.0.1',
    SESSION_SECRET: SECRET,
    API_ACCESS: 'open',
    ...env,
  });
  return { app, url: await app.started };
}

async function addCategory(url: string, name: string): Promise<void> {
  const res = await fetch(`${url}/api/v1/categories`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify([name]),
  });
  assert.equal(res.status, 201, await res.text());
}

async function categories(url: string): Promise<string[]> {
  const res = await fetch(`${url}/api/v1/categories`);
  return res.status === 204 ? [] : Object.keys((await res.json()) as Record<string, number>).sort();
}

function countIn(file: string): number {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    assert.equal((db.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check, 'ok');
    return Number((db.prepare('select count(*) as n from categories').get() as { n: number }).n);
  } finally {
    db.close();
  }
}

/** Writes categories `<prefix>-0`, `<prefix>-1`... one after another until stopped. */
function keepWriting(url: string, prefix: string): { stop(): Promise<number> } {
  let stopped = false;
  let n = 0;
  const loop = (async () => {
    while (!stopped && n < 5000) await addCategory(url, `${prefix}-${n++}`);
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return n;
    },
  };
}

const sqliteSkip = skipUnless(await toolAvailable('sqlite3', 'apt-get install sqlite3'), 'sqlite3');

describe('SQLite backup as docs/operations.md says (WAL, online backup, restore)', { skip: sqliteSkip }, () => {
  let dir = '';
  let replicas = '';
  let running: AppProcess | undefined;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'sa-backups-'));
    replicas = path.join(dir, 'replicas');
  });
  after(async () => {
    await running?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('online backups taken while the app writes hold every committed row; the copy restores', async () => {
    const commands = await guideCommands();
    // The acts service's own directory, as the supervisor gives it.
    const { app, url } = await startApp({ DATA_DIR: path.join(replicas, 'acts') });
    running = app;
    for (let i = 0; i < 50; i++) await addCategory(url, `before-${i}`);
    const live = path.join(replicas, 'acts', 'acts.sqlite');
    assert.ok((await stat(`${live}-wal`)).size > 0, 'the app writes through a WAL');

    // The guide's warning: the main file alone lacks what is still in the WAL.
    const plainCopy = path.join(dir, 'plain-copy.sqlite');
    await copyFile(live, plainCopy);
    const inPlainCopy = (() => {
      try {
        return countIn(plainCopy);
      } catch {
        return 0; // not even a readable database without its WAL
      }
    })();
    assert.ok(inPlainCopy < 50, `a plain copy of the file had all ${inPlainCopy} rows: the WAL warning would be moot`);

    const writer = keepWriting(url, 'during');
    const targets = { cli: path.join(dir, 'acts-cli.sqlite'), node: path.join(dir, 'acts-node.sqlite') };
    const swap = (command: string, target: string) =>
      command
        .replaceAll('/var/lib/selflessacts/replicas/', `${replicas}/`)
        .replaceAll('/var/backups/acts.sqlite', target);
    await sh(swap(commandStarting(commands, 'sudo sqlite3 '), targets.cli));
    await sh(
      swap(commandStarting(commands, 'sudo node -e '), targets.node).replace(/^node /, `'${process.execPath}' `),
    );
    const written = await writer.stop();
    for (const [tool, file] of Object.entries(targets)) {
      const rows = countIn(file);
      // 50 before the backups, and what was committed while they ran: nothing lost or torn.
      assert.ok(rows >= 50 && rows <= 50 + written, `${tool} backup has ${rows} rows (50 before, ${written} during)`);
    }

    // Restore as the guide says: stop, drop the old WAL, copy over the file, start.
    const backedUp = countIn(targets.node);
    assert.deepEqual(await app.stop(), { code: 0, signal: null });
    await sh(
      swap(commandStarting(commands, 'sudo rm -f /var/lib/selflessacts/replicas/acts/acts.sqlite-wal'), targets.node),
    );
    await sh(swap(commandStarting(commands, 'sudo cp /var/backups/acts.sqlite '), targets.node));
    const restored = await startApp({ DATA_DIR: path.join(replicas, 'acts') });
    running = restored.app;
    const names = await categories(restored.url);
    assert.equal(names.length, backedUp);
    assert.ok(names.includes('before-49'));
  });
});

const mariadbSkip =
  skipUnless(await mysqlAvailable(), 'MariaDB') ||
  skipUnless(rootAvailable(), 'root (mariadb-dump as in the guide, over the local socket)') ||
  skipUnless(await toolAvailable('mariadb-dump', 'apt-get install mariadb-client'), 'mariadb-dump');

describe('MariaDB backup as docs/operations.md says (dump while running, restore)', { skip: mariadbSkip }, () => {
  let dir = '';
  let database: Awaited<ReturnType<typeof createMysqlDatabase>> | undefined;
  let running: AppProcess | undefined;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'sa-backups-'));
  });
  after(async () => {
    await running?.stop();
    await database?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  test('a dump taken while the app runs restores exactly what was there at dump time', async () => {
    const commands = await guideCommands();
    database = await createMysqlDatabase();
    const { app, url } = await startApp({ DATABASE_URL: database.url });
    running = app;
    for (let i = 0; i < 30; i++) await addCategory(url, `before-${i}`);
    const dump = path.join(dir, 'dump.sql.gz');
    const named = (command: string) => command.replaceAll('--databases selflessacts', `--databases ${database!.name}`);
    const dumpCommand = named(commandStarting(commands, 'sudo mariadb-dump '));
    assert.match(dumpCommand, /> selflessacts-.*\.sql\.gz$/, 'the guide writes the dump to selflessacts-DATE.sql.gz');
    await sh(dumpCommand.replace(/> selflessacts-.*\.sql\.gz$/, `> '${dump}'`));
    const atDump = await categories(url);
    for (let i = 0; i < 5; i++) await addCategory(url, `after-${i}`);
    assert.equal((await categories(url)).length, atDump.length + 5);

    await sh(commandStarting(commands, 'gunzip -c ').replace(/^gunzip -c \S+/, `gunzip -c '${dump}'`));
    assert.deepEqual(await categories(url), atDump, 'the restored database is the one at dump time');
  });
});
