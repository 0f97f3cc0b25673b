import assert from 'node:assert/strict';
import { specParts } from '../../supervisor/fleet/spec-hash.ts';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { ConfigError, loadConfigFile, parseConfig, type ConfigIssue } from '../../supervisor/config/config.ts';
import { DEFAULT_EDGE, DEFAULT_LIMITS } from '../../supervisor/balancer/settings.ts';
import { ensureSecrets } from '../../supervisor/config/secrets.ts';
import { parseTemplate, refsOf, render, type TemplateContext } from '../../supervisor/schema/templates.ts';

const service = (extra: Record<string, unknown> = {}) => ({
  image: 'echo:latest',
  replicas: { initial: 1, min: 1, max: 3 },
  startPort: 9000,
  healthPath: '/health',
  ...extra,
});
const valid = () => ({ services: { web: service() } });

function issuesOf(raw: unknown, env: NodeJS.ProcessEnv = {}): ConfigIssue[] {
  try {
    parseConfig(raw, { env });
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    assert.equal(err.code, 'CONFIG_INVALID');
    return err.issues;
  }
  assert.fail('the config was accepted');
}

describe('config: the shipped file is valid', () => {
  test('config/orchestrator.json loads, with the seed knobs where the design says', () => {
    const c = loadConfigFile(new URL('../../config/orchestrator.json', import.meta.url).pathname, { env: {} });
    const acts = c.services.find((s) => s.name === 'acts')!;
    assert.equal(acts.startPort, 8000);
    assert.equal(acts.autoscale, true);
    assert.equal(c.heartbeat.intervalMs, 1000);
    assert.equal(c.scaling.requestsPerReplica, 20);
    assert.equal(c.scaling.windowSeconds, 120);
    assert.ok(c.blockedPaths.includes('/api/v1/_crash'));
    assert.ok(path.isAbsolute(c.dataDir));
  });
});

