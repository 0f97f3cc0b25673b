// The public edge's pure decisions, as table rows: token buckets in shared memory (over
// threads, through the clock's wrap), who the client is behind a trusted proxy, the encoding
// a client accepts, what a response becomes when compressed, HTTP/2 headers for an HTTP/1.1
// replica, and where the plain port redirects.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ProxyTrust } from '../../supervisor/balancer/client-address.ts';
import { clientKey } from '../../supervisor/balancer/client-key.ts';
import { acceptedEncoding, planCompression, type Encoding } from '../../supervisor/web/compression.ts';
import { h2RequestHeaders } from '../../supervisor/balancer/headers.ts';
import { RateLimits } from '../../supervisor/balancer/rate-limit.ts';
import { CertificateNames, httpsLocation } from '../../supervisor/balancer/redirect.ts';
import { DEFAULT_EDGE } from '../../supervisor/balancer/settings.ts';
import { SharedLayout, SharedState } from '../../supervisor/balancer/shared-state.ts';
import { fnvCollisions } from '../../testkit/aimed-addresses.ts';

const EPOCH = 1_700_000_000_000;

/** A fixed client-hash key, so which addresses share a bucket is the same on every run. */
const TEST_KEY = Int32Array.of(0x1234567, 0x2345678, 0x3456789, 0x456789a);

function limits(
  threads = 2,
  config = {
    requests: { perMinute: 600, burst: 5 },
    auth: { perMinute: 60, burst: 3, paths: ['/api/v1/sessions'], methods: ['POST'] },
  },
  key: Int32Array = TEST_KEY,
) {
  const layout = new SharedLayout({ services: [], threads, clientBuckets: 16, rateLimiters: 2, rateBuckets: 1024 });
  const buffer = layout.create(key);
  return Array.from({ length: threads }, (_, t) => new RateLimits(config, new SharedState(buffer, layout, t, EPOCH)));
}

describe('rate limits (GCRA in shared memory)', () => {
  test('a burst passes, the next waits one interval; Retry-After in whole seconds', () => {
    const [a] = limits(1);
    const now = EPOCH + 5000;
    for (let i = 0; i < 5; i++)
      assert.equal(a!.take('192.0.2.1', 'GET', '/x', now), undefined, `request ${i + 1} of the burst`);
    assert.deepEqual(a!.take('192.0.2.1', 'GET', '/x', now), { what: 'requests', retryAfterSeconds: 1 });
    assert.equal(a!.take('192.0.2.1', 'GET', '/x', now + 100), undefined, '600 a minute: one more every 100 ms');
    assert.notEqual(a!.take('192.0.2.1', 'GET', '/x', now + 100), undefined);
    assert.equal(a!.take('192.0.2.2', 'GET', '/x', now), undefined, 'another address has its own budget');
  });

  test('the budget is shared by every thread', () => {
    const [a, b] = limits(2);
    const now = EPOCH + 1;
    let passed = 0;
    for (let i = 0; i < 20; i++) if ((i % 2 ? a : b)!.take('198.51.100.7', 'GET', '/', now) === undefined) passed++;
    assert.equal(passed, 5);
  });

  test('log-in attempts have their own, smaller budget; a refused one spends nothing else', () => {
    const [a] = limits(1);
    const now = EPOCH + 1;
    for (let i = 0; i < 3; i++) assert.equal(a!.take('192.0.2.9', 'POST', '/api/v1/sessions', now), undefined);
    const refused = a!.take('192.0.2.9', 'POST', '/api/v1/sessions', now);
    assert.equal(refused?.what, 'log-in and sign-up attempts');
    assert.equal(refused?.retryAfterSeconds, 1);
    assert.equal(a!.take('192.0.2.9', 'GET', '/api/v1/sessions', now), undefined, 'a GET is not a log-in');
    assert.equal(a!.take('192.0.2.9', 'GET', '/', now), undefined, '3 + 1 of 5 general requests spent');
    assert.notEqual(a!.take('192.0.2.9', 'GET', '/', now), undefined);
  });

  // (Within one burst window of a multiple of the wrap, 6.2 days, a stale bucket can pass for a
  // live one: that client waits at most the window once. Nothing else can.)
  test('a bucket untouched for longer than the clock wraps counts as fresh, not as far in the future', () => {
    const [a] = limits(1, { requests: { perMinute: 60, burst: 1 }, auth: DEFAULT_EDGE.rateLimits.auth });
    assert.equal(a!.take('192.0.2.3', 'GET', '/', EPOCH + 10), undefined);
    assert.notEqual(a!.take('192.0.2.3', 'GET', '/', EPOCH + 20), undefined);
    const wrap = 2 ** 32 / 8; // ms until 1/8-ms units wrap
    for (const later of [wrap / 2, wrap - 5000, wrap + 5000, 3 * wrap + 123_456]) {
      const [fresh] = limits(1, { requests: { perMinute: 60, burst: 1 }, auth: DEFAULT_EDGE.rateLimits.auth });
      assert.equal(fresh!.take('192.0.2.3', 'GET', '/', EPOCH + 10), undefined);
      assert.equal(fresh!.take('192.0.2.3', 'GET', '/', EPOCH + 10 + later), undefined, `${later} ms later`);
    }
  });
});

