// The users table. Every lookup goes through username_hash (see db/schema.ts).
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { isUniqueViolation } from '../db/errors.ts';
import { accountKey, keyOf } from '../db/keys.ts';
import type { UsersSchema } from '../db/schema.ts';
import type { Account } from '../http/access.ts';

/** An account as stored: its name, which holder of the name it is, and its key (db/keys.ts). */
export interface StoredAccount extends Account {
  generation: number;
}

function stored(username: string, generation: number): StoredAccount {
  return { username, generation, key: accountKey(username, generation) };
}

const newSessionKey = () => randomBytes(16).toString('hex');

export class UsersStore {
  constructor(private readonly db: Kysely<UsersSchema>) {}

  /**
   * false when the username is taken. A name held before by a deleted account becomes that
   * account's next generation: another account, which owns nothing of the earlier one's.
   */
  async create(username: string, passwordHash: string): Promise<boolean> {
    const hash = keyOf(username);
    try {
      await this.db.transaction().execute(async (trx) => {
        const before = await trx
          .selectFrom('name_generations')
          .select('generation')
          .where('name_hash', '=', hash)
          .executeTakeFirst();
        await trx
          .insertInto('users')
          .values({
            username,
            username_hash: hash,
            password_hash: passwordHash,
            session_key: newSessionKey(),
            generation: before === undefined ? 0 : before.generation + 1,
          })
          .execute();
      });
      return true;
    } catch (err) {
      if (isUniqueViolation(err)) return false;
      throw err;
    }
  }

