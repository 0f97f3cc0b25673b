// node:sqlite (what the app uses) against better-sqlite3 (what it used before), both behind the
// same Kysely dialect and the app's own stores, on the app's queries: uploads with their image
// parts, listings of 20 acts with images, upvotes, health probes, counts. Rounds interleave the
// drivers, each on a fresh file; operations per second and CPU µs per operation (this process,
// /proc/PID/stat), medians, and node:sqlite / better-sqlite3 ratios.
//
//   npm i --no-save better-sqlite3 && npm run bench:sqlite -- [--acts 1500] [--rounds 2]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Kysely, type SqliteDatabase } from 'kysely';
import { ActsStore } from '../app/acts/acts-store.ts';
import { CategoriesStore } from '../app/acts/categories-store.ts';
import { UpvotesStore } from '../app/acts/upvotes-store.ts';
import { accountKey } from '../app/db/keys.ts';
import { migrateStorage } from '../app/db/migrate.ts';
import { actsMigrations } from '../app/db/migrations/acts.ts';
import { NodeSqliteDatabase } from '../app/db/node-sqlite.ts';
import type { ActsSchema } from '../app/db/schema.ts';
import { SharedFileSqliteDialect } from '../app/db/sqlite-dialect.ts';
import { cpuMicros } from './cpu.ts';
import { ResultRecorder } from './results.ts';
import { median } from './stats.ts';

const { values } = parseArgs({
  options: { acts: { type: 'string', default: '1500' }, rounds: { type: 'string', default: '2' } },
});
const ACTS = Math.min(100_000, Number(values.acts));
const ROUNDS = Math.max(2, Math.min(10, Number(values.rounds)));
const LISTINGS = ACTS;
const UPVOTES = ACTS * 2;
const PROBES = ACTS;
const IMAGE = Buffer.alloc(4096, 7);

type Opener = (file: string) => SqliteDatabase & { exec(sql: string): unknown };

const drivers: Record<string, Opener | undefined> = {
  'node:sqlite': (file) => new NodeSqliteDatabase(file, { busyTimeoutMs: 5000 }),
  'better-sqlite3': await import('better-sqlite3' as string).then(
    (m: { default: new (file: string, o: { timeout: number }) => SqliteDatabase & { exec(sql: string): unknown } }) =>
      (file: string) =>
        new m.default(file, { timeout: 5000 }),
    () => undefined,
  ),
};

/** Per kind of query: operations per second and CPU µs per operation. */
type Figures = Record<string, { opsPerSecond: number; cpuUsPerOp: number }>;

/** Each kind of query, timed on a fresh database file. */
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
      const cpuBefore = cpuMicros(process.pid)!;
      for (let i = 0; i < count; i++) await op(i);
      figures[name] = {
        opsPerSecond: count / ((performance.now() - started) / 1000),
        cpuUsPerOp: (cpuMicros(process.pid)! - cpuBefore) / count,
      };
    };
    const categoryId = (await categories.idOf('bench'))!;
    await time('upload', ACTS, (i) =>
      acts.insert({
        actId: String(i + 1),
        username: `user${i % 50}`,
        ownerKey: accountKey(`user${i % 50}`, 0),
        timestamp: '30-11-2026:00-00-12',
        sortKey: `2026113012${String(i % 60).padStart(2, '0')}00`,
        caption: `act ${i}`,
        categoryName: 'bench',
        image: IMAGE,
      }),
    );
    await time('list 20', LISTINGS, (i) => acts.list({ categoryId }, (i * 20) % Math.max(1, ACTS - 20), 20));
    const upvotes = new UpvotesStore(db);
    await time('upvote', UPVOTES, (i) => upvotes.addAnonymous(String((i % ACTS) + 1)));
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
const recorder = new ResultRecorder('sqlite', 'node:sqlite against better-sqlite3', {
  'better-sqlite3': available.length === 2 ? 'installed' : 'absent (node:sqlite alone)',
});
const rounds: Record<string, Figures[]> = {};
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 ? [...available].reverse() : available;
  for (const [name, open] of order) (rounds[name] ??= []).push(await run(open));
}
const med = (name: string, op: string, key: 'opsPerSecond' | 'cpuUsPerOp') =>
  median(rounds[name]!.map((f) => f[op]![key]));
const ops = Object.keys(rounds['node:sqlite']![0]!);
const compare = available.length === 2;
const ratio = (op: string, key: 'opsPerSecond' | 'cpuUsPerOp') =>
  (med('node:sqlite', op, key) / med('better-sqlite3', op, key)).toFixed(2);
const rows = ops.map((op) => [
  op,
  ...available.flatMap(([name]) => [
    String(Math.round(med(name, op, 'opsPerSecond'))),
    med(name, op, 'cpuUsPerOp').toFixed(0),
  ]),
  ...(compare ? [ratio(op, 'opsPerSecond'), ratio(op, 'cpuUsPerOp')] : []),
]);
const columns = [
  'query',
  ...available.flatMap(([name]) => [`${name} ops/s`, `${name} CPU µs/op`]),
  ...(compare ? ['ops/s ratio node:sqlite / better-sqlite3', 'CPU ratio'] : []),
];
const caption = `The app's stores behind Kysely, ${ACTS} acts of 4 KiB, median of ${ROUNDS} interleaved rounds`;
console.log(caption);
for (const row of rows) console.log(row.join('  '));
await recorder.write({
  summary: compare
    ? [
        {
          figure: 'node:sqlite / better-sqlite3, operations per second (app queries)',
          value: ops.map((op) => `${op} ${ratio(op, 'opsPerSecond')}`).join(', '),
        },
      ]
    : [
        {
          figure: 'node:sqlite operations per second (app queries)',
          value: ops.map((op) => `${op} ${Math.round(med('node:sqlite', op, 'opsPerSecond'))}`).join(', '),
        },
      ],
  tables: [{ caption, columns, rows }],
  figures: { acts: ACTS, rounds },
});
