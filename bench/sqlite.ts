// node:sqlite (what the app uses) against better-sqlite3 (what it used before), both behind the
// same Kysely dialect and the app's own stores, on the app's queries: uploads with their image
// parts, listings of 20 acts with images, upvotes, health probes, counts. Two rounds each,
// interleaved, on a fresh file per run; printed as node:sqlite / better-sqlite3 ratios.
//
//   npm i --no-save better-sqlite3 && npx tsx bench/sqlite.ts [--acts 1500]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Kysely, type SqliteDatabase } from 'kysely';
import { ActsStore } from '../app/acts/acts-store.ts';
import { CategoriesStore } from '../app/acts/categories-store.ts';
import { migrateStorage } from '../app/db/migrate.ts';
import { actsMigrations } from '../app/db/migrations/acts.ts';
import { NodeSqliteDatabase } from '../app/db/node-sqlite.ts';
import type { ActsSchema } from '../app/db/schema.ts';
import { SharedFileSqliteDialect } from '../app/db/sqlite-dialect.ts';

const { values } = parseArgs({ options: { acts: { type: 'string', default: '1500' } } });
const ACTS = Number(values.acts);
const LISTINGS = ACTS;
const UPVOTES = ACTS * 2;
const PROBES = ACTS;
const IMAGE = Buffer.alloc(4096, 7);

type Opener = (file: string) => SqliteDatabase & { exec(sql: string): unknown };

const drivers: Record<string, Opener | undefined> = {
  'node:sqlite': (file) => new NodeSqliteDatabase(file, { busyTimeoutMs: 5000 }),
  'better-sqlite3': await import('better-sqlite3' as string).then(
    (m: { default: new (file: string, o: { timeout: number }) => SqliteDatabase & { exec(sql: string): unknown } }) =>
      (file: string) => new m.default(file, { timeout: 5000 }),
    () => undefined,
  ),
};

type Figures = Record<string, number>;

/** Operations per second for each kind of query, on a fresh database file. */
async function run(open: Opener): Promise<Figures> {
  const dir = await mkdtemp(path.join(tmpdir(), 'selflessacts-bench-sqlite-'));
  const database = open(path.join(dir, 'acts.sqlite'));
  database.exec('PRAGMA journal_mode = WAL');
  database.exec('PRAGMA synchronous = NORMAL');
  const db = new Kysely<ActsSchema>({ dialect: new SharedFileSqliteDialect({ database }) });
  try {
    await migrateStorage(db, 'sqlite', 'acts', actsMigrations);
    const acts = new ActsStore(db);
    const categories = new CategoriesStore(db);
    await categories.create('bench');
    const figures: Figures = {};
    const time = async (name: string, count: number, op: (i: number) => Promise<unknown>) => {
      const started = performance.now();
      for (let i = 0; i < count; i++) await op(i);
      figures[name] = count / ((performance.now() - started) / 1000);
    };
    const categoryId = (await categories.idOf('bench'))!;
    await time('upload', ACTS, (i) =>
      acts.insert({
        actId: String(i + 1),
        username: `user${i % 50}`,
        timestamp: '30-11-2026:00-00-12',
        sortKey: `2026113012${String(i % 60).padStart(2, '0')}00`,
        caption: `act ${i}`,
        categoryName: 'bench',
        image: IMAGE,
      }),
    );
    await time('list 20', LISTINGS, (i) => acts.list({ categoryId }, (i * 20) % Math.max(1, ACTS - 20), 20));
    await time('upvote', UPVOTES, (i) => acts.upvote(String((i % ACTS) + 1)));
    await time('health probe', PROBES, () => acts.probe());
    await time('count', PROBES, () => acts.count({ categoryId }));
    return figures;
  } finally {
    await db.destroy();
    await rm(dir, { recursive: true, force: true });
  }
}

const available = Object.entries(drivers).filter((entry): entry is [string, Opener] => entry[1] !== undefined);
if (available.length < 2) {
  console.log('better-sqlite3 is not installed: `npm i --no-save better-sqlite3` to compare (node:sqlite alone below)');
}
const rounds: Record<string, Figures[]> = {};
for (let round = 0; round < 2; round++) {
  for (const [name, open] of available) (rounds[name] ??= []).push(await run(open));
}
const best = (name: string, op: string) => Math.max(...rounds[name]!.map((f) => f[op]!));
const ops = Object.keys(rounds['node:sqlite']![0]!);
console.log(`SQLite drivers behind Kysely, the app's stores, ${ACTS} acts of 4 KiB, best of 2 interleaved rounds (ops/s)`);
for (const op of ops) {
  const cells = available.map(([name]) => `${name} ${Math.round(best(name, op))}`);
  const ratio = available.length === 2 ? `  ratio node:sqlite/better-sqlite3 ${(best('node:sqlite', op) / best('better-sqlite3', op)).toFixed(2)}` : '';
  console.log(`${op.padEnd(13)} ${cells.join(', ')}${ratio}`);
}
