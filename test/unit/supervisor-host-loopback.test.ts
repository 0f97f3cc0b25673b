// The docker runtime's rewrite of loopback URLs (runtime/host-loopback.ts) and its config key.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, parseConfig } from '../../supervisor/config/config.ts';
import {
  isLoopbackHost,
  maskPassword,
  rewriteLoopbackEnv,
  rewriteLoopbackUrl,
} from '../../supervisor/runtime/host-loopback.ts';

const H = 'host.docker.internal';

describe('rewriteLoopbackUrl', () => {
  const table: [string, string | undefined][] = [
    ['mysql://selfless:selfless@127.0.0.1:3306/selfless', `mysql://selfless:selfless@${H}:3306/selfless`],
    ['mysql://u:p@localhost:3306/db', `mysql://u:p@${H}:3306/db`],
    ['mysql://u:p@LocalHost/db', `mysql://u:p@${H}/db`],
    ['mysql://u:p@[::1]:3306/db', `mysql://u:p@${H}:3306/db`],
    ['mysql://u:p@[0:0:0:0:0:0:0:1]:3306/db', `mysql://u:p@${H}:3306/db`],
    ['mysql://u:p@127.0.1.1:3307/db', `mysql://u:p@${H}:3307/db`],
    // Port, path, query and fragment kept as written (no re-encoding, no default-port dropping).
    [
      'mysql://u:p%40ss@127.0.0.1:3306/db?ssl=false&charset=utf8mb4#x',
      `mysql://u:p%40ss@${H}:3306/db?ssl=false&charset=utf8mb4#x`,
    ],
    ['http://127.0.0.1:80', `http://${H}:80`],
    ['http://localhost', `http://${H}`],
    ['redis://localhost:6379?db=2', `redis://${H}:6379?db=2`],
    // No user info, or a user without a password.
    ['mysql://127.0.0.1/db', `mysql://${H}/db`],
    ['mysql://root@127.0.0.1/db', `mysql://root@${H}/db`],
    // An unencoded "@" in the password: the user info runs to the last "@".
    ['mysql://u:p@ss@127.0.0.1:3306/db', `mysql://u:p@ss@${H}:3306/db`],
    // Not on the loopback: untouched.
    ['mysql://u:p@db.internal:3306/db', undefined],
    ['mysql://u:p@10.0.0.5:3306/db', undefined],
    ['mysql://u:p@host.docker.internal:3306/db', undefined],
    ['mysql://u:p@[::2]:3306/db', undefined],
    ['mysql://u:p@localhost.example.com/db', undefined],
    ['mysql://u:p@127.0.0.1.nip.io/db', undefined],
    ['mysql://u:p@127.0.0.300/db', undefined],
    ['mysql://localhost@db.internal/db', undefined], // "localhost" is the user here
    // Not URLs: untouched.
    ['127.0.0.1:3306', undefined],
    ['localhost', undefined],
    ['', undefined],
    ['/var/lib/selflessacts/acts.sqlite', undefined],
    ['file:///tmp/127.0.0.1', undefined],
  ];
  for (const [input, expected] of table) {
    test(`${JSON.stringify(input)} → ${JSON.stringify(expected)}`, () => {
      assert.equal(rewriteLoopbackUrl(input), expected);
    });
  }

  test('another alias', () => {
    assert.equal(rewriteLoopbackUrl('mysql://u:p@127.0.0.1:3306/db', 'gateway'), 'mysql://u:p@gateway:3306/db');
  });
});

describe('isLoopbackHost', () => {
  test('loopback names and addresses', () => {
    for (const h of ['localhost', '127.0.0.1', '127.255.255.254', '[::1]', '[0::1]']) assert.ok(isLoopbackHost(h), h);
    for (const h of ['0.0.0.0', '128.0.0.1', '::1', '[::]', '[fe80::1]', 'localhos', ''])
      assert.ok(!isLoopbackHost(h), h);
  });
});

