// The balancer's pure parts: strategies over shared memory (as several threads see it),
// shared counters, the canonical target, prefix routing, header rules and the retry rule.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { downstreamHeaders, hostOf, upstreamHead } from '../../supervisor/balancer/headers.ts';
import { afterFailure, retryOnStatus } from '../../supervisor/balancer/retry.ts';
import { PrefixTable, pathSet } from '../../supervisor/balancer/routes.ts';
import { RequestCounters, ServedCounters, SharedLayout, SharedState } from '../../supervisor/balancer/shared-state.ts';
import {
  LeastOutstanding,
  RoundRobin,
  type AttemptOutcome,
  type Member,
  type Strategy,
} from '../../supervisor/balancer/strategy.ts';
import { canonicalTarget } from '../../supervisor/balancer/target.ts';
import { TrackedList, type Linked } from '../../supervisor/balancer/tracked.ts';

const EPOCH = 1_700_000_000_000;

function layout(threads = 1): SharedLayout {
  return new SharedLayout({
    services: [
      { name: 'acts', startPort: 8000, ports: 10 },
      { name: 'users', startPort: 8080, ports: 2 },
    ],
    threads,
    clientBuckets: 64,
  });
}

function fakeClock(start = EPOCH) {
  const clock = { t: start, now: () => clock.t };
  return clock;
}

/** Thread `n`'s strategy over a buffer shared by all. */
function strategyOn(
  kind: 'rr' | 'lor',
  l: SharedLayout,
  buffer: SharedArrayBuffer,
  thread: number,
  clock = fakeClock(),
): { s: Strategy; shared: SharedState } {
  const shared = new SharedState(buffer, l, thread, EPOCH);
  const options = {
    shared,
    service: l.serviceIndex('acts'),
    clock,
    suspectMs: 1000,
    suspectAfter5xx: 2,
    panicThresholdPercent: 50,
  };
  return { s: kind === 'rr' ? new RoundRobin(options) : new LeastOutstanding(options), shared };
}

/** ready: in rotation; 'out': live but held out of rotation; false: starting (neither). */
const member = (l: SharedLayout, id: string, port: number, ready: boolean | 'out' = true): Member => ({
  id,
  port,
  slot: l.slotOf('acts', port),
  ready: ready === true,
  live: ready !== false,
});

type Step =
  | ['set', Array<[string, number, (boolean | 'out')?]>]
  | ['pick', number, string[]?]
  | ['fail', string]
  | ['end', string, AttemptOutcome]
  | ['tick', number];

/** Picks (released at once as ok unless told) as a string of ids; '-' for none. */
function run(kind: 'rr' | 'lor', steps: Step[]): string {
  const l = layout();
  const clock = fakeClock();
  const { s, shared } = strategyOn(kind, l, l.create(), 0, clock);
  let members: Member[] = [];
  let out = '';
  for (const step of steps) {
    if (step[0] === 'set') {
      members = step[1].map(([id, port, ready]) => member(l, id, port, ready ?? true));
      s.setMembers(members);
    } else if (step[0] === 'pick') {
      const tried = members.filter((m) => (step[2] ?? []).includes(m.id));
      for (let i = 0; i < step[1]; i++) {
        const m = s.acquire(tried);
        out += m?.id ?? '-';
        if (m) s.release(m, 'ok');
      }
    } else if (step[0] === 'fail' || step[0] === 'end') {
      const m = members.find((x) => x.id === step[1])!;
      shared.begin(m.slot); // an attempt on it, which ended so
      s.release(m, step[0] === 'fail' ? 'refused' : step[2]);
    } else clock.t += step[1];
  }
  return out;
}

