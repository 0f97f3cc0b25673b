// Passwords arrive as the SHA1 hex the client computed. That value is itself a password
// equivalent, so it is stored only as a salted scrypt hash and compared in constant time.
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const SHA1_HEX = /^[0-9a-fA-F]{40}$/;
const PARAMS = { N: 16384, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;
const SALT_LENGTH = 16;

export function isSha1Hex(value: unknown): value is string {
  return typeof value === 'string' && SHA1_HEX.test(value);
}

function derive(password: string, salt: Buffer, options: ScryptOptions, keyLength: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, keyLength, { ...options, maxmem: 64 * 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** `scrypt$N$r$p$salt$key`, salt and key in base64; the parameters travel with the hash. */
export async function hashPassword(sha1hex: string): Promise<string> {
  const salt = randomBytes(SALT_LENGTH);
  const key = await derive(sha1hex.toLowerCase(), salt, PARAMS, KEY_LENGTH);
  return ['scrypt', PARAMS.N, PARAMS.r, PARAMS.p, salt.toString('base64'), key.toString('base64')].join('$');
}

export async function verifyPassword(sha1hex: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !key) return false;
  const expected = Buffer.from(key, 'base64');
  const actual = await derive(sha1hex.toLowerCase(), Buffer.from(salt, 'base64'), { N: Number(n), r: Number(r), p: Number(p) }, expected.length);
  return timingSafeEqual(actual, expected);
}

/** Compared against when the user does not exist, so both failures cost the same time. */
export const DECOY_HASH = hashPassword('0'.repeat(40));