describe('maskPassword', () => {
  const table: [string, string][] = [
    [`mysql://selfless:selfless@${H}:3306/db`, `mysql://selfless:***@${H}:3306/db`],
    [`mysql://u:p@ss@${H}:3306/db?x=1`, `mysql://u:***@${H}:3306/db?x=1`],
    [`mysql://u:@${H}/db`, `mysql://u:***@${H}/db`],
    [`mysql://root@${H}/db`, `mysql://root@${H}/db`],
    [`mysql://${H}/db`, `mysql://${H}/db`],
    ['not a url: secret', 'not a url: secret'],
  ];
  for (const [input, expected] of table) {
    test(`${input} → ${expected}`, () => assert.equal(maskPassword(input), expected));
  }
});

describe('rewriteLoopbackEnv', () => {
  test('only the listed keys, only loopback URLs; the input is not changed; passwords masked in the report', () => {
    const env = {
      DATABASE_URL: 'mysql://u:secret@127.0.0.1:3306/db',
      CACHE_URL: 'redis://localhost:6379',
      USERS_URL: 'http://users-8080:8080',
      OTHER: 'http://127.0.0.1:9',
    };
    const frozen = { ...env };
    const { env: out, rewritten } = rewriteLoopbackEnv(env, ['DATABASE_URL', 'CACHE_URL', 'USERS_URL', 'MISSING']);
    assert.deepEqual(out, {
      DATABASE_URL: `mysql://u:secret@${H}:3306/db`,
      CACHE_URL: `redis://${H}:6379`,
      USERS_URL: 'http://users-8080:8080',
      OTHER: 'http://127.0.0.1:9',
    });
    assert.deepEqual(env, frozen);
    assert.deepEqual(rewritten, [
      { key: 'DATABASE_URL', masked: `mysql://u:***@${H}:3306/db` },
      { key: 'CACHE_URL', masked: `redis://${H}:6379` },
    ]);
    assert.ok(!JSON.stringify(rewritten).includes('secret'));
  });

  test('no keys: nothing rewritten', () => {
    const { env, rewritten } = rewriteLoopbackEnv({ DATABASE_URL: 'mysql://u:p@127.0.0.1/db' }, []);
    assert.equal(env.DATABASE_URL, 'mysql://u:p@127.0.0.1/db');
    assert.deepEqual(rewritten, []);
  });
});

for (const runtime of ['docker', 'podman'] as const) {
  describe(`config: runtimes.${runtime}.hostLoopbackEnv`, () => {
    const valid = (settings: Record<string, unknown> = {}) => ({
      runtimes: { [runtime]: settings },
      services: {
        web: { image: 'x:latest', replicas: { initial: 1, min: 1, max: 1 }, startPort: 9000, healthPath: '/h' },
      },
    });

    test('defaults to [] (the supervisor knows no app); a list replaces it', () => {
      assert.deepEqual(parseConfig(valid(), { env: {} }).runtimes[runtime].hostLoopbackEnv, []);
      assert.deepEqual(
        parseConfig(valid({ hostLoopbackEnv: ['DATABASE_URL', 'REDIS_URL'] }), { env: {} }).runtimes[runtime]
          .hostLoopbackEnv,
        ['DATABASE_URL', 'REDIS_URL'],
      );
    });

    for (const bad of ['DATABASE_URL', ['DATABASE-URL'], [42], [''], { DATABASE_URL: true }]) {
      test(`rejects ${JSON.stringify(bad)} naming the key`, () => {
        assert.throws(
          () => parseConfig(valid({ hostLoopbackEnv: bad }), { env: {} }),
          (err: unknown) =>
            err instanceof ConfigError &&
            err.issues.some(
              (i) => i.key === `runtimes.${runtime}.hostLoopbackEnv` && /environment variable names/.test(i.expected),
            ),
        );
      });
    }
  });
}
