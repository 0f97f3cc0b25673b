// Comments on acts (extension, docs/api-notes.md): oldest first, at most MAX_COMMENTS per act so
// that one act's listing stays one bounded response. Removed with their act (acts-store.ts).
import type { Kysely } from 'kysely';
import type { ActsSchema } from '../db/schema.ts';

/** An act holds at most this many comments; the next is refused (409). */
export const MAX_COMMENTS = 500;

export interface Comment {
  id: number;
  username: string;
  text: string;
  /** ISO 8601. */
  time: string;
}

export interface StoredComment extends Comment {
  authorKey: string;
}

export type AddOutcome = { added: number } | 'full';

function stored(r: {
  seq: number;
  username: string;
  author_key: string;
  text: string;
  created_at: number | string;
}): StoredComment {
  return {
    id: Number(r.seq),
    username: r.username,
    authorKey: r.author_key,
    text: r.text,
    time: new Date(Number(r.created_at)).toISOString(),
  };
}

export class CommentsStore {
  readonly #db: Kysely<ActsSchema>;

  constructor(db: Kysely<ActsSchema>) {
    this.#db = db;
  }

  #select(actSeq: number) {
    return this.#db
      .selectFrom('act_comments')
      .select(['seq', 'username', 'author_key', 'text', 'created_at'])
      .where('act_seq', '=', actSeq);
  }

  async list(actSeq: number): Promise<StoredComment[]> {
    const rows = await this.#select(actSeq).orderBy('seq', 'asc').limit(MAX_COMMENTS).execute();
    return rows.map(stored);
  }

  async add(actSeq: number, author: { username: string; key: string }, text: string, now: number): Promise<AddOutcome> {
    return this.#db.transaction().execute(async (trx) => {
      const { n } = await trx
        .selectFrom('act_comments')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('act_seq', '=', actSeq)
        .executeTakeFirstOrThrow();
      if (Number(n) >= MAX_COMMENTS) return 'full';
      const inserted = await trx
        .insertInto('act_comments')
        .values({ act_seq: actSeq, username: author.username, author_key: author.key, text, created_at: now })
        .executeTakeFirst();
      return { added: Number(inserted.insertId) };
    });
  }

  async one(actSeq: number, id: number): Promise<StoredComment | undefined> {
    const row = await this.#select(actSeq).where('seq', '=', id).executeTakeFirst();
    return row && stored(row);
  }

  /** false when it was gone already. */
  async remove(actSeq: number, id: number): Promise<boolean> {
    const deleted = await this.#db
      .deleteFrom('act_comments')
      .where('act_seq', '=', actSeq)
      .where('seq', '=', id)
      .executeTakeFirst();
    return Number(deleted.numDeletedRows) > 0;
  }
}
