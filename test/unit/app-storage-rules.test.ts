// Pure storage rules: passwords, lookup keys, and how driver errors are classified.
import assert from 'node:assert/strict';
import { scryptSync } from 'node:crypto';
import { describe, test } from 'node:test';
import { isDatabaseUnavailable, isTooLargeForDatabase, isUniqueViolation } from '../../app/db/errors.ts';
import { keyOf } from '../../app/db/keys.ts';
import { hashPassword, isSha1Hex, needsRehash, verifyPassword } from '../../app/users/passwords.ts';

const SHA1 = 'a94a8fe5ccb19ba61c4c0873d391e987982fbbd3';

describe('passwords', () => {
  test("a salted argon2id hash at OWASP's cost (12 MiB, 3 passes): never the input, different each time", async () => {
    const [a, b] = [await hashPassword(SHA1), await hashPassword(SHA1)];
    assert.match(a, /^\$argon2id\$v=19\$m=12288,t=3,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    assert.ok(!a.includes(SHA1));
    assert.notEqual(a, b);
    assert.equal(needsRehash(a), false);
  });

  test('a hash made before (scrypt N=2^14) still verifies, and asks to be replaced', async () => {
    // Made by the previous hashPassword: scrypt(sha1, salt, 32, {N: 16384, r: 8, p: 1}).
    const salt = Buffer.alloc(16, 7);
    const key = scryptSync(SHA1, salt, 32, { N: 16384, r: 8, p: 1 });
    const old = ['scrypt', 16384, 8, 1, salt.toString('base64'), key.toString('base64')].join('$');
    assert.equal(await verifyPassword(SHA1, old), true);
    assert.equal(await verifyPassword(SHA1.replace('a', 'b'), old), false);
    assert.equal(needsRehash(old), true);
    assert.equal(
      needsRehash('$argon2id$v=19$m=4096,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaA'),
      true,
      'a cheaper argon2id too',
    );
  });

  test('a damaged argon2id hash never verifies and never asks for gigabytes', async () => {
    assert.equal(await verifyPassword(SHA1, '$argon2id$v=19$m=99999999,t=3,p=1$c2FsdA$a2V5'), false);
    assert.equal(await verifyPassword(SHA1, '$argon2id$v=16$m=12288,t=3,p=1$c2FsdA$a2V5'), false);
    assert.equal(await verifyPassword(SHA1, '$argon2id$v=19$m=12288,t=3,p=1$$'), false);
  });

  test('verifies the same SHA1 in either case; rejects another', async () => {
    const stored = await hashPassword(SHA1.toUpperCase());
    assert.equal(await verifyPassword(SHA1, stored), true);
    assert.equal(await verifyPassword(SHA1.toUpperCase(), stored), true);
    assert.equal(await verifyPassword(SHA1.replace('a', 'b'), stored), false);
  });

  test('a stored value in an unknown scheme never verifies', async () => {
    assert.equal(await verifyPassword(SHA1, SHA1), false);
    assert.equal(await verifyPassword(SHA1, 'bcrypt$x$y'), false);
  });

  const shapes: [string, unknown, boolean][] = [
    ['40 lower-case hex digits', SHA1, true],
    ['40 upper-case hex digits', SHA1.toUpperCase(), true],
    ['39 digits', SHA1.slice(1), false],
    ['41 digits', `${SHA1}0`, false],
    ['a non-hex letter', `g${SHA1.slice(1)}`, false],
    ['a trailing newline', `${SHA1}\n`, false],
    ['a number', 1234, false],
  ];
  for (const [name, value, ok] of shapes) test(`isSha1Hex: ${name} → ${ok}`, () => assert.equal(isSha1Hex(value), ok));
});

describe('keyOf', () => {
  test('case-sensitive, exact, fixed length for any input', () => {
    assert.notEqual(keyOf('alice'), keyOf('Alice'));
    assert.equal(keyOf('x'.repeat(100_000)).length, 64);
    assert.equal(keyOf('ünï'), keyOf('ünï'));
  });
});

describe('driver errors', () => {
  const error = (fields: Record<string, unknown>, message = 'failed') => Object.assign(new Error(message), fields);
  const unavailable: [string, unknown, boolean][] = [
    ['mysql2: connection refused', error({ code: 'ECONNREFUSED' }), true],
    ['mysql2: a fatal error of any code', error({ code: 'SOMETHING', fatal: true }), true],
    ['mysql2: connection lost', error({ code: 'PROTOCOL_CONNECTION_LOST' }), true],
    ['mysql2: unknown database', error({ code: 'ER_BAD_DB_ERROR' }), true],
    ['mysql2: a closed connection', error({}, "Can't add new command when connection is in closed state"), true],
    ['SQLite: busy', error({ code: 'SQLITE_BUSY' }), true],
    ['SQLite: busy snapshot (extended code)', error({ code: 'SQLITE_BUSY_SNAPSHOT' }), true],
    ['SQLite: disk I/O error', error({ code: 'SQLITE_IOERR_WRITE' }), true],
    ['SQLite: read-only file', error({ code: 'SQLITE_READONLY' }), true],
    ['a unique violation is not an outage', error({ code: 'ER_DUP_ENTRY' }), false],
    ['a SQL syntax error is a bug, not an outage', error({ code: 'ER_PARSE_ERROR' }), false],
    ['SQLite: a constraint is not an outage', error({ code: 'SQLITE_CONSTRAINT_UNIQUE' }), false],
    ['a plain error', new Error('oops'), false],
    ['not an error at all', 'oops', false],
  ];
  for (const [name, err, expected] of unavailable)
    test(`isDatabaseUnavailable: ${name} → ${expected}`, () => assert.equal(isDatabaseUnavailable(err), expected));

  const unique: [string, unknown, boolean][] = [
    ['MySQL duplicate entry', error({ code: 'ER_DUP_ENTRY' }), true],
    ['SQLite unique constraint', error({ code: 'SQLITE_CONSTRAINT_UNIQUE' }), true],
    ['SQLite primary key', error({ code: 'SQLITE_CONSTRAINT_PRIMARYKEY' }), true],
    ['SQLite not null', error({ code: 'SQLITE_CONSTRAINT_NOTNULL' }), false],
  ];
  for (const [name, err, expected] of unique)
    test(`isUniqueViolation: ${name} → ${expected}`, () => assert.equal(isUniqueViolation(err), expected));

  test('a statement over max_allowed_packet is the client’s excess (413), not an outage', () => {
    const err = error({ code: 'ER_NET_PACKET_TOO_LARGE', fatal: true });
    assert.equal(isTooLargeForDatabase(err), true);
    assert.equal(isTooLargeForDatabase(error({ code: 'ECONNREFUSED' })), false);
  });
});
