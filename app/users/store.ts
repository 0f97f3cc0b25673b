// The users table. Every lookup goes through username_hash (see db/schema.ts).
import type { Kysely } from 'kysely';
import { isUniqueViolation } from '../db/errors.ts';
import { keyOf } from '../db/keys.ts';
import type { UsersSchema } from '../db/schema.ts';

export class UsersStore {
  constructor(private readonly db: Kysely<UsersSchema>) {}

  /** false when the username is taken. */
  async create(username: string, passwordHash: string): Promise<boolean> {
    try {
      await this.db.insertInto('users').values({ username, username_hash: keyOf(username), password_hash: passwordHash }).execute();
      return true;
    } catch (err) {
      if (isUniqueViolation(err)) return false;
      throw err;
    }
  }

  /** false when there was no such user. */
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

  /** Writes then reads the probe row: proves the database takes both. */
  async probe(): Promise<void> {
    const now = Date.now();
    await this.db.updateTable('users_health').set({ checked_at: now }).where('id', '=', 1).execute();
    const row = await this.db.selectFrom('users_health').select('checked_at').where('id', '=', 1).executeTakeFirst();
    if (row === undefined) throw new Error('health row missing');
  }
}