describe('round robin (strategy)', () => {
  const rows: Array<{ name: string; steps: Step[]; want: string }> = [
    {
      name: '6 requests over A and B → 3 each, in strict order',
      steps: [
        [
          'set',
          [
            ['A', 8000],
            ['B', 8001],
          ],
        ],
        ['pick', 6],
      ],
      want: 'ABABAB',
    },
    {
      name: 'three replicas rotate A B C',
      steps: [
        [
          'set',
          [
            ['A', 8000],
            ['B', 8001],
            ['C', 8002],
          ],
        ],
        ['pick', 6],
      ],
      want: 'ABCABC',
    },
    {
      name: 'order is by port, not by arrival',
      steps: [
        [
          'set',
          [
            ['B', 8001],
            ['A', 8000],
          ],
        ],
        ['pick', 4],
      ],
      want: 'ABAB',
    },
    {
      name: 'a not-ready replica is skipped',
      steps: [
        [
          'set',
          [
            ['A', 8000],
            ['B', 8001, false],
            ['C', 8002],
          ],
        ],
        ['pick', 4],
      ],
      want: 'ACAC',
    },
    {
      name: 'ready again: it rejoins in its place',
      steps: [
        [
          'set',
          [
            ['A', 8000],
            ['B', 8001, false],
          ],
        ],
        ['pick', 2],
        [
          'set',
          [
            ['A', 8000],
            ['B', 8001],
          ],
        ],
        ['pick', 3],
      ],
      want: 'AABAB',
    },
    {
      name: 'a replica already tried is skipped and the order continues',
      steps: [
        [
          'set',
          [
            ['A', 8000],
            ['B', 8001],
            ['C', 8002],
          ],
        ],
        ['pick', 1],
        ['pick', 1, ['B']],
        ['pick', 3],
      ],
      want: 'ACABC',
    },
    {
      name: 'a replica added mid-rotation takes its turn by port',
      steps: [
        [
          'set',
          [
            ['A', 8000],
            ['C', 8002],
          ],
        ],
        ['pick', 1],
        [
          'set',
          [
            ['A', 8000],
            ['B', 8001],
            ['C', 8002],
          ],
        ],
        ['pick', 3],
      ],
      want: 'ABCA',
    },
    {
      name: 'removing the last picked keeps the rotation going',
      steps: [
        [
          'set',
          [
            ['A', 8000],
            ['B', 8001],
            ['C', 8002],
          ],
        ],
        ['pick', 2],
        [
          'set',
          [
            ['A', 8000],
            ['C', 8002],
          ],
        ],
        ['pick', 3],
      ],
      want: 'ABCAC',
    },
    {
      name: 'a suspect replica is passed over while it is suspect',
      steps: [
        [
          'set',
          [
            ['A', 8000],
            ['B', 8001],
          ],
        ],
        ['fail', 'B'],
        ['pick', 3],
        ['tick', 1001],
        ['pick', 2],
      ],
      want: 'AAABA',
    },
    {
      name: 'one 5xx answer is not enough; two in a row make a replica suspect',
      steps: [
        [
          'set',
          [
            ['A', 8000],
            ['B', 8001],
          ],
        ],
        ['end', 'B', 'server-error'],
        ['pick', 2],
        ['end', 'B', 'server-error'],
        ['end', 'B', 'server-error'],
        ['pick', 3],
      ],
      want: 'ABAAA',
    },
    {
      name: 'a good answer ends a run of 5xx',
      steps: [
        [
          'set',
          [
            ['A', 8000],
            ['B', 8001],
          ],
        ],
        ['end', 'B', 'server-error'],
        ['end', 'B', 'ok'],
        ['end', 'B', 'server-error'],
        ['pick', 2],
      ],
      want: 'AB',
    },
    {
      name: 'a per-attempt timeout makes a replica suspect at once',
      steps: [
        [
          'set',
          [
            ['A', 8000],
            ['B', 8001],
          ],
        ],
        ['end', 'B', 'timeout'],
        ['pick', 2],
      ],
      want: 'AA',
    },
    {
      name: 'a suspect replica still serves when it is the only one left',
      steps: [
        [
          'set',
          [
            ['A', 8000],
            ['B', 8001],
          ],
        ],
        ['fail', 'B'],
        ['pick', 2, ['A']],
      ],
      want: 'BB',
    },
    {
      name: 'none ready → nothing',
      steps: [
        ['set', [['A', 8000, false]]],
        ['pick', 2],
      ],
      want: '--',
    },
    {
      name: 'a replica held out of rotation is skipped while at least half are in',
      steps: [
        [
          'set',
          [
            ['A', 8000],
            ['B', 8001, 'out'],
            ['C', 8002],
          ],
        ],
        ['pick', 4],
      ],
      want: 'ACAC',
    },
    {
      name: 'panic: fewer than half of the live replicas in rotation → every live one takes its turn',
      steps: [
        [
          'set',
          [
            ['A', 8000],
            ['B', 8001, 'out'],
            ['C', 8002, 'out'],
          ],
        ],
        ['pick', 6],
      ],
      want: 'ABCABC',
    },
    {
      name: 'panic: none in rotation, all held out → all of them, rather than a 503',
      steps: [
        [
          'set',
          [
            ['A', 8000, 'out'],
            ['B', 8001, 'out'],
          ],
        ],
        ['pick', 4],
      ],
      want: 'ABAB',
    },
    {
      name: 'panic never sends to a starting replica',
      steps: [
        [
          'set',
          [
            ['A', 8000, 'out'],
            ['B', 8001, false],
          ],
        ],
        ['pick', 2],
      ],
      want: 'AA',
    },
    {
      name: 'back above the threshold: held-out replicas are skipped again',
      steps: [
        [
          'set',
          [
            ['A', 8000],
            ['B', 8001, 'out'],
            ['C', 8002, 'out'],
          ],
        ],
        ['pick', 3],
        [
          'set',
          [
            ['A', 8000],
            ['B', 8001],
            ['C', 8002, 'out'],
          ],
        ],
        ['pick', 4],
      ],
      want: 'ABCABAB',
    },
    {
      name: 'everything tried → nothing',
      steps: [
        ['set', [['A', 8000]]],
        ['pick', 1, ['A']],
      ],
      want: '-',
    },
  ];
  for (const row of rows) test(row.name, () => assert.equal(run('rr', row.steps), row.want));

  test('strict across threads: two threads sharing the buffer alternate A and B, 3 each of 6', () => {
    const l = layout(2);
    const buffer = l.create();
    const threads = [strategyOn('rr', l, buffer, 0), strategyOn('rr', l, buffer, 1)];
    const members = [member(l, 'A', 8000), member(l, 'B', 8001)];
    for (const t of threads) t.s.setMembers(members);
    // Sequential requests landing on arbitrary threads (as reusePort spreads connections).
    const order = [0, 0, 1, 0, 1, 1].map((t) => threads[t]!.s.acquire()!.id).join('');
    assert.equal(order, 'ABABAB');
  });

  test('the shared cursor never hands the same turn to two threads racing', () => {
    const l = layout(4);
    const buffer = l.create();
    const threads = [0, 1, 2, 3].map((t) => strategyOn('rr', l, buffer, t));
    const members = [8000, 8001, 8002].map((p) => member(l, `r${p}`, p));
    for (const t of threads) t.s.setMembers(members);
    const counts: Record<string, number> = {};
    for (let i = 0; i < 300; i++) {
      const m = threads[(i * 7) % 4]!.s.acquire()!;
      counts[m.id] = (counts[m.id] ?? 0) + 1;
    }
    assert.deepEqual(counts, { r8000: 100, r8001: 100, r8002: 100 });
  });
});

