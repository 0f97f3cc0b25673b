// Environment → configuration: defaults, and errors that name the variable and what is expected.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../../app/config.ts';

describe('loadConfig', () => {
  test('defaults: both services on 0.0.0.0:8080, SQLite under ./data, 16 MiB bodies, owner access, info logs', () => {
    assert.deepEqual(loadConfig({}), {
      service: 'all',
      port: 8080,
      host: '0.0.0.0',
      dataDir: './data',
      databaseUrl: undefined,
      usersUrl: undefined,
      actsOrigin: undefined,
      sessionSecret: undefined,
      bodyLimit: 16 * 1024 * 1024,
      bodyMemory: 16 * 1024 * 1024,
      imageQueue: { maxWaiting: 48, maxWaitingPerUser: 24 },
      publicDir: './public',
      apiAccess: 'owner',
      log: { level: 'info', format: 'auto' },
    });
  });

  test('every variable is read', () => {
    const config = loadConfig({
      SERVICE: 'acts',
      PORT: '8001',
      HOST: '127.0.0.1',
      DATA_DIR: '/var/lib/acts',
      DATABASE_URL: 'mysql://u:p@db:3306/acts',
      USERS_URL: 'http://127.0.0.1:8080/',
      ACTS_ORIGIN: 'http://acts.example',
      SESSION_SECRET: 'a-long-enough-secret',
      BODY_LIMIT: '1024',
      BODY_MEMORY: '4096',
      PUBLIC_DIR: '/srv/public',
      API_ACCESS: 'open',
      LOG_LEVEL: 'warn',
      LOG_FORMAT: 'json',
    });
    assert.equal(config.apiAccess, 'open');
    assert.deepEqual(config.log, { level: 'warn', format: 'json' });
    assert.equal(config.service, 'acts');
    assert.equal(config.port, 8001);
    assert.equal(config.usersUrl, 'http://127.0.0.1:8080', 'trailing slash trimmed');
    assert.equal(config.databaseUrl, 'mysql://u:p@db:3306/acts');
    assert.equal(config.bodyLimit, 1024);
    assert.equal(config.bodyMemory, 4096);
  });

  test('USERS_URL may list every replica of the users service, comma-separated', () => {
    const config = loadConfig({ SERVICE: 'acts', USERS_URL: 'http://users-8080:8080/, http://users-8081:8080' });
    assert.equal(config.usersUrl, 'http://users-8080:8080,http://users-8081:8080');
  });

  test('an empty variable counts as unset', () => {
    assert.equal(loadConfig({ PORT: '' }).port, 8080);
  });

  const invalid: [string, Record<string, string>, string, RegExp][] = [
    ['an unknown SERVICE', { SERVICE: 'both' }, 'SERVICE', /users, acts, all/],
    ['a PORT that is not a number', { PORT: 'http' }, 'PORT', /0 to 65535/],
    ['a PORT out of range', { PORT: '70000' }, 'PORT', /0 to 65535/],
    ['a negative PORT', { PORT: '-1' }, 'PORT', /0 to 65535/],
    ['a BODY_LIMIT with a unit', { BODY_LIMIT: '16mb' }, 'BODY_LIMIT', /bytes/],
    ['a BODY_LIMIT of 0', { BODY_LIMIT: '0' }, 'BODY_LIMIT', /positive/],
    ['a BODY_MEMORY with a unit', { BODY_MEMORY: '32M' }, 'BODY_MEMORY', /bytes/],
    ['a DATABASE_URL for another database', { DATABASE_URL: 'postgres://u:p@db/x' }, 'DATABASE_URL', /mysql:\/\//],
    ['a DATABASE_URL without a database name', { DATABASE_URL: 'mysql://u:p@db:3306' }, 'DATABASE_URL', /database/],
    ['a USERS_URL that is not http', { USERS_URL: 'ftp://users' }, 'USERS_URL', /http/],
    ['a USERS_URL list with a part that is not http', { USERS_URL: 'http://a:8080,ftp://b' }, 'USERS_URL', /http/],
    [
      'a USERS_URL list with an empty part',
      { USERS_URL: 'http://a:8080,,http://b:8080' },
      'USERS_URL',
      /separated by commas/,
    ],
    ['SERVICE=acts without USERS_URL', { SERVICE: 'acts' }, 'USERS_URL', /users service/],
    ['a short SESSION_SECRET', { SESSION_SECRET: 'short' }, 'SESSION_SECRET', /at least 16/],
    ['an unknown API_ACCESS', { API_ACCESS: 'public' }, 'API_ACCESS', /^one of open, owner$/],
    ['API_ACCESS in capitals', { API_ACCESS: 'OPEN' }, 'API_ACCESS', /open, owner/],
    [
      'an unknown LOG_LEVEL',
      { LOG_LEVEL: 'verbose' },
      'LOG_LEVEL',
      /^one of fatal, error, warn, info, debug, trace, silent$/,
    ],
    ['an unknown LOG_FORMAT', { LOG_FORMAT: 'text' }, 'LOG_FORMAT', /auto, json, pretty/],
  ];
  for (const [name, env, variable, expected] of invalid) {
    test(`${name} → ConfigError naming ${variable}`, () => {
      assert.throws(
        () => loadConfig(env),
        (err: unknown) =>
          err instanceof ConfigError &&
          err.variable === variable &&
          expected.test(err.expected) &&
          err.message.includes(variable),
      );
    });
  }

  test('a bad DATABASE_URL is reported without its password', () => {
    assert.throws(
      () => loadConfig({ DATABASE_URL: 'mysql://user:s3cret@db:3306' }),
      (err: unknown) => err instanceof ConfigError && !err.message.includes('s3cret') && err.value.includes('***'),
    );
  });

  test("SESSION_SECRET_FILE: the secret from a file (the orchestrator's way); one or the other; unreadable → named", async () => {
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(`${tmpdir()}/sa-secret-`);
    try {
      await writeFile(`${dir}/s`, 'from-a-file-long-enough\n', { mode: 0o400 });
      assert.equal(loadConfig({ SESSION_SECRET_FILE: `${dir}/s` }).sessionSecret, 'from-a-file-long-enough');
      assert.throws(
        () => loadConfig({ SESSION_SECRET_FILE: `${dir}/s`, SESSION_SECRET: 'a-long-enough-secret' }),
        (err: unknown) => err instanceof ConfigError && err.variable === 'SESSION_SECRET_FILE',
      );
      assert.throws(
        () => loadConfig({ SESSION_SECRET_FILE: `${dir}/missing` }),
        (err: unknown) => err instanceof ConfigError && /ENOENT/.test(err.message),
      );
      await writeFile(`${dir}/short`, 'tiny');
      assert.throws(() => loadConfig({ SESSION_SECRET_FILE: `${dir}/short` }), /at least 16/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a short SESSION_SECRET is never echoed', () => {
    assert.throws(
      () => loadConfig({ SESSION_SECRET: 'tiny-pw' }),
      (err: unknown) => err instanceof ConfigError && !err.message.includes('tiny-pw'),
    );
  });
});