describe('config errors name the key, the value and what was expected', () => {
  const rows: Array<{
    name: string;
    raw: unknown;
    env?: NodeJS.ProcessEnv;
    key: string;
    value: unknown;
    expected: RegExp;
  }> = [
    {
      name: 'listen.port out of range',
      raw: { ...valid(), listen: { port: 70000 } },
      key: 'listen.port',
      value: 70000,
      expected: /integer from 0 to 65535/,
    },
    {
      name: 'runtime none of the registry',
      raw: { ...valid(), runtime: 'k8s' },
      key: 'runtime',
      value: 'k8s',
      expected: /"auto", "docker", "podman", "process"/,
    },
    {
      name: 'heartbeat interval of 0',
      raw: { ...valid(), heartbeat: { intervalMs: 0 } },
      key: 'heartbeat.intervalMs',
      value: 0,
      expected: /integer from 1/,
    },
    {
      name: 'a key the schema does not know',
      raw: { ...valid(), colour: 'blue' },
      key: 'colour',
      value: '(unknown key)',
      expected: /keys the schema declares/,
    },
    {
      name: 'a bad env override names the variable',
      raw: valid(),
      env: { LISTEN_PORT: 'eighty' },
      key: 'listen.port (from env LISTEN_PORT)',
      value: 'eighty',
      expected: /integer/,
    },
    { name: 'no services', raw: { services: {} }, key: 'services', value: {}, expected: /at least one service/ },
    {
      name: 'replicas initial above max',
      raw: { services: { web: service({ replicas: { initial: 4, min: 1, max: 3 } }) } },
      key: 'services.web.replicas',
      value: { initial: 4, min: 1, max: 3 },
      expected: /min <= initial <= max/,
    },
    {
      name: 'a memory request above the limit',
      raw: { services: { web: service({ resources: { memoryMb: 128, cpus: 0.5, memoryRequestMb: 129 } }) } },
      key: 'services.web.resources',
      value: { memoryMb: 128, cpus: 0.5, memoryRequestMb: 129 },
      expected: /memoryRequestMb: an integer from 16 to memoryMb/,
    },
    {
      name: 'startPort not a number',
      raw: { services: { web: service({ startPort: '8000' }) } },
      key: 'services.web.startPort',
      value: '8000',
      expected: /integer from 1 to 65535/,
    },
    {
      name: 'healthPath without a slash',
      raw: { services: { web: service({ healthPath: 'health' }) } },
      key: 'services.web.healthPath',
      value: 'health',
      expected: /starting with "\/"/,
    },
    {
      name: 'missing startPort',
      raw: { services: { web: { replicas: { initial: 1, min: 1, max: 1 }, healthPath: '/h' } } },
      key: 'services.web.startPort',
      value: undefined,
      expected: /integer/,
    },
    {
      name: 'unknown service key',
      raw: { services: { web: service({ replica: 2 }) } },
      key: 'services.web.replica',
      value: 2,
      expected: /one of the keys/,
    },
    {
      name: 'service name unfit for a container name',
      raw: { services: { Web_1: service() } },
      key: 'services.Web_1',
      value: 'Web_1',
      expected: /lower-case/,
    },
    {
      name: 'overlapping port ranges',
      raw: { services: { a: service(), b: service({ startPort: 9002 }) } },
      key: 'services.b.startPort',
      value: 9002,
      expected: /not overlapping services.a \(9000-9002\)/,
    },
    {
      name: 'listen port inside a service range',
      raw: { ...valid(), listen: { port: 9001 } },
      key: 'listen.port',
      value: 9001,
      expected: /outside services.web's range 9000-9002/,
    },
    {
      name: 'balancer threads of 0',
      raw: { ...valid(), balancer: { threads: 0 } },
      key: 'balancer.threads',
      value: 0,
      expected: /integer from 1 to 64/,
    },
    {
      name: 'balancer threads from env',
      raw: valid(),
      env: { BALANCER_THREADS: 'many' },
      key: 'balancer.threads (from env BALANCER_THREADS)',
      value: 'many',
      expected: /integer/,
    },
    {
      name: 'admin on the listener not a boolean',
      raw: { ...valid(), balancer: { adminOnListener: 'yes' } },
      key: 'balancer.adminOnListener',
      value: 'yes',
      expected: /true or false/,
    },
    {
      name: 'per-attempt head deadline beyond the upstream deadline',
      raw: { ...valid(), balancer: { upstreamHeaderTimeoutMs: 70_000, upstreamTimeoutMs: 60_000 } },
      key: 'balancer.upstreamHeaderTimeoutMs',
      value: 70_000,
      expected: /at most balancer.upstreamTimeoutMs \(60000\)/,
    },
    {
      name: 'per-attempt head deadline of 0',
      raw: { ...valid(), balancer: { upstreamHeaderTimeoutMs: 0 } },
      key: 'balancer.upstreamHeaderTimeoutMs',
      value: 0,
      expected: /an integer from 1/,
    },
    {
      name: 'a status that cannot be retried',
      raw: { ...valid(), balancer: { retryStatuses: [500, 404] } },
      key: 'balancer.retryStatuses',
      value: [500, 404],
      expected: /statuses among 500, 502, 503, 504/,
    },
    {
      name: 'head deadline beyond the request deadline',
      raw: { ...valid(), balancer: { headersTimeoutMs: 5000, requestTimeoutMs: 1000 } },
      key: 'balancer.headersTimeoutMs',
      value: 5000,
      expected: /at most balancer.requestTimeoutMs \(1000\)/,
    },
    {
      name: 'a tiny header limit',
      raw: { ...valid(), balancer: { maxHeaderBytes: 10 } },
      key: 'balancer.maxHeaderBytes',
      value: 10,
      expected: /integer from 1024/,
    },
    {
      name: 'an unknown strategy',
      raw: { services: { web: service({ strategy: 'random' }) } },
      key: 'services.web.strategy',
      value: 'random',
      expected: /"round-robin", "least-outstanding"/,
    },
    {
      name: 'template naming no service',
      raw: { services: { web: service({ env: { U: '{{service:nope}}' } }) } },
      key: 'services.web.env.U',
      value: '{{service:nope}}',
      expected: /naming a configured service/,
    },
    {
      name: 'template of an unknown kind',
      raw: { services: { web: service({ env: { U: '{{vault:x}}' } }) } },
      key: 'services.web.env.U',
      value: '{{vault:x}}',
      expected: /kind service, replicas, replica, secret or env/,
    },
    {
      name: 'root user for containers',
      raw: { ...valid(), runtimes: { docker: { user: '0:0' } } },
      key: 'runtimes.docker.user',
      value: '0:0',
      expected: /non-root/,
    },
    {
      name: 'root user for podman containers',
      raw: { ...valid(), runtimes: { podman: { user: '0:0' } } },
      key: 'runtimes.podman.user',
      value: '0:0',
      expected: /non-root/,
    },
    {
      name: 'a socket that is no unix path',
      raw: valid(),
      env: { CONTAINER_HOST: 'tcp://10.0.0.1:2375' },
      key: 'runtimes.podman.socket (from env CONTAINER_HOST)',
      value: 'tcp://10.0.0.1:2375',
      expected: /unix socket path/,
    },
    {
      name: 'settings of a runtime the registry has not',
      raw: { ...valid(), runtimes: { k8s: { context: 'x' } } },
      key: 'runtimes.k8s.context',
      value: '(unknown key)',
      expected: /keys the schema declares/,
    },
    {
      name: 'the docker key of earlier versions',
      raw: { ...valid(), docker: { network: 'n' } },
      key: 'docker',
      value: { network: 'n' },
      expected: /moved to runtimes\.docker/,
    },
    {
      name: 'a service scaling key that is not one',
      raw: { services: { web: service({ scaling: { requestsPerReplica: 0 } }) } },
      key: 'services.web.scaling',
      value: { requestsPerReplica: 0 },
      expected: /requestsPerReplica \(an integer from 1 to \d+\)/,
    },
    {
      name: 'an unknown service scaling key',
      raw: { services: { web: service({ scaling: { min: 2 } }) } },
      key: 'services.web.scaling',
      value: { min: 2 },
      expected: /any of windowSeconds \(.*\), requestsPerReplica \(.*\), dampingWindows \(an integer from 0 to/,
    },
    {
      name: 'a label prefix with capitals',
      raw: { ...valid(), labelPrefix: 'Selfless' },
      key: 'labelPrefix',
      value: 'Selfless',
      expected: /lower-case words/,
    },
  ];
  for (const row of rows) {
    test(row.name, () => {
      const issues = issuesOf(row.raw, row.env);
      const issue = issues.find((i) => i.key === row.key);
      assert.ok(issue, `no issue for ${row.key} in ${JSON.stringify(issues)}`);
      assert.deepEqual(issue.value, row.value);
      assert.match(issue.expected, row.expected);
    });
  }

  test('resources: the memory request defaults to the limit, and is no part of what a replica was started from', () => {
    const parse = (resources: unknown) =>
      parseConfig({ services: { web: service({ resources }) } }, { env: {} }).services[0]!.resources;
    assert.deepEqual(parse({ memoryMb: 128, cpus: 0.5 }), { memoryMb: 128, cpus: 0.5, memoryRequestMb: 128 });
    assert.deepEqual(parse({ memoryMb: 128, cpus: 0.5, memoryRequestMb: 48 }), {
      memoryMb: 128,
      cpus: 0.5,
      memoryRequestMb: 48,
    });
    const spec = (resources: { memoryMb: number; cpus: number; memoryRequestMb?: number }) =>
      specParts({ imageId: '', env: {}, command: ['node'], resources, containerPort: 80 }).resources;
    assert.equal(spec(parse({ memoryMb: 128, cpus: 0.5, memoryRequestMb: 48 })), spec({ memoryMb: 128, cpus: 0.5 }));
    assert.notEqual(spec(parse({ memoryMb: 129, cpus: 0.5 })), spec({ memoryMb: 128, cpus: 0.5 }));
  });

  test('every problem is reported at once, not only the first', () => {
    const issues = issuesOf({ runtime: 'x', listen: { port: -1 }, services: { web: service({ startPort: 0 }) } });
    assert.deepEqual(issues.map((i) => i.key).sort(), ['listen.port', 'runtime', 'services.web.startPort']);
  });

  test('a file that is not JSON', async (t) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sa-config-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'bad.json');
    await writeFile(file, '{ "services": ');
    assert.throws(
      () => loadConfigFile(file),
      (err: ConfigError) => err.issues[0]!.key === '(file)' && /valid JSON/.test(err.issues[0]!.expected),
    );
  });
});

