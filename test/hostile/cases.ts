// The bad input: malformed, oversized, mistyped and hostile requests on every route, as rows.
// Each either must be refused (a 4xx: it changes nothing) or is a read that may answer
// anything but a 5xx. Names refer to what the suite set up: users ann and bob, the attacker
// eve (logged in), categories garden and street, acts 1 and 2.
import { PNG } from '../app/support/images.ts';
import { multipart } from '../app/support/multipart.ts';

export interface HostileCase {
  name: string;
  service: 'users' | 'acts';
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Send eve's session cookie. */
  asEve?: boolean;
  /** refused: must be answered 4xx; read: anything below 500. */
  expect: 'refused' | 'read';
}

const MIB = 1024 * 1024;
const JSON_TYPE = { 'content-type': 'application/json' };
const SHA1 = 'a'.repeat(40);

/** 16 MiB bodies, made once: parsing them is the expensive part, not sending. */
const big = {
  emptyArrays: Buffer.from(`[${'[],'.repeat((16 * MIB) / 3 - 2)}[]]`),
  distinctKeys: Buffer.from(`{${Array.from({ length: 1_400_000 }, (_, i) => `"k${i}":0`).join(',')}}`),
  nesting: Buffer.from(`${'['.repeat(8 * MIB - 8)}${']'.repeat(8 * MIB - 8)}`),
  longString: Buffer.from(`{"s":"${'x'.repeat(16 * MIB - 16)}"}`),
  overLimit: Buffer.from(`["${'o'.repeat(16 * MIB + 10)}"]`),
};

/** Malformed or mistyped for every JSON route there is. */
const anyRouteRefuses: [string, string | Buffer][] = [
  ['empty', ''],
  ['whitespace', '   \n\t '],
  ['a lone brace', '{'],
  ['a lone bracket', '['],
  ['a closing bracket', ']'],
  ['nul', 'nul'],
  ['NaN', 'NaN'],
  ['a trailing comma', '[1,]'],
  ['a trailing comma in an object', '{"a":1,}'],
  ['single quotes', "{'a':1}"],
  ['two values', '[1] [2]'],
  ['a bad escape', '["\\x41"]'],
  ['an unterminated string', '["abc'],
  ['a cut unicode escape', '["\\u12"]'],
  ['invalid UTF-8', Buffer.from([0x5b, 0x22, 0xc3, 0x28, 0x22, 0x5d])],
  ['an overlong UTF-8 slash', Buffer.from([0x5b, 0x22, 0xc0, 0xaf, 0x22, 0x5d])],
  ['a byte-order mark', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('[]')])],
  ['null', 'null'],
  ['true', 'true'],
  ['a string', '"hello"'],
  ['a huge exponent', '1e400'],
  ['negative zero', '-0'],
  ['a 100 000-deep nesting', `${'['.repeat(100_000)}${']'.repeat(100_000)}`],
  ['5000 numbers', `[${'1,'.repeat(4999)}1]`],
  ['duplicated keys', `{"username":"a","username":"b","password":"${SHA1}"}`],
  ['a __proto__ key', '{"__proto__":{"admin":true}}'],
  ['a constructor key', '{"constructor":{"prototype":{"x":1}}}'],
  ['a control character in a string', '["a\u0001b"]'],
  ['a number with a leading zero', '[01]'],
  ['a plus sign', '[+1]'],
  ['Infinity', '[Infinity]'],
  ['a comment', '[1 /* x */]'],
  ['an object of 16 MiB string', big.longString],
  ['16 MiB of empty arrays', big.emptyArrays],
  ['16 MiB of distinct keys', big.distinctKeys],
  ['16 MiB of nesting', big.nesting],
  ['over the 16 MiB limit', big.overLimit],
];

const JSON_ROUTES: ['users' | 'acts', string][] = [
  ['users', '/api/v1/users'],
  ['users', '/api/v1/sessions'],
  ['acts', '/api/v1/categories'],
  ['acts', '/api/v1/acts/upvote'],
  ['acts', '/api/v1/acts'],
];