  /** false when there was no such user. Its session key goes with it; its generation is remembered. */
  async remove(username: string): Promise<boolean> {
    const hash = keyOf(username);
    return this.db.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom('users')
        .select('generation')
        .where('username_hash', '=', hash)
        .executeTakeFirst();
      if (row === undefined) return false;
      const result = await trx.deleteFrom('users').where('username_hash', '=', hash).executeTakeFirst();
      if (Number(result.numDeletedRows) === 0) return false;
      await trx.deleteFrom('user_avatars').where('username_hash', '=', hash).execute();
      await trx.deleteFrom('name_generations').where('name_hash', '=', hash).execute();
      await trx.insertInto('name_generations').values({ name_hash: hash, generation: row.generation }).execute();
      return true;
    });
  }

  async list(): Promise<string[]> {
    const rows = await this.db.selectFrom('users').select('username').orderBy('seq').execute();
    return rows.map((row) => row.username);
  }

  /** The account holding the name now, or undefined. */
  async account(username: string): Promise<StoredAccount | undefined> {
    const row = await this.db
      .selectFrom('users')
      .select('generation')
      .where('username_hash', '=', keyOf(username))
      .executeTakeFirst();
    return row === undefined ? undefined : stored(username, row.generation);
  }

  /** The stored hash and the account, or undefined when there is no such user. */
  async credentials(username: string): Promise<{ passwordHash: string; account: StoredAccount } | undefined> {
    const row = await this.db
      .selectFrom('users')
      .select(['password_hash', 'generation'])
      .where('username_hash', '=', keyOf(username))
      .executeTakeFirst();
    return row === undefined
      ? undefined
      : { passwordHash: row.password_hash, account: stored(username, row.generation) };
  }

  /** A new hash of the same password (a stronger scheme), unless the password changed meanwhile. */
  async rehashPassword(username: string, previous: string, next: string): Promise<void> {
    await this.db
      .updateTable('users')
      .set({ password_hash: next })
      .where('username_hash', '=', keyOf(username))
      .where('password_hash', '=', previous)
      .execute();
  }

  /**
   * The key a new session cookie of this user carries (made on first use for users from
   * before keys existed); undefined when there is no such user.
   */
  async sessionKey(username: string): Promise<string | undefined> {
    const hash = keyOf(username);
    await this.db
      .updateTable('users')
      .set({ session_key: newSessionKey() })
      .where('username_hash', '=', hash)
      .where('session_key', '=', '')
      .execute();
    const row = await this.db
      .selectFrom('users')
      .select('session_key')
      .where('username_hash', '=', hash)
      .executeTakeFirst();
    return row?.session_key;
  }

  /** The account a cookie naming this user and key belongs to while it is live; else undefined. */
  async sessionAccount(username: string, key: string): Promise<StoredAccount | undefined> {
    if (key === '') return undefined;
    const row = await this.db
      .selectFrom('users')
      .select('generation')
      .where('username_hash', '=', keyOf(username))
      .where('session_key', '=', key)
      .executeTakeFirst();
    return row === undefined ? undefined : stored(username, row.generation);
  }

  /**
   * A new password hash, if the password is still `previous` (a change made meanwhile wins), and
   * a new session key: every session cookie issued so far stops working. The new key, or
   * undefined when nothing changed.
   */
  async changePassword(username: string, previous: string, next: string): Promise<string | undefined> {
    const key = newSessionKey();
    const updated = await this.db
      .updateTable('users')
      .set({ password_hash: next, session_key: key })
      .where('username_hash', '=', keyOf(username))
      .where('password_hash', '=', previous)
      .executeTakeFirst();
    return Number(updated.numUpdatedRows) > 0 ? key : undefined;
  }

  /** The avatar's version, or null without one; undefined when there is no such user. */
  async avatarVersion(username: string): Promise<string | null | undefined> {
    const hash = keyOf(username);
    const row = await this.db
      .selectFrom('users')
      .leftJoin('user_avatars', 'user_avatars.username_hash', 'users.username_hash')
      .select('user_avatars.version')
      .where('users.username_hash', '=', hash)
      .executeTakeFirst();
    return row === undefined ? undefined : (row.version ?? null);
  }

  async avatar(username: string, version: string, format: 'webp' | 'jpeg'): Promise<Buffer | undefined> {
    const row = await this.db
      .selectFrom('user_avatars')
      .select(format)
      .where('username_hash', '=', keyOf(username))
      .where('version', '=', version)
      .executeTakeFirst();
    return row === undefined ? undefined : Buffer.from(row[format] as Uint8Array);
  }

  /** Sets (or replaces) the user's avatar; false when there is no such user. */
  async setAvatar(username: string, avatar: { version: string; webp: Buffer; jpeg: Buffer }): Promise<boolean> {
    const hash = keyOf(username);
    return this.db.transaction().execute(async (trx) => {
      const user = await trx.selectFrom('users').select('seq').where('username_hash', '=', hash).executeTakeFirst();
      if (user === undefined) return false;
      await trx.deleteFrom('user_avatars').where('username_hash', '=', hash).execute();
      await trx
        .insertInto('user_avatars')
        .values({ username_hash: hash, ...avatar })
        .execute();
      return true;
    });
  }

  async removeAvatar(username: string): Promise<void> {
    await this.db.deleteFrom('user_avatars').where('username_hash', '=', keyOf(username)).execute();
  }

  /** The profile's bio, or undefined when there is no such user. */
  async bio(username: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('users')
      .select('bio')
      .where('username_hash', '=', keyOf(username))
      .executeTakeFirst();
    return row?.bio;
  }

  async setBio(username: string, bio: string): Promise<boolean> {
    const updated = await this.db
      .updateTable('users')
      .set({ bio })
      .where('username_hash', '=', keyOf(username))
      .executeTakeFirst();
    return Number(updated.numUpdatedRows) > 0;
  }

  /** A new key for the user: every session cookie issued so far stops working. */
  async revokeSessions(username: string): Promise<void> {
    await this.db
      .updateTable('users')
      .set({ session_key: newSessionKey() })
      .where('username_hash', '=', keyOf(username))
      .execute();
  }

  /** Writes then reads the probe row: proves the database takes both. */
  async probe(): Promise<void> {
    const now = Date.now();
    await this.db.updateTable('users_health').set({ checked_at: now }).where('id', '=', 1).execute();
    const row = await this.db.selectFrom('users_health').select('checked_at').where('id', '=', 1).executeTakeFirst();
    if (row === undefined) throw new Error('health row missing');
  }
}
