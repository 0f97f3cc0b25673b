// Node's built-in SQLite (node:sqlite) in the shape Kysely's SQLite driver expects: the
// better-sqlite3 interface, of which Kysely uses prepare(), a statement's `reader` flag and
// all/run/iterate with the parameters as one array. Built in, so the storage needs no native
// module: nothing compiles at `npm ci`, and nothing breaks when the Node ABI changes.
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

/** SQLite's primary result codes by number, so callers can branch on `SQLITE_*` names. */
const PRIMARY_CODES: Record<number, string> = {
  2: 'SQLITE_INTERNAL',
  3: 'SQLITE_PERM',
  4: 'SQLITE_ABORT',
  5: 'SQLITE_BUSY',
  6: 'SQLITE_LOCKED',
  7: 'SQLITE_NOMEM',
  8: 'SQLITE_READONLY',
  9: 'SQLITE_INTERRUPT',
  10: 'SQLITE_IOERR',
  11: 'SQLITE_CORRUPT',
  13: 'SQLITE_FULL',
  14: 'SQLITE_CANTOPEN',
  15: 'SQLITE_PROTOCOL',
  17: 'SQLITE_SCHEMA',
  18: 'SQLITE_TOOBIG',
  19: 'SQLITE_CONSTRAINT',
  20: 'SQLITE_MISMATCH',
  21: 'SQLITE_MISUSE',
  22: 'SQLITE_NOLFS',
  23: 'SQLITE_AUTH',
  26: 'SQLITE_NOTADB',
};

/** The extended codes the app branches on (primary code + 256 × n). */
const EXTENDED_CODES: Record<number, string> = {
  1555: 'SQLITE_CONSTRAINT_PRIMARYKEY',
  2067: 'SQLITE_CONSTRAINT_UNIQUE',
  517: 'SQLITE_BUSY_SNAPSHOT',
  261: 'SQLITE_BUSY_RECOVERY',
};

/**
 * node:sqlite reports every failure as code ERR_SQLITE_ERROR with the number in `errcode`;
 * give it the `SQLITE_*` name (extended where the app needs it) that db/errors.ts reads.
 */
export function withSqliteCode(err: unknown): unknown {
  const errcode = (err as { errcode?: unknown } | null)?.errcode;
  if (typeof errcode !== 'number') return err;
  const name = EXTENDED_CODES[errcode] ?? PRIMARY_CODES[errcode & 0xff];
  if (name !== undefined) Object.assign(err as object, { code: name });
  return err;
}

function guarded<T>(call: () => T): T {
  try {
    return call();
  } catch (err) {
    throw withSqliteCode(err);
  }
}

class Statement implements SqliteStatement {
  readonly reader: boolean;
  readonly #statement: StatementSync;

  constructor(statement: StatementSync) {
    this.#statement = statement;
    this.reader = statement.columns().length > 0;
  }

  all(parameters: ReadonlyArray<unknown>): unknown[] {
    return guarded(() => this.#statement.all(...(parameters as SQLInputValue[])));
  }

  run(parameters: ReadonlyArray<unknown>): { changes: number | bigint; lastInsertRowid: number | bigint } {
    return guarded(() => this.#statement.run(...(parameters as SQLInputValue[])));
  }

  iterate(parameters: ReadonlyArray<unknown>): IterableIterator<unknown> {
    return guarded(() => this.#statement.iterate(...(parameters as SQLInputValue[])));
  }
}

export class NodeSqliteDatabase implements SqliteDatabase {
  readonly #database: DatabaseSync;

  constructor(file: string, options: { busyTimeoutMs: number }) {
    this.#database = guarded(() => new DatabaseSync(file, { timeout: options.busyTimeoutMs }));
  }

  /** Runs SQL with no result, e.g. a PRAGMA. */
  exec(sql: string): void {
    guarded(() => this.#database.exec(sql));
  }

  prepare(sql: string): SqliteStatement {
    return guarded(() => new Statement(this.#database.prepare(sql)));
  }

  close(): void {
    if (this.#database.isOpen) this.#database.close();
  }
}