describe('least outstanding requests (strategy)', () => {
  test('picks the replica with the fewest requests in flight, counted over all threads', () => {
    const l = layout(2);
    const buffer = l.create();
    const [t0, t1] = [strategyOn('lor', l, buffer, 0), strategyOn('lor', l, buffer, 1)];
    const members = [member(l, 'A', 8000), member(l, 'B', 8001), member(l, 'C', 8002)];
    t0.s.setMembers(members);
    t1.s.setMembers(members);
    const a = t0.s.acquire()!; // A (all 0; rotation starts at A)
    const b = t1.s.acquire()!; // B: A has one in flight on thread 0
    const c = t0.s.acquire()!; // C
    assert.deepEqual([a.id, b.id, c.id], ['A', 'B', 'C']);
    t1.s.release(b, 'ok');
    assert.equal(t0.s.acquire()!.id, 'B', 'B finished first: it has the fewest');
    assert.equal(t0.shared.inFlight(a.slot), 1);
  });

  test('equal loads go round robin', () => {
    assert.equal(
      run('lor', [
        [
          'set',
          [
            ['A', 8000],
            ['B', 8001],
            ['C', 8002],
          ],
        ],
        ['pick', 6],
      ]),
      'ABCABC',
    );
  });

  test('a suspect replica is passed over like in round robin', () => {
    assert.equal(
      run('lor', [
        [
          'set',
          [
            ['A', 8000],
            ['B', 8001],
          ],
        ],
        ['fail', 'B'],
        ['pick', 3],
      ]),
      'AAA',
    );
  });
});

