// What the accepted requests wrote, kept by the bad-input suite as it writes, and checked
// against the services' answers and their tables afterwards.
import assert from 'node:assert/strict';
import type { FreshStorage } from '../app/support/backends.ts';
import { parseExact } from '../app/support/client.ts';
import { send } from './harness.ts';

const IMAGE_PART_BYTES = 1024 * 1024;

interface ModelAct {
  username: string;
  category: string;
  upvotes: number;
  imageBytes: number;
}

export class Model {
  readonly users: string[] = [];
  readonly categories: string[] = [];
  readonly acts = new Map<string, ModelAct>();
  /** Owner mode's per-user votes, `${actId} ${username}`. */
  readonly votes = new Set<string>();

  addAct(actId: string, username: string, category: string, imageBytes: number): void {
    this.acts.set(actId, { username, category, upvotes: 0, imageBytes });
  }

  upvote(actId: string, voter?: string): void {
    this.acts.get(actId)!.upvotes += 1;
    if (voter !== undefined) this.votes.add(`${actId} ${voter}`);
  }

  unvote(actId: string, voter: string): void {
    this.acts.get(actId)!.upvotes -= 1;
    this.votes.delete(`${actId} ${voter}`);
  }

  removeAct(actId: string): void {
    this.acts.delete(actId);
    for (const vote of [...this.votes]) if (vote.startsWith(`${actId} `)) this.votes.delete(vote);
  }

  removeCategory(name: string): void {
    this.categories.splice(this.categories.indexOf(name), 1);
    for (const [actId, act] of [...this.acts]) if (act.category === name) this.removeAct(actId);
  }

  removeUser(name: string): void {
    this.users.splice(this.users.indexOf(name), 1);
  }

  /** The services answer what the model holds: users, categories with counts, every act. */
  async checkApi(usersUrl: string, actsUrl: string): Promise<void> {
    assert.deepEqual(parseExact((await send(usersUrl, 'GET', '/api/v1/users', {})).body), this.users);
    const counts = Object.fromEntries(
      this.categories.map((c) => [c, [...this.acts.values()].filter((a) => a.category === c).length]),
    );
    assert.deepEqual(parseExact((await send(actsUrl, 'GET', '/api/v1/categories', {})).body), counts);
    assert.deepEqual(parseExact((await send(actsUrl, 'GET', '/api/v1/acts/count', {})).body), [this.acts.size]);
    const listed = parseExact((await send(actsUrl, 'GET', `/api/v1/acts?start=1&end=${this.acts.size}`, {})).body) as {
      actId: number | bigint;
      username: string;
      categoryName: string;
      upvotes: number;
      imgB64: string;
    }[];
    const seen = Object.fromEntries(
      listed.map((a) => [
        String(a.actId),
        {
          username: a.username,
          category: a.categoryName,
          upvotes: a.upvotes,
          imageBytes: Buffer.from(a.imgB64, 'base64').length,
        },
      ]),
    );
    assert.deepEqual(seen, Object.fromEntries(this.acts));
  }

  /** The tables hold exactly that, and the database says it is sound. */
  async checkTables(store: FreshStorage, integrity: () => Promise<string[]>): Promise<void> {
    const rows = (service: 'users' | 'acts', table: string) => store.peek(service, table);
    assert.deepEqual((await rows('users', 'users')).map((u) => u.username).sort(), [...this.users].sort());
    assert.deepEqual((await rows('acts', 'categories')).map((c) => c.name).sort(), [...this.categories].sort());
    const acts = await rows('acts', 'acts');
    assert.deepEqual(acts.map((a) => String(a.act_id)).sort(), [...this.acts.keys()].sort());
    const upvotes = acts.reduce((sum, a) => sum + Number(a.upvotes), 0);
    assert.equal(
      upvotes,
      [...this.acts.values()].reduce((sum, a) => sum + a.upvotes, 0),
      'the sum of upvotes',
    );
    const parts = [...this.acts.values()].reduce(
      (sum, a) => sum + Math.max(1, Math.ceil(a.imageBytes / IMAGE_PART_BYTES)),
      0,
    );
    assert.equal((await rows('acts', 'act_images')).length, parts, 'image parts: none left over, none missing');
    assert.deepEqual(
      (await rows('acts', 'act_upvotes')).length,
      this.votes.size,
      'one row per owner-mode vote, none of removed acts',
    );
    assert.deepEqual(await integrity(), [], 'integrity check');
  }
}
