// The environment a replica gets is the config's templates and nothing else: the shipped
// config says everything SelfLessActs needs (port, host, data dir, access mode, database,
// session secret), a service that is not SelfLessActs gets only its own names, and the process
// runtime refuses a config that would not tell each replica its port.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfigFile, parseConfig, type Config } from '../../supervisor/config/config.ts';
import { ReplicaEnvironment } from '../../supervisor/fleet/replica-env.ts';
import { processRuntime } from '../../supervisor/runtime/process.ts';

const shippedFile = new URL('../../config/orchestrator.json', import.meta.url).pathname;
const replica = (service: string) => ({ port: '8000', host: '0.0.0.0', dataDir: '/data', instance: 'i1', service });
const serviceUrl = (name: string) => `http://${name}-8080:8080`;
const replicaUrls = (name: string) => [8080, 8081].map((port) => `http://${name}-${port}:8080`);

function envOf(
  config: Config,
  service: string,
  supervisorEnv: NodeJS.ProcessEnv,
  secrets = { SESSION_SECRET: 'g'.repeat(43) },
) {
  const s = config.services.find((x) => x.name === service)!;
  return new ReplicaEnvironment(config, secrets, supervisorEnv).render(s, replica(service), serviceUrl, replicaUrls);
}

describe('the shipped config: what SelfLessActs needs, from templates', () => {
  test('nothing set for the supervisor: owner mode, SQLite (no DATABASE_URL), the generated session secret', () => {
    const config = loadConfigFile(shippedFile, { env: {} });
    assert.deepEqual(ReplicaEnvironment.secretNames(config), ['SESSION_SECRET']);
    assert.deepEqual(envOf(config, 'acts', {}), {
      PORT: '8000',
      HOST: '0.0.0.0',
      DATA_DIR: '/data',
      API_ACCESS: 'owner',
      SESSION_SECRET: 'g'.repeat(43),
      SERVICE: 'acts',
      USERS_URL: 'http://users-8080:8080,http://users-8081:8080',
    });
    assert.equal(envOf(config, 'users', {}).SERVICE, 'users');
  });

  test("the systemd env file's API_ACCESS, DATABASE_URL and SESSION_SECRET reach every replica", () => {
    const env = {
      API_ACCESS: 'open',
      DATABASE_URL: 'mysql://u:p@127.0.0.1:3306/db',
      SESSION_SECRET: 's'.repeat(40),
      HOME: '/root',
    };
    const config = loadConfigFile(shippedFile, { env });
    for (const service of ['users', 'acts']) {
      const got = envOf(config, service, env);
      assert.equal(got.API_ACCESS, 'open');
      assert.equal(got.DATABASE_URL, env.DATABASE_URL);
      assert.equal(got.SESSION_SECRET, env.SESSION_SECRET);
      assert.equal(got.HOME, undefined, 'nothing the templates do not name');
    }
  });
});

describe('a service that is not SelfLessActs', () => {
  const config = parseConfig(
    {
      labelPrefix: 'org.example',
      env: {},
      services: {
        echo: {
          command: ['node', 'echo.mjs'],
          env: {
            ECHO_PORT: '{{replica:port}}',
            ECHO_NAME: '{{replica:service}}',
            ECHO_REPLICA: '{{replica:instance}}',
            TOKEN: '{{secret:ECHO_TOKEN}}',
          },
          replicas: { initial: 1, min: 1, max: 1 },
          startPort: 9000,
          healthPath: '/h',
        },
      },
    },
    { env: {} },
  );

  test("gets its own names and none of SelfLessActs'", () => {
    const got = envOf(config, 'echo', { DATABASE_URL: 'mysql://x', SESSION_SECRET: 'y'.repeat(40) }, {
      ECHO_TOKEN: 't'.repeat(43),
    } as never);
    assert.deepEqual(got, { ECHO_PORT: '8000', ECHO_NAME: 'echo', ECHO_REPLICA: 'i1', TOKEN: 't'.repeat(43) });
    assert.equal(config.labelPrefix, 'org.example');
  });

  test('the process runtime wants each replica told its port', () => {
    assert.deepEqual(processRuntime.check?.(config) ?? [], []);
    const portless = parseConfig(
      {
        services: {
          web: {
            command: ['node', 'w.js'],
            env: { X: '1' },
            replicas: { initial: 1, min: 1, max: 2 },
            startPort: 9000,
            healthPath: '/h',
          },
        },
      },
      { env: {} },
    );
    const [issue] = processRuntime.check?.(portless) ?? [];
    assert.equal(issue?.key, 'services.web.env');
    assert.match(issue!.expected, /\{\{replica:port\}\}/);
  });
});
