// Rows 21-24, per replica: _count, _health, _crash.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Backend } from '../support/backends.ts';
import { expectError, expectReply, freshServices } from '../support/fixture.ts';

export function replicaContract(backend: Backend): void {
  describe('per replica (rows 21, 22, 23, 24)', () => {
    const f = freshServices(backend);

    test('row 22: DELETE _count → 200 {}; row 21: then [0]', async () => {
      expectReply(await f.acts.del('/api/v1/_count'), 200, {});
      expectReply(await f.acts.get('/api/v1/_count'), 200, [0]);
    });

    test('row 21: every /api/v1/* request counts, whatever its status; _count, _health, _crash and non-API paths do not', async () => {
      await f.acts.del('/api/v1/_count');
      await f.acts.get('/api/v1/acts/count'); // 200
      await f.acts.get('/api/v1/categories'); // 204
      await f.acts.post('/api/v1/categories', 'not json'); // 400
      await f.acts.get('/api/v1/nothing-here'); // 404
      await f.acts.call('PUT', '/api/v1/acts/count'); // 405
      await f.acts.get('/api/v1/users'); // 404 on the acts service, counted there
      await f.acts.get('/api/v1/_health');
      await f.acts.get('/api/v1/_live');
      await f.acts.get('/api/v1/_count');
      await f.acts.call('PATCH', '/api/v1/_crash'); // 405, but _crash is never counted
      await f.acts.get('/not-api');
      expectReply(await f.acts.get('/api/v1/_count'), 200, [6]);
    });

    test('row 21: each replica counts only what it answered', async () => {
      await f.users.del('/api/v1/_count');
      await f.users.get('/api/v1/users');
      expectReply(await f.users.get('/api/v1/_count'), 200, [1]);
      expectReply(await f.acts.get('/api/v1/_count'), 200, [6]);
    });

    test('row 23: _health → 200 with an empty body, on both services, and it writes the database', async () => {
      for (const api of [f.users, f.acts]) {
        const reply = await api.get('/api/v1/_health');
        expectReply(reply, 200);
        assert.equal(reply.text, '');
      }
      const [row] = await f.store.peek('acts', 'acts_health');
      assert.ok(Number(row?.checked_at) > Date.now() - 60_000, 'the probe row was just written');
    });

    test('extension: _live → 200 with an empty body on both services, without touching the database', async () => {
      for (const api of [f.users, f.acts]) {
        const reply = await api.get('/api/v1/_live');
        expectReply(reply, 200);
        assert.equal(reply.text, '');
      }
    });

    test('row 24: _crash → 200 empty; then every request to that replica → 500, _health included', async () => {
      const reply = await f.acts.post('/api/v1/_crash');
      expectReply(reply, 200);
      assert.equal(reply.text, '');
      for (const [method, path] of [
        ['GET', '/api/v1/_health'],
        ['GET', '/api/v1/_live'],
        ['GET', '/api/v1/_count'],
        ['DELETE', '/api/v1/_count'],
        ['GET', '/api/v1/acts/count'],
        ['GET', '/api/v1/nothing'],
        ['POST', '/api/v1/_crash'],
        ['GET', '/'],
      ] as const) {
        expectError(await f.acts.call(method, path), 500);
      }
    });

    test('row 24: the other service’s replica is unaffected', async () => {
      expectReply(await f.users.get('/api/v1/_health'), 200);
      expectReply(await f.users.get('/api/v1/users'), 204);
    });
  });
}