describe('config env overrides and defaults', () => {
  test("env overrides the file; the supervisor's environment reaches no replica by itself", () => {
    const c = parseConfig(
      { ...valid(), listen: { port: 3000 } },
      {
        env: {
          LISTEN_PORT: '4000',
          RUNTIME: 'process',
          HEARTBEAT_INTERVAL_MS: '250',
          DATABASE_URL: 'mysql://u:p@h/db',
          SESSION_SECRET: 's'.repeat(32),
        },
      },
    );
    assert.equal(c.listen.port, 4000);
    assert.equal(c.runtime, 'process');
    assert.equal(c.heartbeat.intervalMs, 250);
    assert.deepEqual(c.env, {}, 'only what a template names ({{env:DATABASE_URL}}) is passed on');
  });
  test("a service's scaling: the global scaling, key by key overridden by its own", () => {
    const c = parseConfig(
      {
        scaling: { windowSeconds: 60, requestsPerReplica: 20, dampingWindows: 2 },
        services: {
          web: service({ autoscale: true, scaling: { requestsPerReplica: 50 } }),
          api: service({ startPort: 9100 }),
        },
      },
      { env: { REQUESTS_PER_REPLICA: '30' } },
    );
    const [web, api] = c.services;
    assert.deepEqual(web!.scaling, { windowSeconds: 60, requestsPerReplica: 50, dampingWindows: 2 });
    assert.deepEqual(
      api!.scaling,
      { windowSeconds: 60, requestsPerReplica: 30, dampingWindows: 2 },
      'the env override changes the default',
    );
  });
  test('service defaults: containerPort = startPort, no routes, no autoscale', () => {
    const web = parseConfig(valid(), { env: {} }).services[0]!;
    assert.equal(web.containerPort, 9000);
    assert.deepEqual(web.routes, []);
    assert.equal(web.autoscale, false);
    assert.deepEqual(web.env, {});
    assert.equal(web.strategy, 'round-robin');
  });
  test('balancer defaults: one thread, no admin on the listener, the limits of balancer/settings.ts', () => {
    const c = parseConfig(valid(), { env: {} });
    assert.deepEqual(c.balancer, {
      threads: 1,
      adminOnListener: false,
      upstreamParser: 'auto',
      ...DEFAULT_LIMITS,
      ...DEFAULT_EDGE,
    });
    assert.equal(c.admin.token, '');
    const shipped = loadConfigFile(new URL('../../config/orchestrator.json', import.meta.url).pathname, { env: {} });
    // The shipped file turns the rate limits on (log-in and sign-up of SelfLessActs), retries
    // safe requests after a 500 (SelfLessActs' crash switch) and serves its shareable addresses
    // with their previews; the rest is the defaults.
    assert.deepEqual(
      {
        ...shipped.balancer,
        rateLimits: c.balancer.rateLimits,
        retryStatuses: c.balancer.retryStatuses,
        previews: c.balancer.previews,
      },
      c.balancer,
      'the shipped file says the same',
    );
    assert.deepEqual(shipped.balancer.retryStatuses, [500, 502, 503, 504]);
    assert.deepEqual(shipped.balancer.rateLimits.auth.paths, ['/api/v1/sessions', '/api/v1/users']);
    assert.deepEqual(shipped.balancer.previews, { paths: ['/a', '/c', '/u'], source: '/api/v1/previews' });
    const env = parseConfig(valid(), {
      env: { BALANCER_THREADS: '4', BALANCER_ADMIN_ON_LISTENER: 'true', ADMIN_TOKEN: 't' },
    });
    assert.deepEqual([env.balancer.threads, env.balancer.adminOnListener, env.admin.token], [4, true, 't']);
  });
  test('a grader or a load test from one address lifts the rate limits with two variables', () => {
    const shipped = JSON.parse(readFileSync('config/orchestrator.json', 'utf8')) as Record<string, unknown>;
    const on = parseConfig(shipped, { env: {} });
    assert.ok(
      on.balancer.rateLimits.requests.perMinute > 0 && on.balancer.rateLimits.auth.perMinute > 0,
      'the shipped config limits',
    );
    const off = parseConfig(shipped, { env: { RATE_LIMIT_PER_MINUTE: '0', AUTH_RATE_LIMIT_PER_MINUTE: '0' } });
    assert.deepEqual([off.balancer.rateLimits.requests.perMinute, off.balancer.rateLimits.auth.perMinute], [0, 0]);
  });
  test('relative dataDir and staticDir resolve against cwd', () => {
    const c = parseConfig({ ...valid(), dataDir: 'd', staticDir: 'p' }, { env: {}, cwd: '/srv/app' });
    assert.equal(c.dataDir, '/srv/app/d');
    assert.equal(c.staticDir, '/srv/app/p');
  });
});

