// Per-describe services: a fresh store and a users+acts pair, started before the group's
// tests and closed (store removed) after them, even when a test fails.
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import type { StartOptions } from '../../../app/server.ts';
import type { Api, Reply } from './client.ts';
import type { Backend, FreshStorage } from './backends.ts';
import { startPair, type Pair } from './services.ts';

export interface Fixture {
  users: Api;
  acts: Api;
  store: FreshStorage;
  pair: Pair;
}

/** Call inside a describe(); the fields are there once its tests run. */
export function freshServices(backend: Backend, extra: StartOptions = {}): Fixture {
  const fixture = {} as Fixture;
  before(async () => {
    fixture.store = await backend.fresh();
    fixture.pair = await startPair(fixture.store.storage, extra);
    fixture.users = fixture.pair.users;
    fixture.acts = fixture.pair.acts;
  });
  after(async () => {
    await fixture.pair?.close();
    await fixture.store?.dispose();
  });
  return fixture;
}

/** Status (and body, when given) with the reply in the message, so a failure says why. */
export function expectReply(reply: Reply, status: number, body?: unknown): void {
  assert.equal(reply.status, status, `expected ${status}, got ${reply.status}: ${reply.text.slice(0, 300)}`);
  if (body !== undefined) assert.deepEqual(reply.json, body);
}

/** A 4xx/5xx must carry {"error": "<reason>"} and nothing else. */
export function expectError(reply: Reply, status: number): void {
  expectReply(reply, status);
  assert.match(String(reply.headers['content-type']), /application\/json/);
  const body = reply.json as Record<string, unknown>;
  assert.deepEqual(Object.keys(body ?? {}), ['error'], `error body: ${reply.text.slice(0, 300)}`);
  assert.equal(typeof body.error, 'string');
  assert.ok((body.error as string).length > 0);
  assert.doesNotMatch(reply.text, /\bat .+:\d+:\d+|select |insert |SQLITE|ER_/i, 'no stack trace or SQL in a response');
}
