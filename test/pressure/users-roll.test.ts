// Pressure row (d): the users service rolled (SIGHUP after a change of its env: a surge replica,
// then the old one replaced) and then crashed (_crash: replaced on its port by the heartbeat),
// while acts takes writes that each ask users twice (the session, the user). acts reaches every
// users replica (USERS_URL = {{replicas:users}}) and waits out a moment with none, so 0 writes
// fail. Before, acts knew one users container: 43 of 278 POSTs got 503 during one roll.
// Real containers, shipped config, owner mode. Ports 33100-33149.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { shippedSetup } from '../../testkit/shipped-config.ts';
import { TEST_ENGINE } from '../../testkit/engine.ts';
import { http, supervisorSuite } from '../../testkit/supervisor.ts';
import { skipUnlessEngine } from '../helpers/requirements.ts';
import { eventsOf, lastSeq, recordRow, siteUser, type SiteUser } from './support.ts';

const LISTEN = 33100;
const ADMIN = 33101;
const USERS = 33130;
const WRITERS = 3;
/** A 1×1 PNG: the writes are about the users service, not photos. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);
const skip = await skipUnlessEngine();

interface Write {
  actId: number;
  status: number;
  error?: string;
  at: number;
  ms: number;
}

/** Writers posting acts (row 15) one after another until stopped. */
function writers(base: string, user: SiteUser): { stop(): Promise<Write[]> } {
  const done: Write[] = [];
  let stopped = false;
  let next = 1;
  const loops = Array.from({ length: WRITERS }, async () => {
    for (let i = 0; i < 5000 && !stopped; i++) {
      const actId = next++;
      const body = JSON.stringify({
        actId,
        username: user.username,
        timestamp: '07-12-2026:00-00-12',
        caption: `write ${actId}`,
        categoryName: user.category,
        imgB64: PNG.toString('base64'),
      });
      const at = Date.now();
      try {
        const res = await request(`${base}/api/v1/acts`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', cookie: user.cookie },
          body,
          headersTimeout: 60_000,
        });
        await res.body.dump();
        done.push({ actId, status: res.statusCode, at, ms: Date.now() - at });
      } catch (err) {
        done.push({ actId, status: 0, error: String((err as { code?: string }).code ?? err), at, ms: Date.now() - at });
      }
      await sleep(20);
    }
  });
  return {
    async stop() {
      stopped = true;
      await Promise.all(loops);
      return done;
    },
  };
}

describe('pressure: users rolled and crashed while acts takes writes', { skip, timeout: 300_000 }, () => {
  const engine = skip ? undefined : TEST_ENGINE.client();
  const base = `http://127.0.0.1:${LISTEN}`;
  const suite = supervisorSuite(
    shippedSetup(engine, {
      suite: 'pressure-users',
      listenPort: LISTEN,
      adminPort: ADMIN,
      actsPort: 33110,
      usersPort: USERS,
    }),
  );
  const { admin } = suite;

  test('0 failed writes through a rolling replacement of users and a crash of its replica', async (t) => {
    const user = await siteUser(base, 'writer', 'roll');
    const seq = await lastSeq(admin);
    const load = writers(base, user);
    await sleep(1000);

    // The roll: a change of users' env, applied by SIGHUP: a surge replica first, then the old one goes.
    const before = (await admin.status()).services.users!.replicas[0]!.id;
    const file = path.join(suite.dir, 'orchestrator.json');
    const config = JSON.parse(await readFile(file, 'utf8')) as { services: { users: { env: Record<string, string> } } };
    config.services.users.env.PRESSURE_ROLL = '1';
    await writeFile(file, JSON.stringify(config));
    suite.sup.child.kill('SIGHUP');
    const rolled = await admin.waitFor(
      (s) => {
        const users = s.services.users!;
        return users.rollout === null &&
          users.replicas.length === 1 &&
          users.replicas[0]!.id !== before &&
          users.replicas[0]!.state === 'ready'
          ? users.replicas[0]
          : undefined;
      },
      'users rolled to one new ready replica',
      90_000,
    );
    await sleep(1000);

    // The crash: every request to it answers 500 until the heartbeat has it replaced.
    assert.equal((await http('POST', `http://127.0.0.1:${USERS}/api/v1/_crash`)).status, 200);
    await admin.waitFor(
      (s) => {
        const users = s.services.users!.replicas;
        return users.length === 1 && users[0]!.id !== rolled.id && users[0]!.state === 'ready' ? true : undefined;
      },
      'the crashed users replica replaced',
      60_000,
    );
    await sleep(1000);
    const writes = await load.stop();

    const failed = writes.filter((w) => w.status !== 201);
    const events = await eventsOf(
      admin,
      ['replica.started', 'replica.replaced', 'replica.failed', 'replica.stopped'],
      seq,
    );
    t.diagnostic(
      `${writes.length} writes, the longest ${Math.max(...writes.map((w) => w.ms))} ms; users events: ${events
        .filter((e) => e.service === 'users')
        .map((e) => `${e.type} ${e.port}`)
        .join(', ')}`,
    );
    const byStatus: Record<string, number> = {};
    for (const w of failed) byStatus[String(w.status || w.error)] = (byStatus[String(w.status || w.error)] ?? 0) + 1;
    await recordRow('users', {
      writes: writes.length,
      failedWrites: failed.length,
      failures: JSON.stringify(byStatus),
      longestWriteMs: Math.max(...writes.map((w) => w.ms)),
    });
    assert.deepEqual(
      failed.map((w) => `${w.actId}: ${w.status || w.error}`),
      [],
      `${failed.length} of ${writes.length} writes failed`,
    );
    assert.ok(writes.length >= 50, `${writes.length} writes in all`);
    assert.ok(
      events.some((e) => e.service === 'users' && e.type === 'replica.failed'),
      'the crash was seen and the replica replaced',
    );
    // Every acknowledged write is there.
    const count = JSON.parse(
      (await http('GET', `${base}/api/v1/categories/${user.category}/acts/size`)).text,
    ) as number[];
    assert.equal(count[0], writes.length - failed.length);
  });
});