describe("templates: a replica's environment as the config writes it", () => {
  const ctx: TemplateContext = {
    serviceUrl: (name) => `http://${name}-8080:8080`,
    replicaUrls: (name) => [`http://${name}-8080:8080`, `http://${name}-8081:8080`],
    replica: { port: '8000', host: '0.0.0.0', dataDir: '/data', instance: 'abc123', service: 'acts' },
    secret: (name) => `secret-of-${name}`,
    env: (name) => ({ API_ACCESS: 'open', EMPTY: '' })[name],
  };
  const rows: Array<[string, string, string]> = [
    ['a service URL, whole', '{{service:users}}', 'http://users-8080:8080'],
    ['inside a longer value', '{{service:users}}/api/v1', 'http://users-8080:8080/api/v1'],
    ['spaces inside the braces', '{{ service:users }}', 'http://users-8080:8080'],
    [
      'every replica the service may run, comma-separated',
      '{{replicas:users}}',
      'http://users-8080:8080,http://users-8081:8080',
    ],
    [
      "the replica's own port, host, data dir, instance and service",
      '{{replica:host}}:{{replica:port}} {{replica:dataDir}} {{replica:instance}} {{replica:service}}',
      '0.0.0.0:8000 /data abc123 acts',
    ],
    ['a generated secret', '{{secret:SESSION_SECRET}}', 'secret-of-SESSION_SECRET'],
    ["the supervisor's variable when set", '{{env:API_ACCESS:-owner}}', 'open'],
    ['its default when unset', '{{env:NOPE:-owner}}', 'owner'],
    ['its default when empty', '{{env:EMPTY:-owner}}', 'owner'],
    ['an empty default', '{{env:NOPE:-}}', ''],
    [
      'a default that is itself a template',
      '{{env:SESSION_SECRET:-{{secret:SESSION_SECRET}}}}',
      'secret-of-SESSION_SECRET',
    ],
    [
      'a default around text and a template',
      '{{env:NOPE:-http://{{service:users}}/x}}',
      'http://http://users-8080:8080/x',
    ],
    ['values without templates are untouched', '{not a template} }} x', '{not a template} }} x'],
  ];
  for (const [name, text, want] of rows) {
    test(name, () => {
      const parsed = parseTemplate(text);
      assert.ok('parts' in parsed, JSON.stringify(parsed));
      assert.equal(render(parsed.parts, ctx), want);
    });
  }
  test('a bare {{env:NAME}} the supervisor lacks fails the render with its name', () => {
    const parsed = parseTemplate('{{env:NOPE}}');
    assert.ok('parts' in parsed);
    assert.throws(() => render(parsed.parts, ctx), /NOPE is not set/);
  });
  const bad: Array<[string, string, RegExp]> = [
    ['an unknown kind', '{{secrets:x}}', /kind service, replicas, replica, secret or env, not "secrets"/],
    [
      'an unknown replica field',
      '{{replica:address}}',
      /port, host, dataDir, instance, service after "replica:", not "address"/,
    ],
    ['an unclosed reference', '{{service:users', /"}}" to close/],
    ['a default never closed', '{{env:X:-abc', /default without its closing/],
    ['no kind at all', '{{users}}', /\{\{kind:argument\}\}/],
  ];
  for (const [name, text, expected] of bad) {
    test(`refused: ${name}`, () => {
      const parsed = parseTemplate(text);
      assert.ok('problem' in parsed, `${text} parsed`);
      assert.match(parsed.problem, expected);
    });
  }
  test('refsOf lists every reference, those inside defaults too', () => {
    const parsed = parseTemplate('{{service:a}} {{env:X:-{{secret:S}}}}');
    assert.ok('parts' in parsed);
    assert.deepEqual(
      refsOf(parsed.parts).map((r) => r.kind),
      ['service', 'env', 'secret'],
    );
  });
});