const act = (fields: Record<string, unknown>) =>
  JSON.stringify({
    actId: 77,
    username: 'eve',
    timestamp: '15-06-2021:30-45-12',
    caption: 'c',
    categoryName: 'garden',
    imgB64: 'aGVsbG8=',
    ...fields,
  });

/** Mistyped for one route. */
const perRoute: Record<string, (string | Buffer)[]> = {
  '/api/v1/users': [
    '{"username":"x"}',
    `{"password":"${SHA1}"}`,
    `{"username":"x","password":"${'a'.repeat(39)}"}`,
    `{"username":"x","password":"${'g'.repeat(40)}"}`,
    `{"username":1,"password":"${SHA1}"}`,
    `{"username":"","password":"${SHA1}"}`,
    `{"username":null,"password":"${SHA1}"}`,
    `{"username":["x"],"password":"${SHA1}"}`,
    `{"username":"\\ud800","password":"${SHA1}"}`,
    `{"username":"x","password":"${SHA1}","admin":true}`,
    `{"username":"ann","password":"${SHA1}"}`,
    `["x","${SHA1}"]`,
  ],
  '/api/v1/sessions': [
    `{"username":"ann","password":"${SHA1}"}`,
    `{"username":"nobody","password":"${SHA1}"}`,
    `{"username":"ann","password":"${'A'.repeat(41)}"}`,
    '{"username":"ann","password":null}',
    `{"username":"ann","password":"${SHA1}","remember":true}`,
    `{"username":{"$ne":""},"password":"${SHA1}"}`,
  ],
  '/api/v1/categories': [
    '[]',
    '["a","b"]',
    '[""]',
    '[1]',
    '[null]',
    '[["x"]]',
    '{"0":"x"}',
    '["garden"]',
    '["\\udc00x"]',
    '"garden"',
  ],
  '/api/v1/acts/upvote': [
    '[]',
    '[1,2]',
    '["1"]',
    '[-1]',
    '[1.0]',
    '[1e0]',
    '[null]',
    '{}',
    '[999999]',
    '[true]',
    '[[1]]',
    '{"actId":1}',
    '[0.5]',
  ],
  '/api/v1/acts': [
    act({ actId: '77' }),
    act({ actId: -77 }),
    act({ actId: 7.7 }),
    act({ actId: 1 }),
    act({ username: 'nobody' }),
    act({ timestamp: '31-02-2021:00-00-00' }),
    act({ timestamp: '15-06-2021:30-45-24' }),
    act({ timestamp: '15-06-21:30-45-12' }),
    act({ timestamp: 15062021 }),
    act({ caption: 7 }),
    act({ categoryName: 'nowhere' }),
    act({ imgB64: '$bWF5byBvci$BtdX$N0Pw==' }),
    act({ imgB64: '' }),
    act({ imgB64: 'aGVsbG8' }),
    act({ imgB64: 'aGV=sbG8' }),
    act({ upvotes: 5 }),
    JSON.stringify({ actId: 77, username: 'eve' }),
    act({ extra: 1 }),
  ],
};

function jsonCases(): HostileCase[] {
  const cases: HostileCase[] = [];
  for (const [service, path] of JSON_ROUTES) {
    for (const [name, body] of anyRouteRefuses) {
      cases.push({
        name: `${path}: ${name}`,
        service,
        method: 'POST',
        path,
        headers: JSON_TYPE,
        body,
        asEve: true,
        expect: 'refused',
      });
    }
    for (const [i, body] of (perRoute[path] ?? []).entries()) {
      cases.push({
        name: `${path}: mistyped #${i + 1}`,
        service,
        method: 'POST',
        path,
        headers: JSON_TYPE,
        body,
        asEve: true,
        expect: 'refused',
      });
    }
    for (const type of [
      'application/json; charset=utf-16',
      'application/x-www-form-urlencoded',
      'multipart/form-data',
    ]) {
      cases.push({
        name: `${path}: Content-Type ${type}`,
        service,
        method: 'POST',
        path,
        headers: { 'content-type': type },
        body: 'a=b',
        asEve: true,
        expect: 'refused',
      });
    }
    cases.push({
      name: `${path}: gzip-encoded`,
      service,
      method: 'POST',
      path,
      headers: { ...JSON_TYPE, 'content-encoding': 'gzip' },
      body: Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]),
      asEve: true,
      expect: 'refused',
    });
  }
  return cases;
}

