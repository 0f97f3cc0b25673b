// Driver errors classified once, by code: mysql2 sets `code` (and `fatal` for a lost
// connection); node:sqlite's errors get the SQLite result code's name in `code` (node-sqlite.ts).

const UNAVAILABLE_CODES = new Set([
  // network, from mysql2's socket
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EPIPE',
  'EAI_AGAIN',
  // mysql2 / server
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_CON_COUNT_ERROR',
  'ER_ACCESS_DENIED_ERROR',
  'ER_DBACCESS_DENIED_ERROR',
  'ER_BAD_DB_ERROR',
  'ER_SERVER_SHUTDOWN',
  'ER_LOCK_WAIT_TIMEOUT',
  'ER_LOCK_DEADLOCK',
  'ER_QUERY_INTERRUPTED',
  'ER_CONNECTION_KILLED',
  'ER_TOO_MANY_USER_CONNECTIONS',
  'ER_OPTION_PREVENTS_STATEMENT',
  // SQLite
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_CANTOPEN',
  'SQLITE_FULL',
  'SQLITE_READONLY',
  'SQLITE_IOERR',
  'SQLITE_NOTADB',
  'SQLITE_CORRUPT',
  'SQLITE_PROTOCOL',
  'SQLITE_NOLFS',
  'SQLITE_AUTH',
  'SQLITE_PERM',
]);

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function isUniqueViolation(err: unknown): boolean {
  const code = codeOf(err);
  return code === 'ER_DUP_ENTRY' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** InnoDB chose this transaction to roll back; retrying it is safe. */
export function isDeadlock(err: unknown): boolean {
  return codeOf(err) === 'ER_LOCK_DEADLOCK';
}

/** MySQL refused a statement larger than its max_allowed_packet: the client sent too much. */
export function isTooLargeForDatabase(err: unknown): boolean {
  return codeOf(err) === 'ER_NET_PACKET_TOO_LARGE';
}

/** The database is down, unreachable or refusing work for now: the client may retry (503). */
export function isDatabaseUnavailable(err: unknown): boolean {
  if ((err as { fatal?: unknown } | null)?.fatal === true) return true;
  const code = codeOf(err);
  if (code === undefined) {
    // mysql2 reports a query on a connection it already knows is closed without a code.
    return /closed state|Pool is closed|connection is in closed state/i.test((err as Error | null)?.message ?? '');
  }
  // SQLite extended codes (SQLITE_BUSY_SNAPSHOT, SQLITE_IOERR_WRITE, ...) share the base prefix.
  const base = code.startsWith('SQLITE_') ? code.replace(/^(SQLITE_[A-Z]+)_.*$/, '$1') : code;
  return UNAVAILABLE_CODES.has(base);
}
