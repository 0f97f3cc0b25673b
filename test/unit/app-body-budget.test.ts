// The per-process budget of request-body bytes (app/http/body-budget.ts): first come, first
// served, a request larger than the whole budget runs alone, a release counts once, and a
// request withdrawn while waiting lets the next one in.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ByteBudget } from '../../app/http/body-budget.ts';

/** Whether the promise has settled after the queued callbacks ran. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(() => (done = true));
  await new Promise((r) => setImmediate(r));
  return done;
}

describe('ByteBudget', () => {
  test('grants what fits at once; the next waits until bytes are released', async () => {
    const budget = new ByteBudget(32);
    const first = await budget.acquire(16);
    const second = await budget.acquire(16);
    const third = budget.acquire(16);
    assert.equal(await settled(third), false, 'a third 16 of 32 waits');
    assert.equal(budget.waiting, 1);
    first();
    assert.equal(await settled(third), true);
    assert.equal(budget.inUse, 32);
    second();
    (await third)();
    assert.equal(budget.inUse, 0);
  });

  test('first come, first served: a small request does not pass a large one in line', async () => {
    const budget = new ByteBudget(32);
    const held = await budget.acquire(20);
    const large = budget.acquire(30);
    const small = budget.acquire(4);
    assert.equal(await settled(small), false, 'the small one waits behind the large one');
    held();
    assert.equal(await settled(large), true);
    assert.equal(await settled(small), false, '30 + 4 passes 32: it waits for the large one');
    (await large)();
    assert.equal(await settled(small), true);
  });

  test('more than the capacity is clamped: such a request runs alone, never forever', async () => {
    const budget = new ByteBudget(10);
    const huge = await budget.acquire(1000);
    assert.equal(budget.inUse, 10);
    const next = budget.acquire(1);
    assert.equal(await settled(next), false);
    huge();
    assert.equal(await settled(next), true);
  });

  test('a release counts once however often it is called', async () => {
    const budget = new ByteBudget(10);
    const release = await budget.acquire(6);
    const other = await budget.acquire(4);
    release();
    release();
    assert.equal(budget.inUse, 4);
    other();
    assert.equal(budget.inUse, 0);
  });

  test('a request withdrawn while waiting leaves the line, and the next one is granted', async () => {
    const budget = new ByteBudget(10);
    const held = await budget.acquire(8);
    const gone = new AbortController();
    const withdrawn = budget.acquire(8, gone.signal);
    const after = budget.acquire(2);
    assert.equal(await settled(after), false, 'behind the one in line');
    gone.abort();
    assert.equal(await settled(after), true, 'the withdrawn one no longer blocks the line');
    assert.equal(await settled(withdrawn), false);
    assert.equal(budget.waiting, 0);
    held();
  });
  test('tryAcquire: at once when it fits and nobody waits, else nothing taken', async () => {
    const budget = new ByteBudget(100);
    const a = budget.tryAcquire(60)!;
    assert.equal(budget.inUse, 60);
    assert.equal(budget.tryAcquire(50), undefined, 'does not fit');
    assert.equal(budget.inUse, 60);
    const waiting = budget.acquire(40 + 1);
    assert.equal(budget.tryAcquire(10), undefined, 'someone waits: no passing them');
    a();
    (await waiting)();
    assert.equal(budget.inUse, 0);
  });
});
