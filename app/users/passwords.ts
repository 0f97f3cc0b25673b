// Passwords arrive as the SHA1 hex the client computed. That value is itself a password
// equivalent, so it is stored only as a salted slow hash and compared in constant time.
// New hashes are argon2id at one of OWASP's recommended costs (12 MiB, 3 passes, 1 lane:
// Node 24's crypto.argon2, on the libuv pool, so at most its 4 threads' worth of memory at
// once). Hashes made before (scrypt N=2^14) still verify, and are replaced by an argon2id one
// at the user's next log-in (needsRehash).
import { argon2, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const SHA1_HEX = /^[0-9a-fA-F]{40}$/;
const ARGON2 = { memory: 12_288, passes: 3, parallelism: 1 } as const;
const KEY_LENGTH = 32;
const SALT_LENGTH = 16;

export function isSha1Hex(value: unknown): value is string {
  return typeof value === 'string' && SHA1_HEX.test(value);
}

function argon2id(
  password: string,
  salt: Buffer,
  params: { memory: number; passes: number; parallelism: number },
  keyLength: number,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    argon2('argon2id', { message: password, nonce: salt, tagLength: keyLength, ...params }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

function scryptKey(password: string, salt: Buffer, options: ScryptOptions, keyLength: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, keyLength, { ...options, maxmem: 64 * 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

const CURRENT_PARAMS = `m=${ARGON2.memory},t=${ARGON2.passes},p=${ARGON2.parallelism}`;

/** `$argon2id$v=19$m=...,t=...,p=...$salt$key` (PHC string format, unpadded base64). */
export async function hashPassword(sha1hex: string): Promise<string> {
  const salt = randomBytes(SALT_LENGTH);
  const key = await argon2id(sha1hex.toLowerCase(), salt, ARGON2, KEY_LENGTH);
  return [
    '',
    'argon2id',
    'v=19',
    CURRENT_PARAMS,
    salt.toString('base64').replace(/=+$/, ''),
    key.toString('base64').replace(/=+$/, ''),
  ].join('$');
}

/** Whether a stored hash should be replaced by one of the current scheme and cost. */
export function needsRehash(stored: string): boolean {
  const parts = stored.split('$');
  return !(parts[1] === 'argon2id' && parts[3] === CURRENT_PARAMS);
}

function params(text: string | undefined): { memory: number; passes: number; parallelism: number } | undefined {
  const m = /^m=(\d+),t=(\d+),p=(\d+)$/.exec(text ?? '');
  if (!m) return undefined;
  const [memory, passes, parallelism] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // A stored hash is ours, but a damaged one must not ask for gigabytes.
  if (memory > 1_048_576 || passes > 64 || parallelism > 16) return undefined;
  return { memory, passes, parallelism };
}

export async function verifyPassword(sha1hex: string, stored: string): Promise<boolean> {
  const password = sha1hex.toLowerCase();
  if (stored.startsWith('$argon2id$')) {
    const [, , version, cost, salt, key] = stored.split('$');
    const p = params(cost);
    if (version !== 'v=19' || p === undefined || !salt || !key) return false;
    const expected = Buffer.from(key, 'base64');
    const actual = await argon2id(password, Buffer.from(salt, 'base64'), p, expected.length);
    return timingSafeEqual(actual, expected);
  }
  const [scheme, n, r, p, salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !key) return false;
  const expected = Buffer.from(key, 'base64');
  const actual = await scryptKey(
    password,
    Buffer.from(salt, 'base64'),
    { N: Number(n), r: Number(r), p: Number(p) },
    expected.length,
  );
  return timingSafeEqual(actual, expected);
}

/** Compared against when the user does not exist, so both failures cost the same time. */
export const DECOY_HASH = hashPassword('0'.repeat(40));