const form = (parts: Parameters<typeof multipart>[0]) => multipart(parts);
const caption = { name: 'caption', value: 'c' };
const category = { name: 'categoryName', value: 'garden' };
const png = { name: 'image', value: PNG, filename: 'a.png', type: 'image/png' };

function multipartCases(): HostileCase[] {
  const bodies: [string, { body: Buffer; headers: Record<string, string> }][] = [
    ['no file', form([caption, category])],
    ['not an image', form([caption, category, { ...png, value: Buffer.from('GIF8 is not enough') }])],
    ['an empty image', form([caption, category, { ...png, value: Buffer.alloc(0) }])],
    ['the image under another name', form([caption, category, { ...png, name: 'photo' }])],
    ['two images', form([caption, category, png, png])],
    ['an upvotes field', form([caption, category, png, { name: 'upvotes', value: '9' }])],
    ['an unknown field', form([caption, category, png, { name: 'actId', value: '5' }])],
    ['a field twice', form([caption, caption, category, png])],
    ['no category', form([caption, png])],
    ['an unknown category', form([caption, { name: 'categoryName', value: 'nowhere' }, png])],
    ['a lone surrogate caption', form([{ name: 'caption', value: Buffer.from([0xed, 0xa0, 0x80]) }, category, png])],
    ['nine text fields', form([...Array.from({ length: 9 }, (_, i) => ({ name: `f${i}`, value: 'x' })), png])],
    ['a 16 MiB field before the image', form([{ name: 'caption', value: 'c'.repeat(16 * MIB) }, category, png])],
    [
      'an image over 16 MiB',
      form([caption, category, { ...png, value: Buffer.concat([PNG, Buffer.alloc(16 * MIB)]) }]),
    ],
  ];
  const cases: HostileCase[] = bodies.map(([name, { body, headers }]) => ({
    name: `row 17: ${name}`,
    service: 'acts',
    method: 'POST',
    path: '/api/v1/acts',
    headers,
    body,
    asEve: true,
    expect: 'refused',
  }));
  const garbage: [string, Record<string, string>, string | Buffer][] = [
    ['no boundary', { 'content-type': 'multipart/form-data' }, 'x'],
    ['garbage', { 'content-type': 'multipart/form-data; boundary=b' }, 'this is no form'],
    [
      'unterminated',
      { 'content-type': 'multipart/form-data; boundary=b' },
      '--b\r\nContent-Disposition: form-data; name="caption"\r\n\r\nc',
    ],
    [
      'a header line without end',
      { 'content-type': 'multipart/form-data; boundary=b' },
      `--b\r\nContent-Disposition: form-data; name="${'n'.repeat(100_000)}`,
    ],
    ['boundary only', { 'content-type': 'multipart/form-data; boundary=b' }, '--b--\r\n'],
  ];
  for (const [name, headers, body] of garbage)
    cases.push({
      name: `row 17: ${name}`,
      service: 'acts',
      method: 'POST',
      path: '/api/v1/acts',
      headers,
      body,
      asEve: true,
      expect: 'refused',
    });
  const anonymous = form([caption, category, png]);
  cases.push({
    name: 'row 17: no session',
    service: 'acts',
    method: 'POST',
    path: '/api/v1/acts',
    headers: anonymous.headers,
    body: anonymous.body,
    expect: 'refused',
  });
  return cases;
}