describe('rate-limit buckets cannot be aimed at, and count an IPv6 client per /64', () => {
  const config = {
    requests: { perMinute: 0, burst: 0 },
    auth: { perMinute: 60, burst: 3, paths: ['/api/v1/sessions'], methods: ['POST'] },
  };
  const login = (l: RateLimits, from: string, now: number) => l.take(from, 'POST', '/api/v1/sessions', now);

  test('addresses computed to collide with a victim under an unkeyed hash do not spend its budget', () => {
    const victim = '192.0.2.77';
    const aimed = fnvCollisions(victim, 1024, 12);
    assert.equal(aimed.length, 12);
    const [l] = limits(1, config);
    const now = EPOCH + 1;
    for (const from of aimed) login(l!, from, now);
    assert.equal(login(l!, victim, now), undefined, 'the victim still has its budget');
  });

  test('every start has its own key: the same address lands in another bucket', () => {
    const layout = new SharedLayout({
      services: [],
      threads: 1,
      clientBuckets: 16,
      rateLimiters: 2,
      rateBuckets: 1024,
    });
    const keys = new Set<string>();
    for (let i = 0; i < 4; i++) keys.add(new Int32Array(layout.create()).subarray(2, 6).join(','));
    assert.equal(keys.size, 4);
  });

  test('IPv6: one /64 is one client, however many addresses it rotates through; another /64 is another', () => {
    const [l] = limits(1, config);
    const now = EPOCH + 1;
    for (let i = 0; i < 3; i++) assert.equal(login(l!, `2001:db8:1:2::${(i + 1).toString(16)}`, now), undefined);
    assert.notEqual(
      login(l!, '2001:db8:1:2:ffff:1:2:3', now),
      undefined,
      'the fourth address of the /64 meets the limit',
    );
    assert.notEqual(login(l!, '2001:0DB8:0001:0002:0:0:0:9', now), undefined, 'however it is written');
    assert.equal(login(l!, '2001:db8:1:3::1', now), undefined, 'the next /64 has its own budget');
    assert.equal(login(l!, '::ffff:192.0.2.200', now), undefined);
    for (let i = 0; i < 2; i++) login(l!, '192.0.2.200', now);
    assert.notEqual(login(l!, '::ffff:192.0.2.200', now), undefined, 'an IPv4-mapped address is that IPv4 client');
  });

  test('client keys', () => {
    assert.equal(clientKey('192.0.2.1'), '192.0.2.1');
    assert.equal(clientKey('::ffff:192.0.2.1'), '192.0.2.1');
    assert.equal(clientKey('2001:db8::1'), '2001:db8:0:0::/64');
    assert.equal(clientKey('2001:DB8:0:0:1::1'), '2001:db8:0:0::/64');
    assert.equal(clientKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
    assert.equal(clientKey('::1'), '0:0:0:0::/64');
    assert.equal(clientKey('not an address'), 'not an address');
  });
});

describe('the client behind a trusted proxy', () => {
  const trust = new ProxyTrust(['10.0.0.0/8', '2001:db8::/32', '192.0.2.10']);
  const rows: [string, string, string[], string | undefined, { address: string; proto: string }][] = [
    ['the proxy names its client', '10.1.2.3', ['198.51.100.4'], 'https', { address: '198.51.100.4', proto: 'https' }],
    [
      'a client-written hop left of it is ignored',
      '10.1.2.3',
      ['203.0.113.66, 198.51.100.4'],
      undefined,
      { address: '198.51.100.4', proto: 'http' },
    ],
    [
      'trusted hops are skipped from the right',
      '10.1.2.3',
      ['198.51.100.4, 192.0.2.10', '10.9.9.9'],
      undefined,
      { address: '198.51.100.4', proto: 'http' },
    ],
    ['no header: the proxy itself', '10.1.2.3', [], undefined, { address: '10.1.2.3', proto: 'http' }],
    [
      'garbage stops the walk at the last checked hop',
      '10.1.2.3',
      ['198.51.100.4, not-an-address'],
      undefined,
      { address: '10.1.2.3', proto: 'http' },
    ],
    [
      'IPv6 in brackets with a port',
      '2001:db8::5',
      ['[2001:db8:ffff::1]:443, [2002::7]'],
      'http',
      { address: '2002::7', proto: 'http' },
    ],
    ['IPv4 with a port', '10.1.2.3', ['198.51.100.4:5555'], 'HTTPS', { address: '198.51.100.4', proto: 'https' }],
    [
      "an unknown proto is the connection's",
      '10.1.2.3',
      ['198.51.100.4'],
      'gopher',
      { address: '198.51.100.4', proto: 'http' },
    ],
  ];
  for (const [name, peer, xff, proto, expected] of rows) {
    test(name, () => assert.deepEqual(trust.client(peer, xff, proto, 'http'), expected));
  }
  test('trusts: listed ranges only', () => {
    assert.deepEqual(
      ['10.255.0.1', '11.0.0.1', '192.0.2.10', '192.0.2.11', '2001:db8:1::1', '::1', 'nonsense'].map((a) =>
        trust.trusts(a),
      ),
      [true, false, true, false, true, false, false],
    );
  });
});

describe('Accept-Encoding', () => {
  const rows: [string | undefined, Encoding | undefined][] = [
    [undefined, undefined],
    ['', undefined],
    ['identity', undefined],
    ['gzip', 'gzip'],
    ['gzip, deflate, br', 'br'],
    ['br;q=0, gzip', 'gzip'],
    ['gzip;q=0.5, br;q=0.4', 'gzip'],
    ['*', 'br'],
    ['*;q=0', undefined],
    ['gzip;q=0, *', 'br'],
    ['x-gzip', 'gzip'],
    ['BR', 'br'],
    ['deflate', undefined],
  ];
  for (const [header, expected] of rows)
    test(`${JSON.stringify(header)} → ${expected}`, () => assert.equal(acceptedEncoding(header), expected));
});

describe('what a response becomes', () => {
  const config = DEFAULT_EDGE.compression;
  const json = ['Content-Type', 'application/json; charset=utf-8', 'Content-Length', '5000', 'ETag', '"abc"'];
  test('compressible, accepted: no length, an encoding, Vary, a weak ETag', () => {
    assert.deepEqual(planCompression(200, 'GET', json, 'br', config), {
      encoding: 'br',
      headers: [
        'Content-Type',
        'application/json; charset=utf-8',
        'ETag',
        'W/"abc"',
        'vary',
        'Accept-Encoding',
        'content-encoding',
        'br',
      ],
    });
  });
  test('compressible, not accepted: the same bytes, with Vary', () => {
    assert.deepEqual(planCompression(200, 'GET', json, undefined, config), {
      encoding: undefined,
      headers: [...json, 'vary', 'Accept-Encoding'],
    });
  });
  test('an existing Vary is extended, not repeated', () => {
    assert.equal(
      planCompression(200, 'GET', [...json, 'Vary', 'Cookie'], 'gzip', config)!.headers[5],
      'Cookie, Accept-Encoding',
    );
    assert.equal(
      planCompression(200, 'GET', [...json, 'Vary', 'accept-encoding'], 'gzip', config)!.headers[5],
      'accept-encoding',
    );
  });
  const untouched: [string, number, string, string[]][] = [
    ['an image', 200, 'GET', ['Content-Type', 'image/jpeg', 'Content-Length', '50000']],
    ['already encoded', 200, 'GET', [...json, 'Content-Encoding', 'gzip']],
    ['small', 200, 'GET', ['Content-Type', 'text/html', 'Content-Length', '100']],
    ['a range', 206, 'GET', json],
    ['no content', 204, 'GET', json],
    ['not modified', 304, 'GET', json],
    ['no-transform', 200, 'GET', [...json, 'Cache-Control', 'private, no-transform']],
    ['no type', 200, 'GET', ['Content-Length', '5000']],
    ['an event stream', 200, 'GET', ['Content-Type', 'text/event-stream']],
  ];
  for (const [name, status, method, headers] of untouched)
    test(`untouched: ${name}`, () => assert.equal(planCompression(status, method, headers, 'br', config), undefined));
  test('HEAD: Vary, no encoding', () =>
    assert.equal(planCompression(200, 'HEAD', json, 'br', config)!.encoding, undefined));
});

describe('HTTP/2 request headers for an HTTP/1.1 replica', () => {
  const pseudo = [':method', 'GET', ':path', '/x', ':scheme', 'https', ':authority', 'example.org'];
  test(':authority becomes Host; pseudo-headers stay behind', () => {
    assert.deepEqual(h2RequestHeaders([...pseudo, 'accept', '*/*'], 16384), {
      raw: ['host', 'example.org', 'accept', '*/*'],
      host: 'example.org',
    });
  });
  const bad: [string, string[], number][] = [
    ['Host naming another authority', [...pseudo, 'host', 'other.org'], 400],
    ['two Host headers', [':method', 'GET', 'host', 'a', 'host', 'a'], 400],
    ['no authority at all', [':method', 'GET', ':path', '/'], 400],
    ['a header list over the limit', [...pseudo, 'x-big', 'a'.repeat(17000)], 431],
    [
      'many small fields over the limit (32 octets each)',
      [...pseudo, ...Array.from({ length: 600 }, () => ['x', 'y']).flat()],
      431,
    ],
  ];
  for (const [name, raw, status] of bad)
    test(name, () => assert.equal((h2RequestHeaders(raw, 16384) as { status: number }).status, status));
  test('a matching Host is fine', () =>
    assert.equal(
      (h2RequestHeaders([...pseudo, 'host', 'example.org'], 16384) as { host: string }).host,
      'example.org',
    ));
});

describe('where the plain port redirects: a host the certificate names, never one the client made up', async () => {
  const { certificatePem } = await import('../../testkit/tls.ts');
  // DNS:example.org, DNS:*.example.org, IP:127.0.0.1, IP:2001:db8::1
  const names = new CertificateNames(
    await certificatePem(['DNS:example.org', 'DNS:*.example.org', 'IP:127.0.0.1', 'IP:2001:db8::1']),
  );
  const rows: [string | undefined, string, number, string | undefined][] = [
    ['example.org', '/a?b=1', 443, 'https://example.org/a?b=1'],
    ['Example.ORG:80', '/', 443, 'https://example.org/'],
    ['www.example.org', '/', 443, 'https://www.example.org/'],
    ['127.0.0.1:8080', '/x', 8443, 'https://127.0.0.1:8443/x'],
    ['[2001:db8::1]:80', '/', 443, 'https://[2001:db8::1]/'],
    ['evil.example', '/a', 443, 'https://example.org/a'],
    ['example.org.evil.example', '/', 443, 'https://example.org/'],
    ['a.b.example.org', '/', 443, 'https://example.org/'],
    ['10.0.0.1', '/', 443, 'https://example.org/'],
    [undefined, '/', 443, 'https://example.org/'],
    ['evil.org/path', '/', 443, 'https://example.org/'],
    ['user@evil.org', '/', 443, 'https://example.org/'],
  ];
  for (const [host, target, port, expected] of rows)
    test(`${host} ${target} → ${expected}`, () => assert.equal(httpsLocation(host, target, port, names), expected));
  test('a certificate with only an address redirects that address, and nothing else', async () => {
    const ipOnly = new CertificateNames(await certificatePem(['IP:127.0.0.1'], 'CN with spaces'));
    assert.equal(ipOnly.primary, undefined);
    assert.equal(httpsLocation('127.0.0.1', '/', 443, ipOnly), 'https://127.0.0.1/');
    assert.equal(httpsLocation('evil.example', '/', 443, ipOnly), undefined);
  });
});
