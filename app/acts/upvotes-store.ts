// Upvotes: the anonymous kind of the course contract (open mode: each one counts), and the
// once-per-account kind of owner mode, which also remembers which account (db/keys.ts
// accountKey: not the name, which a later account may hold) upvoted what so that it can be
// taken back and shown. acts.upvotes is the count either way; every change to it is one
// atomic increment or decrement in the database, so concurrent upvotes all count.
import { sql, type Kysely } from 'kysely';
import { isUniqueViolation } from '../db/errors.ts';
import { keyOf } from '../db/keys.ts';
import type { ActsSchema } from '../db/schema.ts';

export type VoteOutcome = 'done' | 'no-act' | 'already' | 'not-voted';

/** Thrown inside a transaction to roll it back with an outcome. */
class Refused extends Error {
  constructor(readonly outcome: VoteOutcome) {
    super(outcome);
  }
}

export class UpvotesStore {
  constructor(private readonly db: Kysely<ActsSchema>) {}

  /** Open mode: one more upvote; false when there is no such act. */
  async addAnonymous(actId: string): Promise<boolean> {
    const result = await this.db
      .updateTable('acts')
      .set({ upvotes: sql<number>`upvotes + 1` })
      .where('act_id_hash', '=', keyOf(actId))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /**
   * Owner mode: the user's upvote, counted once. The increment comes first: it locks the act's
   * row, so a removal of the act waits for this transaction and then takes the vote with it.
   */
  async add(actId: string, account: string): Promise<VoteOutcome> {
    return this.#inTransaction(async (trx) => {
      const counted = await trx
        .updateTable('acts')
        .set({ upvotes: sql<number>`upvotes + 1` })
        .where('act_id_hash', '=', keyOf(actId))
        .executeTakeFirst();
      if (Number(counted.numUpdatedRows) === 0) throw new Refused('no-act');
      const act = await trx
        .selectFrom('acts')
        .select('seq')
        .where('act_id_hash', '=', keyOf(actId))
        .executeTakeFirstOrThrow();
      try {
        await trx.insertInto('act_upvotes').values({ act_seq: act.seq, username_hash: account }).execute();
      } catch (err) {
        if (isUniqueViolation(err)) throw new Refused('already');
        throw err;
      }
    });
  }

  /** Owner mode: takes the user's upvote back. The act's row first, as in add(). */
  async remove(actId: string, account: string): Promise<VoteOutcome> {
    return this.#inTransaction(async (trx) => {
      const uncounted = await trx
        .updateTable('acts')
        .set({ upvotes: sql<number>`upvotes - 1` })
        .where('act_id_hash', '=', keyOf(actId))
        .executeTakeFirst();
      if (Number(uncounted.numUpdatedRows) === 0) throw new Refused('no-act');
      const act = await trx
        .selectFrom('acts')
        .select('seq')
        .where('act_id_hash', '=', keyOf(actId))
        .executeTakeFirstOrThrow();
      const removed = await trx
        .deleteFrom('act_upvotes')
        .where('act_seq', '=', act.seq)
        .where('username_hash', '=', account)
        .executeTakeFirst();
      if (Number(removed.numDeletedRows) === 0) throw new Refused('not-voted');
    });
  }

  /** Which of these acts (by seq) the account (its key) has upvoted. */
  async votedBy(account: string, seqs: number[]): Promise<Set<number>> {
    if (seqs.length === 0) return new Set();
    const rows = await this.db
      .selectFrom('act_upvotes')
      .select('act_seq')
      .where('username_hash', '=', account)
      .where('act_seq', 'in', seqs)
      .execute();
    return new Set(rows.map((row) => row.act_seq));
  }

  async #inTransaction(work: (trx: Kysely<ActsSchema>) => Promise<void>): Promise<VoteOutcome> {
    try {
      await this.db.transaction().execute(work);
      return 'done';
    } catch (err) {
      if (err instanceof Refused) return err.outcome;
      throw err;
    }
  }
}
