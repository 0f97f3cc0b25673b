// SERVICE=all: both services in one process on one port (local use), the web UI at `/`,
// and SERVICE=users / SERVICE=acts answering only their own routes.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { RunningApp } from '../../../app/server.ts';
import type { Backend, FreshStorage } from '../support/backends.ts';
import { api, sessionCookie, type Api } from '../support/client.ts';
import { actBody, addAct, addCategory, addUser, PASSWORD } from '../support/data.ts';
import { expectError, expectReply } from '../support/fixture.ts';
import { startAll } from '../support/services.ts';

export function allModeContract(backend: Backend): void {
  describe('SERVICE=all (both services, one process)', () => {
    let store: FreshStorage;
    let app: RunningApp;
    let client: Api;
    let publicDir: string;

    before(async () => {
      store = await backend.fresh();
      publicDir = await mkdtemp(join(tmpdir(), 'selfless-public-'));
      await writeFile(join(publicDir, 'index.html'), '<!doctype html><title>SelfLessActs</title>');
      app = await startAll(store.storage, { publicDir });
      client = api(app.url);
    });
    after(async () => {
      await app?.close();
      await store?.dispose();
      await rm(publicDir, { recursive: true, force: true });
    });

    test('users, sessions, categories, acts and images on one port; the user check goes to itself', async () => {
      await client.del('/api/v1/_count');
      await addUser(client, 'quinn');
      await addCategory(client, 'all');
      await addAct(client, actBody({ actId: 1, username: 'quinn', categoryName: 'all' }));
      expectError(
        await client.post('/api/v1/acts', actBody({ actId: 2, username: 'nobody', categoryName: 'all' })),
        400,
      );
      const cookie = sessionCookie(await client.post('/api/v1/sessions', { username: 'quinn', password: PASSWORD }));
      expectReply(await client.get('/api/v1/sessions/me', { cookie }), 200, { username: 'quinn' });
      expectReply(await client.get('/api/v1/categories'), 200, { all: 1 });
      expectReply(await client.get('/api/v1/acts/1/image'), 200);
      // 8 requests above, plus the acts service's two calls to /users/{u}/exists: this
      // process answered those too.
      expectReply(await client.get('/api/v1/_count'), 200, [10]);
    });

    test('the web UI is served at / from PUBLIC_DIR', async () => {
      const reply = await client.get('/');
      expectReply(reply, 200);
      assert.match(reply.text, /SelfLessActs/);
      assert.match(String(reply.headers['content-type']), /text\/html/);
      expectError(await client.get('/missing.js'), 404);
    });

    test('_health checks both stores', async () => {
      expectReply(await client.get('/api/v1/_health'), 200);
    });
  });
}
