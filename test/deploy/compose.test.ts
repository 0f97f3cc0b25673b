// deploy/compose.yaml: accepted by Docker Compose itself (`docker-compose config`, Compose v1
// from Debian, which validates against the Compose schema and resolves variables, anchors and
// references), and equivalent to the supervisor's set-up: the same services, ports, routes
// (deploy/nginx.conf) and limits as config/orchestrator.json.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { skipUnless } from '../helpers/requirements.ts';
import { repoRoot, run, toolAvailable } from './exec.ts';

const COMPOSE = path.join(repoRoot, 'deploy/compose.yaml');
const skip = skipUnless(await toolAvailable('docker-compose', 'apt-get install docker-compose'), 'docker-compose');
const secrets = { DB_PASSWORD: 'composeTestPassw0rd', SESSION_SECRET: 'composeTestSessionSecret0123' };

const compose = (file: string, env: Record<string, string>) =>
  run('docker-compose', ['-f', file, 'config'], {
    cwd: path.dirname(file),
    // Only what the test sets: no developer's DB_PASSWORD leaks in.
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/root',
      COMPOSE_PROJECT_NAME: 'selflessacts',
      ...env,
    },
  });

interface ComposeService {
  image?: string;
  environment?: Record<string, string>;
  mem_limit?: string | number;
  mem_reservation?: string | number;
  cpus?: number;
  ports?: Array<string | { published: number; target: number }>;
  depends_on?: Record<string, { condition: string }>;
  read_only?: boolean;
  cap_drop?: string[];
  healthcheck?: { test: string[] };
}

describe('deploy/compose.yaml', { skip }, () => {
  test('docker-compose config accepts it and resolves the secrets from the environment', async () => {
    const r = await compose(COMPOSE, secrets);
    assert.equal(r.code, 0, r.output);
    const resolved = parse(r.stdout) as { services: Record<string, ComposeService> };
    assert.deepEqual(Object.keys(resolved.services).sort(), ['acts', 'mariadb', 'users', 'web']);
    assert.equal(
      resolved.services.users!.environment!.DATABASE_URL,
      `mysql://selflessacts:${secrets.DB_PASSWORD}@mariadb:3306/selflessacts`,
    );
    assert.equal(resolved.services.mariadb!.environment!.MARIADB_PASSWORD, secrets.DB_PASSWORD);
  });

  test('a missing secret stops it with a message saying where to set it', async () => {
    const r = await compose(COMPOSE, { SESSION_SECRET: secrets.SESSION_SECRET });
    assert.notEqual(r.code, 0, r.output);
    assert.match(r.output, /set DB_PASSWORD in deploy\/\.env \(see compose\.env\.example\)/);
  });

  test('the validator rejects an invalid file (the check can fail)', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'selflessacts-compose-'));
    try {
      const file = path.join(dir, 'compose.yaml');
      await writeFile(
        file,
        (await readFile(COMPOSE, 'utf8'))
          .replace('    read_only: true', '    read_onyl: true')
          .replace('  read_only: true', '  read_onyl: true'),
      );
      const r = await compose(file, secrets);
      assert.notEqual(r.code, 0, r.output);
      assert.match(r.output, /read_onyl/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('users and acts as the supervisor runs them: env, ports, limits, health, hardening', async () => {
    const config = JSON.parse(await readFile(path.join(repoRoot, 'config/orchestrator.json'), 'utf8')) as {
      services: Record<
        string,
        {
          image: string;
          env: Record<string, string>;
          containerPort: number;
          resources: { memoryMb: number; cpus: number; memoryRequestMb?: number };
        }
      >;
    };
    const resolved = parse((await compose(COMPOSE, secrets)).stdout) as { services: Record<string, ComposeService> };
    for (const [name, s] of Object.entries(config.services)) {
      const svc = resolved.services[name];
      assert.ok(svc, `no compose service ${name}`);
      assert.equal(svc.image, s.image);
      assert.equal(svc.environment!.SERVICE, name);
      assert.equal(svc.environment!.PORT, String(s.containerPort));
      assert.equal(svc.environment!.SESSION_SECRET, secrets.SESSION_SECRET);
      for (const [key, value] of Object.entries(s.env)) {
        const expected = value.replace(
          /\{\{(?:service|replicas):([a-z0-9-]+)\}\}/g,
          (_m, other: string) => `http://${other}:${config.services[other]!.containerPort}`,
        );
        assert.equal(svc.environment![key], expected, `${name} ${key}`);
      }
      assert.equal(svc.mem_limit, `${s.resources.memoryMb}m`);
      assert.equal(svc.mem_reservation, `${s.resources.memoryRequestMb ?? s.resources.memoryMb}m`);
      assert.equal(svc.cpus, s.resources.cpus);
      assert.equal(svc.read_only, true);
      assert.deepEqual(svc.cap_drop, ['ALL']);
      assert.match(svc.healthcheck!.test.join(' '), /\/api\/v1\/_health/);
      assert.deepEqual(svc.depends_on, { mariadb: { condition: 'service_healthy' } });
      assert.deepEqual(resolved.services.web!.depends_on![name], { condition: 'service_healthy' });
    }
  });

  test('nginx.conf routes like the balancer: config routes, /api/v1/_crash refused, the UI', async () => {
    const config = JSON.parse(await readFile(path.join(repoRoot, 'config/orchestrator.json'), 'utf8')) as {
      services: Record<string, { containerPort: number; routes: string[] }>;
    };
    const nginx = await readFile(path.join(repoRoot, 'deploy/nginx.conf'), 'utf8');
    for (const [name, s] of Object.entries(config.services)) {
      assert.match(nginx, new RegExp(`upstream ${name} \\{\\s*server ${name}:${s.containerPort};`), `upstream ${name}`);
      for (const route of s.routes) {
        assert.match(nginx, new RegExp(`location ${route} \\{\\s*proxy_pass http://${name};\\s*\\}`), route);
      }
    }
    assert.match(nginx, /location ~\* \^\/api\/v1\/_crash\/\?\$ \{[^}]*return 403/);
    assert.match(nginx, /location \/ \{\s*try_files \$uri \$uri\/ =404;/);
    const compose = await readFile(COMPOSE, 'utf8');
    assert.match(compose, /- \.\/nginx\.conf:\/etc\/nginx\/conf\.d\/default\.conf:ro/);
    assert.match(compose, /- \.\.\/public:\/usr\/share\/nginx\/html:ro/);
  });

  test('compose.env.example names every variable the file requires', async () => {
    const example = await readFile(path.join(repoRoot, 'deploy/compose.env.example'), 'utf8');
    const required = [...(await readFile(COMPOSE, 'utf8')).matchAll(/\$\{([A-Z_]+)(:[?-][^}]*)?\}/g)].map((m) => m[1]!);
    for (const name of new Set([...required, 'COMPOSE_PROJECT_NAME'])) {
      assert.match(example, new RegExp(`^${name}=`, 'm'), name);
    }
  });
});
