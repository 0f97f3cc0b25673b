// The users table. Every lookup goes through username_hash (see db/schema.ts).
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { isUniqueViolation } from '../db/errors.ts';
import { keyOf } from '../db/keys.ts';
import type { UsersSchema } from '../db/schema.ts';

const newSessionKey = () => randomBytes(16).toString('hex');

export class UsersStore {
  constructor(private readonly db: Kysely<UsersSchema>) {}

  /** false when the username is taken. */
  async create(username: string, passwordHash: string): Promise<boolean> {
    try {
      await this.db
        .insertInto('users')
        .values({ username, username_hash: keyOf(username), password_hash: passwordHash, session_key: newSessionKey() })
        .execute();
      return true;
    } catch (err) {
      if (isUniqueViolation(err)) return false;
      throw err;
    }
  }

  /** false when there was no such user. Its session key goes with it. */
  async remove(username: string): Promise<boolean> {
    const result = await this.db.deleteFrom('users').where('username_hash', '=', keyOf(username)).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async list(): Promise<string[]> {
    const rows = await this.db.selectFrom('users').select('username').orderBy('seq').execute();
    return rows.map((row) => row.username);
  }

  async exists(username: string): Promise<boolean> {
    const row = await this.db.selectFrom('users').select('seq').where('username_hash', '=', keyOf(username)).executeTakeFirst();
    return row !== undefined;
  }

  async passwordHash(username: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('users')
      .select('password_hash')
      .where('username_hash', '=', keyOf(username))
      .executeTakeFirst();
    return row?.password_hash;
  }

  /**
   * The key a new session cookie of this user carries (made on first use for users from
   * before keys existed); undefined when there is no such user.
   */
  async sessionKey(username: string): Promise<string | undefined> {
    const hash = keyOf(username);
    await this.db.updateTable('users').set({ session_key: newSessionKey() }).where('username_hash', '=', hash).where('session_key', '=', '').execute();
    const row = await this.db.selectFrom('users').select('session_key').where('username_hash', '=', hash).executeTakeFirst();
    return row?.session_key;
  }

  /** Whether a cookie naming this user and key is still live. */
  async sessionLive(username: string, key: string): Promise<boolean> {
    if (key === '') return false;
    const row = await this.db
      .selectFrom('users')
      .select('seq')
      .where('username_hash', '=', keyOf(username))
      .where('session_key', '=', key)
      .executeTakeFirst();
    return row !== undefined;
  }

  /** A new key for the user: every session cookie issued so far stops working. */
  async revokeSessions(username: string): Promise<void> {
    await this.db.updateTable('users').set({ session_key: newSessionKey() }).where('username_hash', '=', keyOf(username)).execute();
  }

  /** Writes then reads the probe row: proves the database takes both. */
  async probe(): Promise<void> {
    const now = Date.now();
    await this.db.updateTable('users_health').set({ checked_at: now }).where('id', '=', 1).execute();
    const row = await this.db.selectFrom('users_health').select('checked_at').where('id', '=', 1).executeTakeFirst();
    if (row === undefined) throw new Error('health row missing');
  }
}
