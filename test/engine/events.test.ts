import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import type { DockerEngine, EngineEvent } from '../../engine-client/index.ts';
import { TEST_LABELS, engineSuite, skipEngine, uniqueName } from './support.ts';

describe('engine-client events (real dockerd)', { skip: skipEngine }, () => {
  // Ordinary calls get a 1 s deadline here: the events stream must not inherit it.
  const suite = engineSuite({ timeoutMs: 1000 });
  const { engine } = suite;

  /** Collects events until `done` says so or `timeoutMs` passes, then aborts the stream. */
  async function collect(
    options: Parameters<DockerEngine['events']>[0],
    done: (events: EngineEvent[]) => boolean,
    timeoutMs = 15_000,
  ): Promise<EngineEvent[]> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    const events: EngineEvent[] = [];
    try {
      for await (const event of engine.events({ ...options, signal: controller.signal })) {
        events.push(event);
        if (done(events)) break;
      }
    } finally {
      clearTimeout(timer);
    }
    return events;
  }

  test('start and die of a labelled container are seen, after a quiet period longer than the call timeout', async () => {
    const instance = uniqueName('events');
    const labels = { ...TEST_LABELS, 'selflessacts.instance': instance };
    const since = new Date();
    const seen = collect(
      { types: ['container'], labels: { 'selflessacts.instance': instance }, actions: ['start', 'die'] },
      (events) => events.some((e) => e.action === 'die'),
    );
    await sleep(2500); // quiet: nothing matches yet, longer than timeoutMs
    const { id } = await engine.containers.create({
      image: suite.image,
      cmd: ['node', '-e', 'setTimeout(() => process.exit(3), 200)'],
      labels,
    });
    await engine.containers.start(id);
    const events = await seen;
    assert.deepEqual(
      events.map((e) => e.action),
      ['start', 'die'],
    );
    for (const event of events) {
      assert.equal(event.type, 'container');
      assert.equal(event.id, id);
      assert.equal(event.attributes['selflessacts.instance'], instance);
      assert.equal(event.attributes['selflessacts.test'], 'engine');
      assert.match(event.timeNano, /^\d{19}$/);
      assert.equal(event.cursor, `${event.timeNano.slice(0, 10)}.${event.timeNano.slice(10)}`);
      assert.ok(event.time * 1000 >= Math.floor(since.getTime() / 1000) * 1000);
    }
    assert.equal(events[1]?.attributes.exitCode, '3');

    // Resumable: `since` replays what happened, from a date or from an event's cursor.
    const replayed = await collect(
      {
        types: ['container'],
        labels: { 'selflessacts.instance': instance },
        since,
        until: new Date(Date.now() + 1000),
      },
      () => false,
    );
    assert.deepEqual(
      replayed.filter((e) => e.action === 'start' || e.action === 'die').map((e) => e.action),
      ['start', 'die'],
    );
    const fromDie = await collect(
      {
        types: ['container'],
        labels: { 'selflessacts.instance': instance },
        since: events[1]?.cursor,
        until: new Date(Date.now() + 1000),
      },
      () => false,
    );
    assert.ok(fromDie.every((e) => BigInt(e.timeNano) >= BigInt(events[1]?.timeNano ?? 0)));
    assert.ok(fromDie.some((e) => e.action === 'die'));
    await engine.containers.remove(id);
  });

  test('label filters keep other containers out; abort ends the iteration', async () => {
    const mine = uniqueName('mine');
    const other = uniqueName('other');
    const seen = collect({ labels: { 'selflessacts.instance': mine } }, (events) =>
      events.some((e) => e.action === 'destroy'),
    );
    await sleep(200);
    for (const instance of [other, mine]) {
      const { id } = await engine.containers.create({
        image: suite.image,
        cmd: ['node', '-e', '0'],
        labels: { ...TEST_LABELS, 'selflessacts.instance': instance },
      });
      await engine.containers.start(id);
      await engine.containers.wait(id);
      await engine.containers.remove(id);
    }
    const events = await seen;
    assert.ok(events.length >= 3);
    assert.ok(events.every((e) => e.attributes['selflessacts.instance'] === mine));
    assert.deepEqual(
      events.map((e) => e.action).filter((a) => ['create', 'start', 'die', 'destroy'].includes(a)),
      ['create', 'start', 'die', 'destroy'],
    );
  });
});