describe('shared counters', () => {
  test("the scaler takes counted requests with the first one's time, the primary served per slot", () => {
    const l = layout(2);
    const buffer = l.create();
    const [t0, t1] = [new SharedState(buffer, l, 0, EPOCH), new SharedState(buffer, l, 1, EPOCH)];
    const requests = new RequestCounters(buffer, l, EPOCH);
    const served = new ServedCounters(buffer, l);
    t0.countRequest(0, EPOCH + 5000);
    t1.countRequest(0, EPOCH + 5200);
    t1.countRequest(1, EPOCH + 5300);
    t0.served(l.slotOf('acts', 8001));
    t1.served(l.slotOf('acts', 8001));
    assert.deepEqual(requests.take(EPOCH + 6000), {
      acts: { count: 2, firstAt: EPOCH + 5000 },
      users: { count: 1, firstAt: EPOCH + 5300 },
    });
    assert.deepEqual([...served.take()], [[l.slotOf('acts', 8001), 2]]);
    assert.deepEqual(requests.take(EPOCH + 7000), {});
    assert.equal(served.take().size, 0);
  });

  test('requests are taken out of the buffer: a new reader (a restarted scaler) counts none twice', () => {
    const l = layout();
    const buffer = l.create();
    const t0 = new SharedState(buffer, l, 0, EPOCH);
    t0.countRequest(0, EPOCH + 100);
    assert.deepEqual(new RequestCounters(buffer, l, EPOCH).take(EPOCH + 200), {
      acts: { count: 1, firstAt: EPOCH + 100 },
    });
    t0.countRequest(0, EPOCH + 300);
    assert.deepEqual(new RequestCounters(buffer, l, EPOCH).take(EPOCH + 400), {
      acts: { count: 1, firstAt: EPOCH + 300 },
    });
  });

  test('a firstAt seen before its count is kept for the next take', () => {
    const l = layout();
    const buffer = l.create();
    const counters = new RequestCounters(buffer, l, EPOCH);
    const a = new Int32Array(buffer);
    Atomics.store(a, l.servicesAt + 2, 1234 + 1); // a thread set firstAt, its add not yet visible
    assert.deepEqual(counters.take(EPOCH + 2000), {});
    Atomics.add(a, l.servicesAt + 1, 1);
    assert.deepEqual(counters.take(EPOCH + 3000), { acts: { count: 1, firstAt: EPOCH + 1234 } });
  });

  test('in flight: each thread its own row; a restarted thread starts from zero', () => {
    const l = layout(2);
    const buffer = l.create();
    const [t0, t1] = [new SharedState(buffer, l, 0, EPOCH), new SharedState(buffer, l, 1, EPOCH)];
    const slot = l.slotOf('acts', 8003);
    t0.begin(slot);
    t1.begin(slot);
    t1.begin(slot);
    assert.deepEqual([t0.ownInFlight(slot), t1.ownInFlight(slot), t0.inFlight(slot)], [1, 2, 3]);
    new SharedState(buffer, l, 1, EPOCH).resetOwnRows(); // thread 1 died and came back
    assert.equal(t0.inFlight(slot), 1);
  });

  test("a port outside the configured range shares the spare slot, not a neighbour's", () => {
    const l = layout();
    assert.notEqual(l.slotOf('acts', 8010), l.slotOf('users', 8080));
    assert.equal(l.slotOf('acts', 8010), l.slotOf('acts', 7000));
    assert.equal(new Set([8000, 8001, 8009].map((p) => l.slotOf('acts', p))).size, 3);
  });

  test('connections per client address are capped over all threads and freed on disconnect', () => {
    const l = layout(2);
    const buffer = l.create();
    const [t0, t1] = [new SharedState(buffer, l, 0, EPOCH), new SharedState(buffer, l, 1, EPOCH)];
    const b1 = t0.connect('203.0.113.7', 2);
    const b2 = t1.connect('203.0.113.7', 2);
    assert.ok(b1 >= 0 && b2 >= 0);
    assert.equal(t0.connect('203.0.113.7', 2), -1, 'third connection refused');
    t1.disconnect(b2);
    assert.ok(t0.connect('203.0.113.7', 2) >= 0);
    assert.ok(t0.connect('203.0.113.7', 0) >= 0, 'cap 0: no cap');
  });

  test('300 clients at their cap, in the real number of buckets: none is refused for sharing a bucket with another', () => {
    const l = new SharedLayout({ services: [], threads: 2, clientBuckets: 16_384 });
    const buffer = l.create(Int32Array.of(11, 22, 33, 44));
    const [t0, t1] = [new SharedState(buffer, l, 0, EPOCH), new SharedState(buffer, l, 1, EPOCH)];
    const clients = Array.from({ length: 300 }, (_, i) => `10.${i >> 8}.${i & 255}.9`);
    const cap = 30;
    let refused = 0;
    for (const client of clients)
      for (let n = 0; n < cap; n++) if ((n % 2 ? t1 : t0).connect(client, cap) < 0) refused++;
    assert.equal(refused, 0);
    for (const client of clients)
      assert.equal(t0.connect(client, cap), -1, `${client}'s next connection is over its cap`);
  });
});