/** Every route, every other method; unknown and malformed paths. */
function pathCases(): HostileCase[] {
  const routes: ['users' | 'acts', string, string[]][] = [
    ['users', '/api/v1/users', ['GET', 'POST']],
    ['users', '/api/v1/users/ann', ['DELETE']],
    ['users', '/api/v1/users/ann/exists', ['GET']],
    ['users', '/api/v1/sessions', ['POST', 'DELETE']],
    ['users', '/api/v1/sessions/me', ['GET']],
    ['acts', '/api/v1/categories', ['GET', 'POST']],
    ['acts', '/api/v1/categories/garden', ['DELETE']],
    ['acts', '/api/v1/categories/garden/acts', ['GET']],
    ['acts', '/api/v1/categories/garden/acts/size', ['GET']],
    ['acts', '/api/v1/acts', ['POST']],
    ['acts', '/api/v1/acts/upvote', ['POST']],
    ['acts', '/api/v1/acts/count', ['GET']],
    ['acts', '/api/v1/acts/1', ['DELETE']],
    ['acts', '/api/v1/acts/1/image', ['GET']],
    ['acts', '/api/v1/_count', ['GET', 'DELETE']],
    ['acts', '/api/v1/_health', ['GET']],
    ['users', '/api/v1/_live', ['GET']],
    ['acts', '/api/v1/_live', ['GET']],
  ];
  const cases: HostileCase[] = [];
  for (const [service, path, allowed] of routes) {
    for (const method of ['GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'OPTIONS'].filter((m) => !allowed.includes(m))) {
      cases.push({
        name: `${method} ${path}`,
        service,
        method,
        path,
        headers: JSON_TYPE,
        body: method === 'GET' || method === 'OPTIONS' ? undefined : '["x"]',
        asEve: true,
        expect: 'refused',
      });
    }
  }
  const refusedPaths: ['users' | 'acts', string, string][] = [
    ['users', 'DELETE', '/api/v1/users/%E0%A4%A'],
    ['users', 'DELETE', '/api/v1/users/nobody'],
    ['users', 'GET', '/api/v1/users/%FF/exists'],
    ['users', 'GET', '/api/v1/users/a/b/c'],
    ['users', 'GET', '/api/v2/users'],
    ['acts', 'DELETE', '/api/v1/categories/%FF'],
    ['acts', 'DELETE', '/api/v1/categories/nowhere'],
    ['acts', 'DELETE', '/api/v1/categories/..%2F..%2Fetc%2Fpasswd'],
    ['acts', 'DELETE', '/api/v1/acts/-1'],
    ['acts', 'DELETE', '/api/v1/acts/1.5'],
    ['acts', 'DELETE', '/api/v1/acts/1e3'],
    ['acts', 'DELETE', '/api/v1/acts/%2F'],
    ['acts', 'DELETE', `/api/v1/acts/${'9'.repeat(5000)}`],
    ['acts', 'DELETE', '/api/v1/acts/0x1'],
    ['acts', 'DELETE', '/api/v1/acts/999999'],
    ['acts', 'GET', '/api/v1/acts/999999/image'],
    ['acts', 'GET', '/api/v1/acts/abc/image'],
    ['acts', 'GET', '/api/v1/acts/%00/image'],
    ['acts', 'GET', `/api/v1/${'x'.repeat(8000)}`],
    ['acts', 'GET', '/api/v1/categories/nowhere/acts'],
    ['acts', 'GET', '/api/v1/categories/nowhere/acts/size'],
    ['acts', 'POST', '/api/v1/_crash/x'],
    ['acts', 'DELETE', '/api/v1/acts/1/upvote/x'],
  ];
  for (const [service, method, path] of refusedPaths)
    cases.push({ name: `${method} ${path.slice(0, 60)}`, service, method, path, asEve: true, expect: 'refused' });
  return cases;
}

/** Listings' ranges, refused: rows 12, 19 and 20. */
function rangeCases(): HostileCase[] {
  const queries = [
    'start=0&end=1',
    'start=-1&end=1',
    'start=a&end=b',
    'start=1',
    'end=1',
    'start=2&end=1',
    'start=1&end=999999',
    'start=1&end=',
    'start=&end=',
    'start[]=1&end=1',
    'start=1&start=2&end=2',
    'start=1e0&end=1',
    'start=0x1&end=1',
    `start=1&end=${'9'.repeat(400)}`,
    'start=1.5&end=2',
    'start=%00&end=1',
    'start=1&end=101',
    'start=%2B1&end=1',
  ];
  const bases = ['/api/v1/categories/garden/acts', '/api/v1/acts', '/api/v1/acts?username=ann'];
  const cases: HostileCase[] = [];
  for (const base of bases) {
    for (const query of queries) {
      const path = `${base}${base.includes('?') ? '&' : '?'}${query}`;
      cases.push({ name: `GET ${path.slice(0, 80)}`, service: 'acts', method: 'GET', path, expect: 'refused' });
    }
  }
  for (const path of ['/api/v1/acts?username=&start=1&end=1', '/api/v1/acts?username=ann&username=bob&start=1&end=1']) {
    cases.push({ name: `GET ${path}`, service: 'acts', method: 'GET', path, expect: 'refused' });
  }
  return cases;
}

/** Headers and cookies. */
function headerCases(): HostileCase[] {
  const forged = `selflessacts_session=${encodeURIComponent(JSON.stringify({ u: 'ann', k: 'x', e: Date.now() + 1e9 }))}`;
  const cookies = [
    forged,
    'selflessacts_session=s%3Agarbage.sig',
    'selflessacts_session=',
    `selflessacts_session=${'x'.repeat(8000)}`,
    'a=b; selflessacts_session=s%3A%7B%7D.x',
  ];
  const cases: HostileCase[] = [];
  for (const cookie of cookies) {
    cases.push({
      name: `a bad cookie on /sessions/me (${cookie.slice(0, 30)})`,
      service: 'users',
      method: 'GET',
      path: '/api/v1/sessions/me',
      headers: { cookie },
      expect: 'refused',
    });
    cases.push({
      name: `a bad cookie on row 17 (${cookie.slice(0, 30)})`,
      service: 'acts',
      method: 'POST',
      path: '/api/v1/acts',
      headers: { cookie, ...multipart([caption, category, png]).headers },
      body: multipart([caption, category, png]).body,
      expect: 'refused',
    });
  }
  cases.push({
    name: 'a 20 KiB header',
    service: 'acts',
    method: 'GET',
    path: '/api/v1/acts/count',
    headers: { 'x-junk': 'j'.repeat(20_000) },
    expect: 'refused',
  });
  const crossSite = { 'sec-fetch-site': 'cross-site', origin: 'http://evil.example' };
  cases.push({
    name: 'log-in from another site',
    service: 'users',
    method: 'POST',
    path: '/api/v1/sessions',
    headers: { ...JSON_TYPE, ...crossSite },
    body: `{"username":"eve","password":"${SHA1}"}`,
    expect: 'refused',
  });
  cases.push({
    name: 'log-out from another site',
    service: 'users',
    method: 'DELETE',
    path: '/api/v1/sessions',
    headers: crossSite,
    asEve: true,
    expect: 'refused',
  });
  cases.push({
    name: 'row 17 from a page on another port',
    service: 'acts',
    method: 'POST',
    path: '/api/v1/acts',
    headers: { ...multipart([caption, category, png]).headers, 'sec-fetch-site': 'same-site' },
    body: multipart([caption, category, png]).body,
    asEve: true,
    expect: 'refused',
  });
  cases.push({
    name: 'Origin: null on log-in',
    service: 'users',
    method: 'POST',
    path: '/api/v1/sessions',
    headers: { ...JSON_TYPE, origin: 'null' },
    body: `{"username":"eve","password":"${SHA1}"}`,
    expect: 'refused',
  });
  cases.push({
    name: 'log-in as text/plain (a cross-site form)',
    service: 'users',
    method: 'POST',
    path: '/api/v1/sessions',
    headers: { 'content-type': 'text/plain' },
    body: `{"username":"eve","password":"${SHA1}"}`,
    expect: 'refused',
  });
  return cases;
}

/** Owner mode only: writes on someone else's content with eve's live session (403). */
export function ownerCases(): HostileCase[] {
  return [
    {
      name: 'eve removes ann’s act',
      service: 'acts',
      method: 'DELETE',
      path: '/api/v1/acts/1',
      asEve: true,
      expect: 'refused',
    },
    {
      name: 'eve removes a category of others’ acts',
      service: 'acts',
      method: 'DELETE',
      path: '/api/v1/categories/garden',
      asEve: true,
      expect: 'refused',
    },
    {
      name: 'eve deletes ann',
      service: 'users',
      method: 'DELETE',
      path: '/api/v1/users/ann',
      asEve: true,
      expect: 'refused',
    },
    {
      name: 'eve uploads as ann',
      service: 'acts',
      method: 'POST',
      path: '/api/v1/acts',
      headers: JSON_TYPE,
      body: act({ actId: 78, username: 'ann' }),
      asEve: true,
      expect: 'refused',
    },
    {
      name: 'eve takes back a vote she never gave',
      service: 'acts',
      method: 'DELETE',
      path: '/api/v1/acts/2/upvote',
      asEve: true,
      expect: 'refused',
    },
    {
      name: 'anonymous category',
      service: 'acts',
      method: 'POST',
      path: '/api/v1/categories',
      headers: JSON_TYPE,
      body: '["anon"]',
      expect: 'refused',
    },
    {
      name: 'anonymous upvote',
      service: 'acts',
      method: 'POST',
      path: '/api/v1/acts/upvote',
      headers: JSON_TYPE,
      body: '[1]',
      expect: 'refused',
    },
    { name: 'anonymous removal', service: 'acts', method: 'DELETE', path: '/api/v1/acts/2', expect: 'refused' },
    {
      name: 'anonymous user deletion',
      service: 'users',
      method: 'DELETE',
      path: '/api/v1/users/bob',
      expect: 'refused',
    },
    {
      name: 'anonymous 16 MiB upload',
      service: 'acts',
      method: 'POST',
      path: '/api/v1/acts',
      headers: JSON_TYPE,
      body: big.longString,
      expect: 'refused',
    },
  ];
}

/** Reads with odd input: anything but a 5xx. */
function readCases(): HostileCase[] {
  const paths = [
    '/api/v1/categories',
    '/api/v1/acts/count',
    '/api/v1/categories/garden/acts',
    '/api/v1/categories/garden/acts/size',
    '/api/v1/acts?start=1&end=2',
    '/api/v1/acts/1/image',
    '/api/v1/categories/%5F%5Fproto%5F%5F/acts/size',
    '/api/v1/categories/garden/acts?start=1&end=1&x[y]=z',
    '/api/v1/_count',
    '/api/v1/acts?username=%C3%A9&start=1&end=1',
    '/api/v1/acts?username[x]=1&start=1&end=1',
  ];
  return paths.flatMap((path): HostileCase[] => [
    { name: `GET ${path}`, service: 'acts', method: 'GET', path, expect: 'read' },
    { name: `HEAD ${path}`, service: 'acts', method: 'HEAD', path, expect: 'read' },
    { name: `GET ${path} with eve's cookie`, service: 'acts', method: 'GET', path, asEve: true, expect: 'read' },
  ]);
}

export function hostileCases(): HostileCase[] {
  return [...jsonCases(), ...multipartCases(), ...pathCases(), ...rangeCases(), ...headerCases(), ...readCases()];
}
