// Event mapping and the reconnect logic. The reconnect is exercised against a local server on
// a unix socket that plays the engine's part (ends the stream as a restarting engine does,
// then honours `since`), because the shared dockerd cannot be restarted from a test.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { DockerEngine, type EngineEvent } from '../../engine-client/index.ts';
import { cursorOf, toEngineEvent, toTimestamp } from '../../engine-client/events.ts';

function eventLine(action: string, timeNano: bigint, id = 'c1'): string {
  return `${JSON.stringify({
    Type: 'container',
    Action: action,
    Actor: { ID: id, Attributes: { 'selflessacts.service': 'acts' } },
    scope: 'local',
    time: Number(timeNano / 1_000_000_000n),
  }).slice(0, -1)},"timeNano":${timeNano}}\n`;
}

describe('engine events', () => {
  test('timestamps and cursors use the engine’s seconds.nanoseconds form, exactly', () => {
    assert.equal(toTimestamp(undefined), undefined);
    assert.equal(toTimestamp(1700000000), '1700000000.000000000');
    assert.equal(toTimestamp(new Date(1700000000123)), '1700000000.123000000');
    assert.equal(toTimestamp('10m'), '10m');
    assert.equal(cursorOf(1700000000000000001n), '1700000000.000000001');
    const event = toEngineEvent(eventLine('start', 1700000000123456789n).trim());
    assert.deepEqual(event, {
      type: 'container',
      action: 'start',
      id: 'c1',
      attributes: { 'selflessacts.service': 'acts' },
      scope: 'local',
      time: 1700000000,
      timeNano: '1700000000123456789', // a double would have rounded this
      cursor: '1700000000.123456789',
    });
  });

  test('reconnects after the engine ends the stream, resumes with since, drops replayed events', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sa-engine-events-'));
    const t0 = 1700000000000000000n;
    const requests: string[] = [];
    let connection = 0;
    const open = new Set<ServerResponse>();
    const server = createServer((req, res) => {
      requests.push(req.url ?? '');
      if (req.url === '/_ping') return res.setHeader('Api-Version', '1.41').end('OK');
      connection += 1;
      res.writeHead(200, { 'content-type': 'application/json' });
      open.add(res);
      if (connection === 1) {
        res.write(eventLine('create', t0));
        res.write(eventLine('start', t0 + 5n));
        setTimeout(() => res.end(), 50); // the engine going away
      } else if (connection === 2) {
        res.destroy(); // still restarting: the connection drops at once
      } else {
        // The restarted engine replays from `since` (inclusive) and carries on.
        res.write(eventLine('start', t0 + 5n));
        res.write(eventLine('die', t0 + 9n));
        res.write(eventLine('destroy', t0 + 12n));
      }
    });
    await new Promise<void>((resolve) => server.listen(path.join(dir, 'engine.sock'), resolve));
    const engine = new DockerEngine({ socketPath: path.join(dir, 'engine.sock') });
    const controller = new AbortController();
    const reconnects: Array<[string, number]> = [];
    const events: EngineEvent[] = [];
    try {
      for await (const event of engine.events({
        types: ['container'],
        signal: controller.signal,
        reconnect: { delayMs: 10 },
        onReconnect: (error, attempt) => reconnects.push([(error as { code?: string }).code ?? '', attempt]),
      })) {
        events.push(event);
        if (event.action === 'destroy') controller.abort();
      }
    } finally {
      for (const res of open) res.destroy();
      await engine.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await rm(dir, { recursive: true, force: true });
    }
    assert.deepEqual(
      events.map((e) => e.action),
      ['create', 'start', 'die', 'destroy'],
    );
    assert.equal(reconnects[0]?.[1], 1);
    assert.equal(reconnects.length, 2);
    const since = encodeURIComponent(cursorOf(t0 + 5n));
    const eventCalls = requests.filter((url) => url.startsWith('/v1.41/events'));
    assert.equal(eventCalls.length, 3);
    assert.ok(!eventCalls[0]?.includes('since='), 'the first call has no since');
    assert.ok(eventCalls[2]?.includes(`since=${since}`), `resumed from the last event: ${eventCalls[2]}`);
  });
});