describe('canonical request target', () => {
  const rows: Array<[string, string]> = [
    ['/api/v1/users', '/api/v1/users'],
    ['/api/v1/users?x=1&y=%2F', '/api/v1/users?x=1&y=%2F'],
    ['/api/v1/%75sers', '/api/v1/users'],
    ['/api/v1/%5Fcrash', '/api/v1/_crash'],
    ['/api/v1/caf%c3%a9', '/api/v1/caf%C3%A9'],
    ['/api/v1//users', '/api/v1/users'],
    ['//evil.example/x', '/evil.example/x'],
    ['/api/v1/users/..', '/api/v1/'],
    ['/api/v1/users/%2E%2E', '/api/v1/'],
    ['/api/v1/users/.%2e/acts', '/api/v1/acts'],
    ['/a/./b/', '/a/b/'],
    ['/../../etc/passwd', '/etc/passwd'],
    ['/.well-known/x', '/.well-known/x'],
  ];
  for (const [raw, want] of rows) {
    test(`${raw} → ${want}`, () => {
      const t = canonicalTarget(raw);
      assert.ok(!('error' in t), JSON.stringify(t));
      assert.equal(t.path + t.query, want);
    });
  }
  const refused: Array<[string, RegExp]> = [
    ['/x%2f..%2fdashboard/index.html', /encoded slash/],
    ['/%2F%2Fevil.example%2F..%2Fcss', /encoded slash/],
    ['/a%5cb', /encoded slash or backslash/],
    ['/a\\b', /backslash/],
    ['/a%00', /NUL/],
    ['/a%zz', /malformed/],
    ['/a%4', /malformed/],
    ['/a#frag', /percent-encoded/],
    ['/a?b#c', /percent-encoded/],
    ['/caf\u00e9', /percent-encoded/],
    ['http://elsewhere/x', /origin-form/],
    ['*', /asterisk/],
    ['', /origin-form/],
  ];
  for (const [raw, why] of refused) {
    test(`${JSON.stringify(raw)} → 400`, () => {
      const t = canonicalTarget(raw);
      assert.ok('error' in t, `accepted as ${JSON.stringify(t)}`);
      assert.match(t.error, why);
    });
  }
});

describe('prefix routing: longest prefix, whole segments, case-insensitive like Express', () => {
  const table = new PrefixTable([
    ['/api/v1/users', 'users'],
    ['/api/v1/sessions', 'users'],
    ['/api/v1', 'acts'],
    ['/whoami/', 'whoami'],
  ]);
  const rows: Array<[string, string | undefined]> = [
    ['/api/v1/users', 'users'],
    ['/api/v1/users/', 'users'],
    ['/api/v1/users/bob/exists', 'users'],
    ['/API/V1/USERS', 'users'],
    ['/api/v1/sessions/me', 'users'],
    ['/api/v1/usersx', 'acts'],
    ['/api/v1/categories', 'acts'],
    ['/api/v1', 'acts'],
    ['/api/v10', undefined],
    ['/whoami', 'whoami'],
    ['/whoami/x', 'whoami'],
    ['/', undefined],
    ['/index.html', undefined],
  ];
  for (const [path, service] of rows)
    test(`${path} → ${service ?? 'static files'}`, () => assert.equal(table.lookup(path), service));

  test('blocked paths match every spelling of the canonical path an app accepts', () => {
    const blocked = pathSet(['/api/v1/_crash']);
    for (const raw of [
      '/api/v1/_crash',
      '/API/v1/_CRASH',
      '/api/v1/_crash/',
      '//api//v1//_crash',
      '/api/v1/%5Fcrash',
      '/api/v1/x/../_crash',
      '/api/v1/_crash?x=1',
    ]) {
      const t = canonicalTarget(raw);
      assert.ok(!('error' in t));
      assert.ok(blocked.matches(t.path), raw);
    }
    for (const raw of ['/api/v1/_crashed', '/api/v1/acts']) assert.ok(!blocked.matches(raw), raw);
  });
});