describe('config: env templates are checked at start-up', () => {
  const rows: Array<{ name: string; raw: unknown; env?: NodeJS.ProcessEnv; key: string; expected: RegExp }> = [
    {
      name: 'a template that does not parse, in the global env',
      raw: { ...valid(), env: { PORT: '{{replica:address}}' } },
      key: 'env.PORT',
      expected: /not "address"/,
    },
    {
      name: 'a required variable the supervisor lacks',
      raw: { ...valid(), env: { DATABASE_URL: '{{env:DATABASE_URL}}' } },
      key: 'env.DATABASE_URL',
      expected: /DATABASE_URL set in the supervisor's environment, or a default/,
    },
    {
      name: 'a service the config lacks, in a service env',
      raw: { services: { web: service({ env: { U: '{{service:nope}}' } }) } },
      key: 'services.web.env.U',
      expected: /naming a configured service \(web\)/,
    },
    {
      name: 'the generatedSecrets key of earlier versions',
      raw: { ...valid(), generatedSecrets: ['SESSION_SECRET'] },
      key: 'generatedSecrets',
      expected: /\{\{secret:SESSION_SECRET\}\}/,
    },
  ];
  for (const row of rows) {
    test(row.name, () => {
      const issue = issuesOf(row.raw, row.env).find((i) => i.key === row.key);
      assert.ok(issue, `no issue for ${row.key}`);
      assert.match(issue.expected, row.expected);
    });
  }
  test('a required variable the supervisor has, and defaults, are fine', () => {
    const c = parseConfig(
      { ...valid(), env: { DATABASE_URL: '{{env:DATABASE_URL}}', A: '{{env:A:-{{env:B}}}}' } },
      { env: { DATABASE_URL: 'mysql://x' } },
    );
    assert.equal(c.env.DATABASE_URL, '{{env:DATABASE_URL}}', 'kept as written: rendered per replica');
  });
});

describe('generated secrets', () => {
  const dirs: string[] = [];
  after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  test('made once, kept with mode 600, the same on the next start', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sa-secrets-'));
    dirs.push(dir);
    const first = ensureSecrets(dir, ['SESSION_SECRET']);
    assert.ok(first.SESSION_SECRET!.length >= 32);
    assert.deepEqual(ensureSecrets(dir, ['SESSION_SECRET']), first);
    assert.equal((await stat(path.join(dir, 'secrets.json'))).mode & 0o777, 0o600);
  });
  test('none wanted: no file', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sa-secrets-'));
    dirs.push(dir);
    assert.deepEqual(ensureSecrets(dir, []), {});
    await assert.rejects(stat(path.join(dir, 'secrets.json')));
  });
});
