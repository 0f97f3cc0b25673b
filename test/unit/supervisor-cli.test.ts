// The pure parts of the `selflessacts` command and what it relies on: ages, the status table,
// "did you mean", the admin API's log query, which commands the process runtime runs from the
// bundle, and tail -n on a log file.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parseLogQuery } from '../../supervisor/admin/logs.ts';
import { age, statusTable } from '../../supervisor/cli/format.ts';
import { didYouMean } from '../../supervisor/schema/suggest.ts';
import { readLogFile } from '../../supervisor/runtime/log-file.ts';
import { memoryBounds } from '../../supervisor/runtime/process.ts';
import type { StatusBody } from '../../supervisor/admin/status.ts';

describe('age as kubectl prints it', () => {
  const rows: Array<[string, number, string]> = [
    ['under a minute: seconds', 45_000, '45s'],
    ['minutes', 12 * 60_000 + 5_000, '12m'],
    ['hours and minutes while few', 3 * 3_600_000 + 5 * 60_000, '3h5m'],
    ['whole hours', 11 * 3_600_000 + 5 * 60_000, '11h'],
    ['days and hours', 2 * 86_400_000 + 4 * 3_600_000, '2d4h'],
    ['a clock behind the start: 0s, never negative', -5_000, '0s'],
  ];
  for (const [name, elapsed, want] of rows) test(name, () => assert.equal(age(1_000_000, 1_000_000 + elapsed), want));
});

test('status table: columns padded to the widest cell, a row per replica, a dash row for a service with none', () => {
  const replica = (id: string, port: number, requestsServed: number) => ({
    id,
    port,
    url: '',
    state: 'ready' as const,
    health: 'ok' as const,
    requestsServed,
    startedAt: new Date(0).toISOString(),
    consecutiveFailures: 0,
    inRotation: true,
  });
  const status: StatusBody = {
    runtime: 'docker',
    upstreamParser: { parser: 'llhttp', reason: null },
    memoryEnforcement: 'cgroup',
    cpuEnforcement: 'cgroup',
    limits: "the engine's cgroup per container",
    startedAt: new Date(0).toISOString(),
    listen: null,
    listenError: null,
    capacity: null,
    services: {
      acts: {
        desired: 2,
        min: 1,
        max: 10,
        autoscale: true,
        override: null,
        window: null,
        failures: [],
        rollout: null,
        memoryMb: 256,
        memoryRequestMb: 256,
        capped: null,
        replicas: [replica('a'.repeat(64), 8000, 17), replica('b'.repeat(64), 8001, 1234)],
      },
      users: {
        desired: 1,
        min: 1,
        max: 1,
        autoscale: false,
        override: null,
        window: null,
        failures: [],
        rollout: null,
        memoryMb: 256,
        memoryRequestMb: 256,
        capped: null,
        replicas: [],
      },
    },
  };
  assert.equal(
    statusTable(status, 90_000),
    [
      'SERVICE  REPLICA       PORT  STATE  HEALTH  AGE  REQUESTS',
      'acts     aaaaaaaaaaaa  8000  ready  ok      1m   17',
      'acts     bbbbbbbbbbbb  8001  ready  ok      1m   1234',
      'users    -             -     none   -       -    -',
    ].join('\n'),
  );
});

describe('did you mean', () => {
  const keys = ['heartbeat', 'scaling', 'listen', 'admin', 'services', 'startPort', 'status'];
  const rows: Array<[string, string, string]> = [
    ['a swapped pair of letters', 'heartbaet', ' (did you mean "heartbeat"?)'],
    ['case only', 'startport', ' (did you mean "startPort"?)'],
    ['a missing letter', 'servces', ' (did you mean "services"?)'],
    ['a swap counts as one slip, so it wins a tie', 'stauts', ' (did you mean "status"?)'],
    ['nothing near: no guess', 'timeout', ''],
  ];
  for (const [name, given, want] of rows) test(name, () => assert.equal(didYouMean(given, keys), want));
});

describe('GET /logs query', () => {
  const rows: Array<[string, string, ReturnType<typeof parseLogQuery>]> = [
    ['defaults: everything, no follow', '', { follow: false, tail: undefined }],
    ['tail and follow', 'tail=10&follow=1', { follow: true, tail: 10 }],
    ['tail=all', 'tail=all&follow=false', { follow: false, tail: undefined }],
    ['negative tail', 'tail=-1', { error: 'tail must be "all" or an integer from 0 to 100000' }],
    ['huge tail', 'tail=999999', { error: 'tail must be "all" or an integer from 0 to 100000' }],
    ['follow that is not a boolean', 'follow=yes', { error: 'follow must be true or false' }],
  ];
  for (const [name, query, want] of rows)
    test(name, () => assert.deepEqual(parseLogQuery(new URLSearchParams(query)), want));
});

describe('a log file read as tail -n N', () => {
  const read = async (content: string, tail: number | undefined) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sa-logfile-'));
    try {
      const file = path.join(dir, 'x.log');
      await writeFile(file, content);
      let out = '';
      for await (const chunk of readLogFile(file, {
        follow: false,
        tail,
        signal: new AbortController().signal,
        writing: () => false,
      }))
        out += chunk.data.toString();
      return out;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
  test('the last lines, a final newline ending a line', async () => assert.equal(await read('a\nb\nc\n', 2), 'b\nc\n'));
  test('a last line without its newline counts', async () => assert.equal(await read('a\nb\nc', 1), 'c'));
  test('more lines asked than there are: all', async () => assert.equal(await read('a\nb\n', 10), 'a\nb\n'));
  test('tail 0: nothing', async () => assert.equal(await read('a\nb\n', 0), ''));
  test('lines across 64 KiB blocks', async () => {
    const long = `${'x'.repeat(70_000)}\n`;
    assert.equal(await read(`first\n${long}${long}`, 1), long);
  });
  test('no file yet: nothing, no error', async () => {
    let count = 0;
    for await (const _ of readLogFile('/nonexistent/sa.log', {
      follow: true,
      tail: 5,
      signal: new AbortController().signal,
      writing: () => true,
    }))
      count++;
    assert.equal(count, 0);
  });
});

describe('the process runtime holds a node child near its memory limit', () => {
  const rows: Array<[string, string[], number, string[]]> = [
    [
      "30 % of memoryMb for V8's old space, 1 MB semi-spaces",
      ['--enable-source-maps', 'dist/app.mjs'],
      256,
      ['--max-old-space-size=77', '--max-semi-space-size=1', '--enable-source-maps', 'dist/app.mjs'],
    ],
    [
      'a heap size the command gives itself wins',
      ['--max-old-space-size=100', 'x.mjs'],
      256,
      ['--max-semi-space-size=1', '--max-old-space-size=100', 'x.mjs'],
    ],
    [
      'so does a semi-space size',
      ['--max-semi-space-size=8', 'x.mjs'],
      512,
      ['--max-old-space-size=154', '--max-semi-space-size=8', 'x.mjs'],
    ],
    ['never below 16 MB of heap', ['x.mjs'], 16, ['--max-old-space-size=16', '--max-semi-space-size=1', 'x.mjs']],
  ];
  for (const [name, args, memoryMb, want] of rows)
    test(name, () => assert.deepEqual(memoryBounds(args, memoryMb).args, want));
  test("and the images' allocator settings", () =>
    assert.deepEqual(memoryBounds([], 256).env, { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '131072' }));
});