describe('header rules', () => {
  const client = { address: '198.51.100.4', proto: 'http' as const, defaultHost: () => '127.0.0.1:3000' };

  test('upstream head: hop-by-hop and Connection-named dropped, framing and X-Forwarded-* ours', () => {
    const head = upstreamHead(
      'POST',
      '/api/v1/acts',
      [
        'Host',
        'example.org',
        'Connection',
        'keep-alive, X-Secret',
        'Keep-Alive',
        'timeout=5',
        'X-Secret',
        '1',
        'TE',
        'trailers',
        'Upgrade',
        'h2c',
        'Proxy-Authorization',
        'Basic eA==',
        'Expect',
        '100-continue',
        'Transfer-Encoding',
        'chunked',
        'X-Forwarded-For',
        '203.0.113.9',
        'X-Forwarded-Proto',
        'https',
        'X-Forwarded-Host',
        'spoofed',
        'Set-Cookie',
        'a=1',
        'Set-Cookie',
        'b=2',
        'X-Kept',
        'yes',
      ],
      client,
      { length: 5 },
    );
    assert.equal(
      head,
      [
        'POST /api/v1/acts HTTP/1.1',
        'Set-Cookie: a=1',
        'Set-Cookie: b=2',
        'X-Kept: yes',
        'host: example.org',
        // The client's own X-Forwarded-* are dropped, not appended to: the replicas believe ours.
        'x-forwarded-for: 198.51.100.4',
        'x-forwarded-proto: http',
        'x-forwarded-host: example.org',
        'content-length: 5',
        '',
        '',
      ].join('\r\n'),
    );
  });

  test("no Host (HTTP/1.0): the listener's own", () => {
    assert.match(upstreamHead('GET', '/', [], client, null), /\r\nhost: 127\.0\.0\.1:3000\r\n/);
  });

  test('hostOf: the one Host, undefined without, null when given twice', () => {
    assert.equal(hostOf(['Accept', '*/*', 'HOST', 'a.example']), 'a.example');
    assert.equal(hostOf([]), undefined);
    assert.equal(hostOf(['Host', 'a', 'host', 'b']), null);
  });

  test('downstream: hop-by-hop dropped, Content-Length kept, the rest untouched', () => {
    assert.deepEqual(
      downstreamHeaders([
        'Content-Type',
        'text/plain',
        'Connection',
        'keep-alive, x-hop',
        'x-hop',
        '1',
        'Transfer-Encoding',
        'chunked',
        'Content-Length',
        '3',
        'X-Kept',
        'y',
      ]),
      ['Content-Type', 'text/plain', 'Content-Length', '3', 'X-Kept', 'y'],
    );
    const plain = ['Content-Type', 'text/plain', 'Content-Length', '3'];
    assert.equal(downstreamHeaders(plain), plain, 'nothing dropped: the same list, no copy');
  });

  test("downstream: a replica's Strict-Transport-Security never reaches a client (the edge adds its own, over TLS)", () => {
    assert.deepEqual(
      downstreamHeaders(['Strict-Transport-Security', 'max-age=31536000; includeSubDomains', 'X-Kept', 'y']),
      ['X-Kept', 'y'],
    );
  });
});

