// The categories table, and removing a category together with its acts.
import type { Kysely } from 'kysely';
import { isUniqueViolation } from '../db/errors.ts';
import { keyOf } from '../db/keys.ts';
import type { ActsSchema } from '../db/schema.ts';

export class CategoriesStore {
  constructor(private readonly db: Kysely<ActsSchema>) {}

  /** [name, number of acts], oldest category first. */
  async listWithCounts(): Promise<[string, number][]> {
    const rows = await this.db
      .selectFrom('categories')
      .select((eb) => [
        'categories.name',
        eb.selectFrom('acts').select(eb.fn.countAll().as('n')).whereRef('acts.category_id', '=', 'categories.id').as('act_count'),
      ])
      .orderBy('categories.id')
      .execute();
    return rows.map((row) => [row.name, Number(row.act_count)]);
  }

  /** false when the name is taken. */
  async create(name: string): Promise<boolean> {
    try {
      await this.db.insertInto('categories').values({ name, name_hash: keyOf(name) }).execute();
      return true;
    } catch (err) {
      if (isUniqueViolation(err)) return false;
      throw err;
    }
  }

  async idOf(name: string): Promise<number | undefined> {
    const row = await this.db.selectFrom('categories').select('id').where('name_hash', '=', keyOf(name)).executeTakeFirst();
    return row?.id;
  }

  /**
   * Removes the category and its acts in one transaction; false when there was no such
   * category. The category row goes first: an upload into it (INSERT ... SELECT on that row)
   * then waits for this transaction and finds the category gone, instead of deadlocking.
   */
  async remove(name: string): Promise<boolean> {
    const id = await this.idOf(name);
    if (id === undefined) return false;
    return this.db.transaction().execute(async (trx) => {
      const deleted = await trx.deleteFrom('categories').where('id', '=', id).executeTakeFirst();
      if (Number(deleted.numDeletedRows) === 0) return false;
      await trx
        .deleteFrom('act_images')
        .where('act_seq', 'in', trx.selectFrom('acts').select('seq').where('category_id', '=', id))
        .execute();
      await trx.deleteFrom('acts').where('category_id', '=', id).execute();
      return true;
    });
  }
}
