import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RoundRobinPicker } from '../../supervisor/workers/picker.ts';
import { buildRouteTable, matchesAny, normalisePath, requestPath, routeFor } from '../../supervisor/workers/paths.ts';
import { isLoopback, stripHopByHop } from '../../supervisor/workers/proxy.ts';

type Step = ['add', string, number, boolean?] | ['remove', string] | ['ready', string, boolean] | ['next', number, string[]?];

function run(steps: Step[]): string[] {
  const picker = new RoundRobinPicker<null>();
  const picked: string[] = [];
  for (const step of steps) {
    if (step[0] === 'add') picker.add(step[1], step[2], null, step[3] ?? true);
    else if (step[0] === 'remove') picker.remove(step[1]);
    else if (step[0] === 'ready') picker.setReady(step[1], step[2]);
    else {
      const skip = new Set(step[2] ?? []);
      for (let i = 0; i < step[1]; i++) picked.push(picker.next((id) => skip.has(id))?.id ?? '-');
    }
  }
  return picked;
}

describe('round-robin picker', () => {
  const rows: Array<{ name: string; steps: Step[]; want: string }> = [
    { name: '6 requests over A and B → 3 each, in strict order', steps: [['add', 'A', 1], ['add', 'B', 2], ['next', 6]], want: 'ABABAB' },
    { name: 'three replicas rotate A B C', steps: [['add', 'A', 1], ['add', 'B', 2], ['add', 'C', 3], ['next', 6]], want: 'ABCABC' },
    { name: 'order is by port, not by arrival', steps: [['add', 'B', 2], ['add', 'A', 1], ['next', 4]], want: 'ABAB' },
    { name: 'a not-ready replica is skipped', steps: [['add', 'A', 1], ['add', 'B', 2, false], ['add', 'C', 3], ['next', 4]], want: 'ACAC' },
    { name: 'ready again: it rejoins in its place', steps: [['add', 'A', 1], ['add', 'B', 2, false], ['next', 2], ['ready', 'B', true], ['next', 3]], want: 'AABAB' },
    { name: 'a refusing replica is skipped and the order continues', steps: [['add', 'A', 1], ['add', 'B', 2], ['add', 'C', 3], ['next', 1], ['next', 1, ['B']], ['next', 3]], want: 'ACABC' },
    { name: 'a replica added mid-rotation takes its turn by port', steps: [['add', 'A', 1], ['add', 'C', 3], ['next', 1], ['add', 'B', 2], ['next', 3]], want: 'ABCA' },
    { name: 'removing the last picked keeps the rotation going', steps: [['add', 'A', 1], ['add', 'B', 2], ['add', 'C', 3], ['next', 2], ['remove', 'B'], ['next', 3]], want: 'ABCAC' },
    { name: 'none ready → nothing', steps: [['add', 'A', 1, false], ['next', 2]], want: '--' },
    { name: 'everything skipped → nothing', steps: [['add', 'A', 1], ['next', 1, ['A']]], want: '-' },
  ];
  for (const row of rows) {
    test(row.name, () => assert.equal(run(row.steps).join(''), row.want));
  }
});

describe('path routing: longest prefix wins', () => {
  const table = buildRouteTable({
    users: { prefixes: ['/api/v1/users', '/api/v1/sessions'] },
    acts: { prefixes: ['/api/v1'] },
    whoami: { prefixes: ['/whoami'] },
  });
  const rows: Array<[string, string | undefined]> = [
    ['/api/v1/users', 'users'],
    ['/api/v1/users/bob/exists', 'users'],
    ['/api/v1/sessions/me', 'users'],
    ['/api/v1/categories', 'acts'],
    ['/api/v1/acts/upvote', 'acts'],
    ['/api/v1/_count', 'acts'],
    ['/whoami/x', 'whoami'],
    ['/', undefined],
    ['/index.html', undefined],
  ];
  for (const [path, service] of rows) {
    test(`${path} → ${service ?? 'static files'}`, () => assert.equal(routeFor(table, path), service));
  }
});

describe('blocked paths are matched in every spelling an app might accept', () => {
  const blocked = ['/api/v1/_crash'];
  const rows: Array<[string, boolean]> = [
    ['/api/v1/_crash', true],
    ['/API/v1/_CRASH', true],
    ['/api/v1/_crash/', true],
    ['//api//v1//_crash', true],
    ['/api/v1/%5Fcrash', true],
    ['/api/v1/x/../_crash', true],
    ['/api/v1/_crash?x=1', true],
    ['/api/v1/_crashed', false],
    ['/api/v1/acts', false],
  ];
  for (const [target, isBlocked] of rows) {
    test(`${target} → ${isBlocked ? '403' : 'passes'}`, () => {
      const path = requestPath(target);
      assert.ok(path !== undefined);
      assert.equal(matchesAny(path, blocked), isBlocked);
    });
  }
  test('a malformed target is refused', () => {
    assert.equal(requestPath('http://elsewhere/x'), undefined);
    assert.equal(requestPath('/%E0%A4%A'), undefined);
  });
  test('normalisePath folds case, collapses and trims slashes', () => assert.equal(normalisePath('/A//b/'), '/a/b'));
});

describe('proxy header rules', () => {
  test('hop-by-hop headers and those named in Connection are dropped', () => {
    const out = stripHopByHop({
      connection: 'keep-alive, X-Secret',
      'keep-alive': 'timeout=5',
      'transfer-encoding': 'chunked',
      te: 'trailers',
      upgrade: 'h2c',
      'proxy-authorization': 'Basic x',
      expect: '100-continue',
      'x-secret': '1',
      'x-kept': '2',
      'set-cookie': ['a=1', 'b=2'],
    });
    assert.deepEqual(out, { 'x-kept': '2', 'set-cookie': ['a=1', 'b=2'] });
  });
  const rows: Array<[string, boolean]> = [
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['::1', true],
    ['10.0.0.5', false],
    ['192.168.1.1', false],
    ['::ffff:8.8.8.8', false],
  ];
  for (const [address, local] of rows) {
    test(`dashboard access from ${address}: ${local ? 'allowed' : '403'}`, () => assert.equal(isLoopback(address), local));
  }
});
