// Failed log-ins counted per account name, in the users service's database so every replica
// agrees: the balancer limits each client address, but a guesser with many addresses (a
// botnet, an IPv6 block per attempt) would otherwise try one account's password without end.
// A GCRA budget per name: `burst` failures at once, then one more every `intervalMs`; beyond,
// an attempt is refused (429) before the password is checked. A successful log-in clears it.
// Names that are no account count the same, so a 429 says nothing about whether one exists.
// A browser that logged into the account before is exempt (users/trusted-device.ts): the owner
// is not locked out by someone else's guessing.
import { sql, type Kysely } from 'kysely';
import { isUniqueViolation } from '../db/errors.ts';
import { keyOf } from '../db/keys.ts';
import type { UsersSchema } from '../db/schema.ts';

export interface LoginThrottleOptions {
  /** Failures allowed at once. */
  burst: number;
  /** Then one more failure every this long. */
  intervalMs: number;
}

/** 10 failures, then one every 6 minutes: 10 an hour at most, after the first 10. */
export const LOGIN_THROTTLE: LoginThrottleOptions = { burst: 10, intervalMs: 6 * 60_000 };

export class LoginThrottle {
  constructor(
    private readonly db: Kysely<UsersSchema>,
    private readonly options: LoginThrottleOptions = LOGIN_THROTTLE,
  ) {}

  /** Milliseconds until the name may be tried again; 0 when it may be now. */
  async waitMs(username: string, now = Date.now()): Promise<number> {
    const row = await this.db
      .selectFrom('login_failures')
      .select('tat')
      .where('name_hash', '=', keyOf(username))
      .executeTakeFirst();
    if (row === undefined) return 0;
    const ahead = Number(row.tat) - now - (this.options.burst - 1) * this.options.intervalMs;
    return Math.max(0, ahead);
  }

  /** One more failure against the name (atomically: concurrent failures all count). */
  async failed(username: string, now = Date.now()): Promise<void> {
    const hash = keyOf(username);
    const step = this.options.intervalMs;
    for (let attempt = 0; attempt < 3; attempt++) {
      const updated = await this.db
        .updateTable('login_failures')
        .set({ tat: sql<number>`case when tat > ${now} then tat + ${step} else ${now + step} end` })
        .where('name_hash', '=', hash)
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) > 0) return;
      try {
        await this.db
          .insertInto('login_failures')
          .values({ name_hash: hash, tat: now + step })
          .execute();
        return;
      } catch (err) {
        // Another replica inserted it first: update that row instead.
        if (!isUniqueViolation(err)) throw err;
      }
    }
  }

  async succeeded(username: string): Promise<void> {
    await this.db.deleteFrom('login_failures').where('name_hash', '=', keyOf(username)).execute();
  }
}
