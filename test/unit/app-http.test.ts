// Pure pieces of the HTTP layer: exact JSON numbers, sessions, what _count counts, images.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { contentTypeOf, detectImageType, etagOf } from '../../app/acts/images.ts';
import { digitsToken, exactNumber, MalformedJson, parseJsonBody } from '../../app/http/json.ts';
import { scanStructure } from '../../app/http/json-parse.ts';
import { isCountedPath } from '../../app/http/replica.ts';
import {
  decodeSession,
  encodeSession,
  loggedInRecently,
  REAUTH_MS,
  SESSION_IDLE_MS,
  SESSION_TTL_MS,
} from '../../app/http/session.ts';
import { TRUSTED_PROXIES } from '../../app/http-app.ts';
import { compileTrust } from './support/express-trust.ts';

describe('exact JSON numbers', () => {
  const tokens: [string, string, string | undefined][] = [
    ['2^53 + 1 keeps its digits', '[9007199254740993]', '9007199254740993'],
    [
      '40 digits keep their digits',
      '[1234567890123456789012345678901234567890]',
      '1234567890123456789012345678901234567890',
    ],
    ['zero', '[0]', '0'],
    ['a negative number is not digits only', '[-1]', undefined],
    ['a fraction is not', '[1.0]', undefined],
    ['an exponent is not', '[1e3]', undefined],
    ['a string is not', '["1"]', undefined],
    ['null is not', '[null]', undefined],
  ];
  for (const [name, json, expected] of tokens) {
    test(`digitsToken: ${name}`, () =>
      assert.equal(digitsToken((parseJsonBody(Buffer.from(json)) as unknown[])[0]), expected));
  }

  test('an actId leaves as a JSON number with every digit', () => {
    assert.equal(JSON.stringify({ actId: exactNumber('9007199254740993') }), '{"actId":9007199254740993}');
  });

  test('parseJsonBody: empty is undefined; malformed, non-UTF-8 and duplicate keys with different values throw', () => {
    assert.equal(parseJsonBody(Buffer.alloc(0)), undefined);
    assert.throws(() => parseJsonBody(Buffer.from('{"a":')), MalformedJson);
    assert.throws(() => parseJsonBody(Buffer.from([0x22, 0xff, 0x22])), MalformedJson);
    assert.throws(() => parseJsonBody(Buffer.from('{"a":1,"a":2}')), MalformedJson);
    assert.throws(() => parseJsonBody(Buffer.from('[{"b":{"a":"x:\\"","a":"y"}}]')), MalformedJson);
  });

  test('parseJsonBody: colons, quotes and backslashes inside strings are not members', () => {
    const value = parseJsonBody(Buffer.from('{"a:b":"c:\\\\","d":["e\\":"]}')) as Record<string, unknown>;
    assert.deepEqual(Object.keys(value), ['a:b', 'd']);
  });

  test('parseJsonBody: more structure than any request has is refused unparsed, at once', () => {
    const shapes: [string, string][] = [
      ['a 5000-element array', JSON.stringify([Array.from({ length: 5000 }, (_, i) => i)])],
      ['1.5 million numbers', `[${'1234567,'.repeat(1_500_000)}1]`],
      ['2 million empty arrays', `[${'[],'.repeat(2_000_000)}[]]`],
      ['nesting 4 million deep', `${'['.repeat(4_000_000)}${']'.repeat(4_000_000)}`],
      ['a million distinct keys', `{${Array.from({ length: 1_000_000 }, (_, i) => `"k${i}":0`).join(',')}}`],
    ];
    for (const [name, json] of shapes) {
      const started = performance.now();
      assert.throws(() => parseJsonBody(Buffer.from(json)), /more than 1000/, name);
      assert.ok(performance.now() - started < 500, `${name}: refused in ${performance.now() - started} ms`);
    }
  });

  test('parseJsonBody: 16 MiB of string parses in time proportional to its bytes', () => {
    // 16 MiB of escaped quotes, the scanner's worst case: a quote every other byte.
    const escaped = `["${'\\"'.repeat(8 * 1024 * 1024)}"]`;
    const started = performance.now();
    assert.equal((parseJsonBody(Buffer.from(escaped)) as string[])[0]!.length, 8 * 1024 * 1024);
    assert.ok(performance.now() - started < 3000);
  });

  test('scanStructure: counts outside strings only, and stops past the cap', () => {
    assert.deepEqual(scanStructure('{"a,b:[{":[1,2],"c":{}}', 100), { structure: 7, members: 2 });
    assert.deepEqual(scanStructure('"\\\\",[', 100), { structure: 2, members: 0 });
    assert.deepEqual(scanStructure('"\\",[', 100), { structure: 0, members: 0 });
    assert.equal(scanStructure('[1,2,3,4,5,6,7,8]', 3).structure, 4);
  });

  test('parseJsonBody: "__proto__" is an ordinary key, not a prototype', () => {
    const value = parseJsonBody(Buffer.from('{"__proto__": {"polluted": true}}')) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(value), Object.prototype);
    assert.ok(Object.hasOwn(value, '__proto__'));
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});

describe('session values', () => {
  const now = 1_700_000_000_000;
  const fresh = { username: 'ann', key: 'k1', expires: now + 1, issued: now - 5000, seen: now - 1000 };
  test('round trip before expiry', () => {
    assert.deepEqual(decodeSession(encodeSession(fresh), now), fresh);
  });
  test('a cookie from before the idle clock: issued and last seen at its log-in (its expiry minus the lifetime)', () => {
    const expires = now + SESSION_TTL_MS - 60_000;
    assert.deepEqual(decodeSession(JSON.stringify({ u: 'ann', k: 'k1', e: expires }), now), {
      username: 'ann',
      key: 'k1',
      expires,
      issued: now - 60_000,
      seen: now - 60_000,
    });
  });
  test('idle longer than SESSION_IDLE_MS: no longer a session, though not expired', () => {
    assert.equal(
      decodeSession(encodeSession({ ...fresh, expires: now + SESSION_TTL_MS, seen: now - SESSION_IDLE_MS - 1 }), now),
      undefined,
    );
    assert.ok(
      decodeSession(
        encodeSession({ ...fresh, expires: now + SESSION_TTL_MS, seen: now - SESSION_IDLE_MS + 1000 }),
        now,
      ),
    );
  });
  test('a recent log-in: within REAUTH_MS of its issue', () => {
    assert.equal(loggedInRecently({ ...fresh, issued: now - REAUTH_MS + 1 }, now), true);
    assert.equal(loggedInRecently({ ...fresh, issued: now - REAUTH_MS - 1 }, now), false);
  });
  const rejected: [string, unknown][] = [
    ['expired', encodeSession({ ...fresh, expires: now })],
    ['no session key (a cookie from before keys)', JSON.stringify({ u: 'ann', e: now + 1000 })],
    ['an empty session key', JSON.stringify({ u: 'ann', k: '', e: now + 1000 })],
    ['false (cookie-parser: bad signature)', false],
    ['not JSON', 'ann'],
    ['no username', JSON.stringify({ k: 'k1', e: now + 1000 })],
    ['an empty username', JSON.stringify({ u: '', k: 'k1', e: now + 1000 })],
    ['no expiry', JSON.stringify({ u: 'ann', k: 'k1' })],
    ['an expiry that is not a number', JSON.stringify({ u: 'ann', k: 'k1', e: 'never' })],
    ['JSON null', 'null'],
  ];
  for (const [name, value] of rejected)
    test(`rejected: ${name}`, () => assert.equal(decodeSession(value, now), undefined));
});

describe('isCountedPath (row 21)', () => {
  const cases: [string, boolean][] = [
    ['/api/v1/users', true],
    ['/api/v1/acts/1/image', true],
    ['/api/v1/nothing', true],
    ['/API/V1/users', true],
    ['/api/v1/_count', false],
    ['/api/v1/_count/', false],
    ['/api/v1/_HEALTH', false],
    ['/api/v1/_crash', false],
    ['/api/v1/_crash/x', true],
    ['/', false],
    ['/index.html', false],
    ['/api/v2/users', false],
  ];
  for (const [path, counted] of cases)
    test(`${path} → ${counted ? 'counted' : 'not counted'}`, () => assert.equal(isCountedPath(path), counted));
});

describe('detectImageType: by content, never by name', () => {
  const bytes = (...values: (number | string)[]) =>
    Buffer.concat(values.map((v) => (typeof v === 'string' ? Buffer.from(v, 'latin1') : Buffer.from([v]))));
  const cases: [string, Buffer, string | undefined][] = [
    ['PNG signature', bytes(0x89, 'PNG\r\n\x1a\n', 0), 'image/png'],
    ['JPEG SOI + marker', bytes(0xff, 0xd8, 0xff, 0xe0), 'image/jpeg'],
    ['GIF87a', bytes('GIF87a'), 'image/gif'],
    ['GIF89a', bytes('GIF89a'), 'image/gif'],
    ['WebP in RIFF', bytes('RIFF', 0, 0, 0, 0, 'WEBPVP8 '), 'image/webp'],
    ['RIFF that is WAVE audio', bytes('RIFF', 0, 0, 0, 0, 'WAVEfmt '), undefined],
    ['a PNG signature cut short', bytes(0x89, 'PNG'), undefined],
    ['text', bytes('hello.png'), undefined],
    ['nothing', Buffer.alloc(0), undefined],
  ];
  for (const [name, input, expected] of cases) test(name, () => assert.equal(detectImageType(input), expected));

  test('unknown bytes are served as application/octet-stream', () =>
    assert.equal(contentTypeOf(Buffer.from('x')), 'application/octet-stream'));
  test('the ETag is the content hash', () =>
    assert.equal(etagOf(Buffer.from('abc')), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'));
});

describe('whose X-Forwarded-Proto the app believes', () => {
  // The trust function Express builds from the app's setting, as req.secure uses it.
  const trusts = compileTrust(TRUSTED_PROXIES);
  const rows: [string, string, boolean][] = [
    ['the balancer on loopback (process runtime)', '127.0.0.1', true],
    ['the Docker bridge gateway (docker runtime)', '172.17.0.1', true],
    ['a pod network (ingress controller)', '10.42.0.7', true],
    ['IPv6 loopback', '::1', true],
    ['a client on the internet', '203.0.113.9', false],
    ['a public IPv6 client', '2001:db8::1', false],
  ];
  for (const [name, address, expected] of rows)
    test(`${name}: ${address} → ${expected}`, () => assert.equal(trusts(address, 0), expected));
});