describe('retry rule: never a request twice at a replica', () => {
  const ctx = (method: string, replayable = true, tried = 1, members = 2, retriedAfterReaching = 0) => ({
    method,
    replayable,
    tried,
    members,
    retriedAfterReaching,
  });
  const rows: Array<[string, Parameters<typeof afterFailure>[0], ReturnType<typeof ctx>, string]> = [
    ['refused POST with its body kept → next replica', 'refused', ctx('POST'), 'retry'],
    ['refused POST whose streamed body was partly sent → 502', 'refused', ctx('POST', false), 'answer 502'],
    ['reset GET → next replica', 'reset', ctx('GET'), 'retry'],
    ['reset POST → 502, may have reached it', 'reset', ctx('POST'), 'answer 502'],
    ['timeout GET → next replica', 'timeout', ctx('GET'), 'retry'],
    ['timeout POST → 504', 'timeout', ctx('POST'), 'answer 504'],
    ['queue full everywhere → 503', 'overloaded', ctx('GET', true, 2, 2), 'answer 503'],
    ['queue full here → next replica', 'overloaded', ctx('POST'), 'retry'],
    ['every replica refused → 502', 'refused', ctx('GET', true, 2, 2), 'answer 502'],
    ['response cut mid-way → close the client connection', 'cut', ctx('GET'), 'cut'],
    ['timeout OPTIONS → next replica (safe)', 'timeout', ctx('OPTIONS'), 'retry'],
    ['reset DELETE → 502 (its answer would not be idempotent)', 'reset', ctx('DELETE'), 'answer 502'],
    ['timeout GET already retried once → 504, not a third replica', 'timeout', ctx('GET', true, 2, 3, 1), 'answer 504'],
    ['reset GET already retried once → 502', 'reset', ctx('GET', true, 2, 3, 1), 'answer 502'],
    [
      'refused GET after one retry → still the next replica (nothing reached it)',
      'refused',
      ctx('GET', true, 2, 3, 1),
      'retry',
    ],
  ];
  for (const [name, failure, c, want] of rows) {
    test(name, () => {
      const step = afterFailure(failure, 'x', 'acts', c);
      assert.equal(step.action === 'answer' ? `answer ${step.status}` : step.action, want);
    });
  }
  const statusRows: Array<[string, number, number[], ReturnType<typeof ctx>, boolean]> = [
    ['GET answered 502 → another replica', 502, [502, 503, 504], ctx('GET'), true],
    ['GET answered 500, 500 not configured → answered as it is', 500, [502, 503, 504], ctx('GET'), false],
    ['GET answered 500, 500 configured → another replica', 500, [500, 502, 503, 504], ctx('GET'), true],
    ['POST answered 503 → answered as it is', 503, [502, 503, 504], ctx('POST'), false],
    ['GET answered 503 a second time → answered as it is', 503, [502, 503, 504], ctx('GET', true, 2, 3, 1), false],
    ['GET answered 503, no other replica → answered as it is', 503, [502, 503, 504], ctx('GET', true, 1, 1), false],
    ['HEAD answered 504 → another replica', 504, [502, 503, 504], ctx('HEAD'), true],
  ];
  for (const [name, status, statuses, c, want] of statusRows) {
    test(name, () => assert.equal(retryOnStatus(status, statuses, c), want));
  }

  test('503 for a full queue says to retry later', () => {
    const step = afterFailure('overloaded', 'x', 'acts', ctx('GET', true, 2, 2));
    assert.ok(step.action === 'answer' && step.retryAfter);
  });
});

describe('the list of exchanges in progress', () => {
  interface Item extends Linked<Item> {
    id: string;
  }
  const item = (id: string): Item => ({ id, prevTracked: null, nextTracked: null });
  const ids = (list: TrackedList<Item>) => {
    const out: string[] = [];
    list.forEach((i) => {
      out.push(i.id);
    });
    return out.join('');
  };

  test('add, remove from the middle, the ends, twice; visit while removing', () => {
    const list = new TrackedList<Item>();
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(item) as [Item, Item, Item, Item];
    for (const i of [a, b, c, d]) list.add(i);
    assert.equal(ids(list), 'dcba');
    list.remove(b);
    list.remove(b);
    assert.equal(ids(list), 'dca');
    list.remove(d);
    list.remove(a);
    assert.deepEqual([ids(list), list.size], ['c', 1]);
    list.add(a);
    list.forEach((i) => {
      list.remove(i);
    });
    assert.deepEqual([ids(list), list.size], ['', 0]);
    assert.deepEqual(
      [a.prevTracked, a.nextTracked, c.prevTracked, c.nextTracked],
      [null, null, null, null],
      'a removed item holds nothing',
    );
  });
});
