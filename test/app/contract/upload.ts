// Acts service, row 15 (JSON upload) and row 16, with the users service asked over HTTP.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Backend } from '../support/backends.ts';
import { actBody, addAct, addCategory, addUser, IMG_B64 } from '../support/data.ts';
import { expectError, expectReply, freshServices } from '../support/fixture.ts';
import { startActs, startUsers } from '../support/services.ts';
import { api } from '../support/client.ts';

const BASE = actBody({ actId: 0, username: 'uma', categoryName: 'help' });

/**
 * Row 15's body as JSON text with the actId token written verbatim (so -1, 1.5 or 5e2 reach
 * the server as sent; undefined leaves it out) and fields changed or, with undefined, removed.
 */
function rawBody(actIdToken: string | undefined, changes: Record<string, unknown> = {}): string {
  const fields: Record<string, unknown> = { ...BASE, ...changes };
  delete fields.actId;
  for (const [key, value] of Object.entries(changes)) if (value === undefined) delete fields[key];
  const rest = JSON.stringify(fields);
  return actIdToken === undefined ? rest : `{"actId":${actIdToken},${rest.slice(1)}`;
}

export function uploadContract(backend: Backend): void {
  describe('JSON upload (rows 15, 16)', () => {
    const f = freshServices(backend);

    test('setup: a user and a category', async () => {
      await addUser(f.users, 'uma');
      await addCategory(f.acts, 'help');
      expectReply(await f.acts.get('/api/v1/acts/count'), 200, [0]);
    });

    test('row 15: a valid act → 201 {}; row 16 counts it', async () => {
      await addAct(f.acts, actBody({ actId: 1, username: 'uma', categoryName: 'help' }));
      expectReply(await f.acts.get('/api/v1/acts/count'), 200, [1]);
    });

    test('row 15: the act comes back with exactly the spec keys and upvotes 0', async () => {
      const reply = await f.acts.get('/api/v1/categories/help/acts');
      expectReply(reply, 200, [
        {
          actId: 1,
          username: 'uma',
          timestamp: '15-06-2021:30-45-12',
          caption: 'helped a neighbour',
          upvotes: 0,
          categoryName: 'help',
          imgB64: IMG_B64,
        },
      ]);
    });

    const bigIds: [string, string][] = [
      ['9007199254740993 (2^53 + 1)', '9007199254740993'],
      ['a 40-digit actId', '1234567890123456789012345678901234567890'],
      ['a 300-digit actId', '9'.repeat(300)],
      ['actId 0', '0'],
    ];
    for (const [name, digits] of bigIds) {
      test(`row 15: ${name} round-trips with every digit`, async () => {
        const body = rawBody(digits, { caption: `id ${digits}` });
        expectReply(await f.acts.post('/api/v1/acts', body), 201, {});
        const reply = await f.acts.get('/api/v1/acts?start=1&end=1');
        // Equal timestamps: the latest upload comes first.
        assert.ok(reply.text.includes(`"actId":${digits},`), reply.text.slice(0, 200));
        expectError(await f.acts.post('/api/v1/acts', body), 400);
      });
    }

    test('row 14: an actId in a route is compared as an integer: 007 is act 7', async () => {
      await addAct(f.acts, actBody({ actId: 7, username: 'uma', categoryName: 'help' }));
      expectError(await f.acts.post('/api/v1/acts', rawBody('7')), 400);
      expectReply(await f.acts.del('/api/v1/acts/007'), 200, {});
      expectError(await f.acts.del('/api/v1/acts/7'), 400);
    });

    test('row 15: a 10,000-character caption and username, and an empty caption', async () => {
      const long = 'n'.repeat(10_000);
      await addUser(f.users, long);
      const caption = `${'c'.repeat(9_999)}✓`;
      await addAct(f.acts, actBody({ actId: 8, username: long, categoryName: 'help', caption }));
      await addAct(f.acts, actBody({ actId: 9, username: 'uma', categoryName: 'help', caption: '' }));
      const reply = await f.acts.get(`/api/v1/acts?username=${encodeURIComponent(long)}&start=1&end=1`);
      expectReply(reply, 200);
      const [act] = reply.json as Record<string, unknown>[];
      assert.equal(act?.caption, caption);
      assert.equal(act?.username, long);
    });

    const invalid: [string, string][] = [
      ['actId as a string', rawBody('"501"')],
      ['actId negative', rawBody('-1')],
      ['actId with a fraction', rawBody('1.5')],
      ['actId with a zero fraction', rawBody('501.0')],
      ['actId with an exponent', rawBody('5e2')],
      ['actId null', rawBody('null')],
      ['actId an array', rawBody('[501]')],
      ['actId taken', rawBody('1')],
      ['actId missing', rawBody(undefined)],
      ['upvotes present', rawBody('501', { upvotes: 0 })],
      ['an unknown field', rawBody('501', { location: 'here' })],
      ['username missing', rawBody('501', { username: undefined })],
      ['username unknown to the users service', rawBody('501', { username: 'nobody' })],
      ['username in the wrong case', rawBody('501', { username: 'UMA' })],
      ['username empty', rawBody('501', { username: '' })],
      ['username a number', rawBody('501', { username: 5 })],
      ['timestamp missing', rawBody('501', { timestamp: undefined })],
      ['timestamp 31 February', rawBody('501', { timestamp: '31-02-2020:00-00-00' })],
      ['timestamp 29 February in a common year', rawBody('501', { timestamp: '29-02-2021:00-00-00' })],
      ['timestamp hour 24', rawBody('501', { timestamp: '01-01-2020:00-00-24' })],
      ['timestamp minute 60', rawBody('501', { timestamp: '01-01-2020:00-60-00' })],
      ['timestamp second 60', rawBody('501', { timestamp: '01-01-2020:60-00-00' })],
      ['timestamp month 13', rawBody('501', { timestamp: '01-13-2020:00-00-00' })],
      ['timestamp day 00', rawBody('501', { timestamp: '00-01-2020:00-00-00' })],
      ['timestamp year 0000', rawBody('501', { timestamp: '01-01-0000:00-00-00' })],
      ['timestamp with one-digit fields', rawBody('501', { timestamp: '1-1-2020:0-0-0' })],
      ['timestamp in ISO format', rawBody('501', { timestamp: '2020-01-01T00:00:00Z' })],
      ['timestamp with trailing text', rawBody('501', { timestamp: '01-01-2020:00-00-00 ' })],
      ['timestamp a number', rawBody('501', { timestamp: 1577836800 })],
      ['caption missing', rawBody('501', { caption: undefined })],
      ['caption null', rawBody('501', { caption: null })],
      ['categoryName unknown', rawBody('501', { categoryName: 'nothing' })],
      ['categoryName in the wrong case', rawBody('501', { categoryName: 'HELP' })],
      ['categoryName missing', rawBody('501', { categoryName: undefined })],
      ['imgB64 "$bWF5byBvci$BtdX$N0Pw=="', rawBody('501', { imgB64: '$bWF5byBvci$BtdX$N0Pw==' })],
      ['imgB64 empty', rawBody('501', { imgB64: '' })],
      ['imgB64 without its padding', rawBody('501', { imgB64: 'TWE' })],
      ['imgB64 padding in the middle', rawBody('501', { imgB64: 'TW==TWFu' })],
      ['imgB64 three padding characters', rawBody('501', { imgB64: 'T===' })],
      ['imgB64 with whitespace', rawBody('501', { imgB64: 'TWFu TWFu' })],
      ['imgB64 with a newline', rawBody('501', { imgB64: 'TWFu\nTWFu' })],
      ['imgB64 in the URL-safe alphabet', rawBody('501', { imgB64: 'a-_a' })],
      ['imgB64 with non-zero padding bits', rawBody('501', { imgB64: 'TWF=' })],
      ['imgB64 a number', rawBody('501', { imgB64: 1234 })],
      ['imgB64 missing', rawBody('501', { imgB64: undefined })],
      ['body an array', '[1]'],
      ['body empty', ''],
      ['malformed JSON', '{"actId": 1,'],
      [
        'a duplicated key with different values',
        rawBody('501', { caption: 'a' }).replace('"caption":"a"', '"caption":"a","caption":"b"'),
      ],
    ];
    for (const [name, body] of invalid) {
      test(`row 15: ${name} → 400, nothing stored`, async () => {
        const before = (await f.acts.get('/api/v1/acts/count')).json;
        expectError(
          await f.acts.call('POST', '/api/v1/acts', { body, headers: { 'content-type': 'application/json' } }),
          400,
        );
        assert.deepEqual((await f.acts.get('/api/v1/acts/count')).json, before);
      });
    }

    test('row 15: imgB64 with = padding, and + and / characters, is accepted', async () => {
      const bytes = Buffer.from([0xfb, 0xff, 0xbf, 0x01]);
      await addAct(
        f.acts,
        actBody({ actId: 600, username: 'uma', categoryName: 'help', imgB64: bytes.toString('base64') }),
      );
      const image = await f.acts.get('/api/v1/acts/600/image');
      assert.deepEqual(image.raw, bytes);
    });

    test('row 15: the user check finds names that need escaping in a URL: "..", ".", "a/b", "?#%"', async () => {
      let actId = 650;
      for (const username of ['..', '.', 'a/b', '?#%']) {
        await addUser(f.users, username);
        await addAct(f.acts, actBody({ actId: actId++, username, categoryName: 'help' }));
      }
    });

    test('row 15: the user check sends an Origin header naming the acts service', async () => {
      // A users service of our own that records what it is asked.
      const { createServer } = await import('node:http');
      const seen: (string | undefined)[] = [];
      const spy = createServer((req, res) => {
        seen.push(req.headers.origin);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
      await new Promise<void>((resolve) => spy.listen(0, '127.0.0.1', resolve));
      const port = (spy.address() as { port: number }).port;
      const acts = await startActs(f.store.storage, `http://127.0.0.1:${port}`, {
        actsOrigin: 'http://acts.example:8000',
      });
      try {
        await addAct(api(acts.url), actBody({ actId: 601, username: 'uma', categoryName: 'help' }));
        assert.deepEqual(seen, ['http://acts.example:8000']);
      } finally {
        await acts.close();
        spy.close();
      }
    });

    test('row 15: users service down → 503 with a clear error, nothing stored; back up → 201', async () => {
      const users = await startUsers(f.store.storage);
      const acts = await startActs(f.store.storage, users.url);
      const client = api(acts.url);
      try {
        await users.close();
        const before = (await client.get('/api/v1/acts/count')).json;
        const reply = await client.post('/api/v1/acts', actBody({ actId: 700, username: 'uma', categoryName: 'help' }));
        expectError(reply, 503);
        assert.match((reply.json as { error: string }).error, /users service/);
        assert.deepEqual((await client.get('/api/v1/acts/count')).json, before);
        expectError(await client.del('/api/v1/acts/700'), 400);
      } finally {
        await acts.close();
      }
      // The same upload through the regular pair still works: nothing half-written blocks it.
      await addAct(f.acts, actBody({ actId: 700, username: 'uma', categoryName: 'help' }));
    });

    test('row 15: a users service that answers 500 → 503, nothing stored', async () => {
      const { createServer } = await import('node:http');
      const broken = createServer((_req, res) => res.writeHead(500).end('{"error":"boom"}'));
      await new Promise<void>((resolve) => broken.listen(0, '127.0.0.1', resolve));
      const acts = await startActs(f.store.storage, `http://127.0.0.1:${(broken.address() as { port: number }).port}`);
      try {
        expectError(
          await api(acts.url).post('/api/v1/acts', actBody({ actId: 701, username: 'uma', categoryName: 'help' })),
          503,
        );
        expectError(await f.acts.del('/api/v1/acts/701'), 400);
      } finally {
        await acts.close();
        broken.close();
      }
    });

    test('a deleted user’s acts stay (row 2); new uploads by them → 400 (row 15)', async () => {
      await addUser(f.users, 'leaver');
      await addAct(f.acts, actBody({ actId: 800, username: 'leaver', categoryName: 'help' }));
      expectReply(await f.users.del('/api/v1/users/leaver'), 200, {});
      const reply = await f.acts.get('/api/v1/acts?username=leaver&start=1&end=1');
      expectReply(reply, 200);
      assert.equal((reply.json as { actId: number }[])[0]?.actId, 800);
      expectError(
        await f.acts.post('/api/v1/acts', actBody({ actId: 801, username: 'leaver', categoryName: 'help' })),
        400,
      );
    });
  });
}
