// The image worker's turn order: one image at a time, users in turn, bounded lines.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FairImageQueue, QueueFull } from '../../app/acts/image-queue.ts';

/** A job that finishes when told to, recording when it started. */
function gate() {
  let open!: () => void;
  const done = new Promise<void>((resolve) => (open = resolve));
  return { done, open };
}

describe('the fair image queue', () => {
  test('one image at a time; users in turn: a user who queued four delays another only by the one running', async () => {
    const q = new FairImageQueue({ maxWaiting: 16, maxWaitingPerUser: 8 });
    const started: string[] = [];
    const gates = new Map<string, ReturnType<typeof gate>>();
    const job = (name: string) => () => {
      started.push(name);
      const g = gate();
      gates.set(name, g);
      return g.done;
    };
    const runs = [q.run('ann', job('a1')), q.run('ann', job('a2')), q.run('ann', job('a3')), q.run('ann', job('a4'))];
    runs.push(q.run('bob', job('b1')), q.run('cy', job('c1')), q.run('bob', job('b2')));
    await Promise.resolve();
    assert.deepEqual(started, ['a1']);
    assert.equal(q.waiting, 6);
    const order = ['a1', 'b1', 'c1', 'a2', 'b2', 'a3', 'a4'];
    for (const name of order) {
      await new Promise((r) => setImmediate(r));
      assert.equal(started.at(-1), name, `${started.join(' ')}`);
      gates.get(name)!.open();
    }
    await Promise.all(runs);
    assert.deepEqual(started, order);
    assert.equal(q.waiting, 0);
  });

  test('a job that fails still hands the worker on', async () => {
    const q = new FairImageQueue({ maxWaiting: 4, maxWaitingPerUser: 4 });
    const first = q.run('ann', async () => {
      throw new Error('bad image');
    });
    const second = q.run('bob', async () => 'ok');
    await assert.rejects(first, /bad image/);
    assert.equal(await second, 'ok');
  });

  test('full lines refuse at once: per user, then in all', async () => {
    const q = new FairImageQueue({ maxWaiting: 3, maxWaitingPerUser: 2 });
    const g = gate();
    const running = q.run('ann', () => g.done);
    const queued = [q.run('ann', async () => 1), q.run('ann', async () => 2)];
    await assert.rejects(
      q.run('ann', async () => 3),
      (err: unknown) => err instanceof QueueFull && err.scope === 'user',
    );
    queued.push(q.run('bob', async () => 4));
    await assert.rejects(
      q.run('cy', async () => 5),
      (err: unknown) => err instanceof QueueFull && err.scope === 'all',
    );
    g.open();
    await running;
    assert.deepEqual(await Promise.all(queued), [1, 2, 4]);
  });
});
