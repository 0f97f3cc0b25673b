// docs/operations.md documents every config key with its real default and env override: the
// tables are read and checked against supervisor/config/config.ts, so the guide cannot drift from it.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { ConfigError, parseConfig } from '../../supervisor/config/config.ts';
import { SERVICE_SCHEMA } from '../../supervisor/schema/service.ts';
import { repoRoot } from './exec.ts';

const minimalService = { replicas: { initial: 1, min: 1, max: 1 }, startPort: 9000, healthPath: '/health' };
const minimal = { services: { web: minimalService } };
const cwd = '/srv/example';

interface Row {
  key: string;
  defaultText: string;
  env: string | undefined;
}

/** Rows of the markdown table that follows `heading` (a line that starts the table's context). */
function tableRows(doc: string, heading: string, columns: number): Row[] {
  const start = doc.indexOf(heading);
  assert.ok(start >= 0, `no "${heading}" in docs/operations.md`);
  const lines = doc.slice(start).split('\n');
  const first = lines.findIndex((l) => l.startsWith('| key |'));
  const rows: Row[] = [];
  for (const line of lines.slice(first + 2)) {
    if (!line.startsWith('|')) break;
    const cells = line.split(' | ').map((c) => c.replace(/^\| ?| ?\|$/g, '').trim());
    assert.equal(cells.length, columns, `malformed row: ${line}`);
    const key = /^`([^`]+)`$/.exec(cells[0]!)?.[1];
    assert.ok(key, `key cell not in backticks: ${line}`);
    const env = columns === 4 ? /^`([A-Z_]+)`$/.exec(cells[2]!)?.[1] : undefined;
    rows.push({ key, defaultText: cells[1]!, env });
  }
  return rows;
}

/** Leaves of the parsed config; maps with free keys (env, services) are leaves themselves. */
function leaves(value: unknown, prefix = ''): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === 'object' && !Array.isArray(v) && !['env', 'services'].includes(key)) {
      for (const [kk, vv] of leaves(v, key)) out.set(kk, vv);
    } else out.set(key, v);
  }
  return out;
}

const backticked = (text: string) => /^`(.*)`$/.exec(text)?.[1];

describe('docs/operations.md, "Every key"', () => {
  let doc: string;
  let rows: Row[];
  let defaults: Map<string, unknown>;
  before(async () => {
    doc = await readFile(path.join(repoRoot, 'docs/operations.md'), 'utf8');
    rows = tableRows(doc, '### Every key', 4);
    defaults = leaves(parseConfig(minimal, { env: {}, cwd }));
  });

  test('documents exactly the keys the config has', () => {
    assert.deepEqual(rows.map((r) => r.key).sort(), [...defaults.keys()].sort());
  });

  test("each key's documented default is the real one", () => {
    for (const { key, defaultText } of rows) {
      if (key === 'services') continue; // parsed into a list; its keys have their own table
      const text = backticked(defaultText);
      assert.ok(text !== undefined, `${key}: default not in backticks`);
      let expected: unknown = JSON.parse(text);
      if (key === 'dataDir' || key === 'staticDir') expected = path.resolve(cwd, expected as string);
      assert.deepEqual(defaults.get(key), expected, key);
    }
  });

  test('each documented env override really sets its key', () => {
    const enums: Record<string, string> = {
      runtime: 'process',
      onShutdown: 'leave',
      'balancer.upstreamParser': 'own',
      'runtimes.docker.socket': 'unix:///run/sample-override',
      'runtimes.podman.socket': 'unix:///run/sample-override',
      'runtimes.docker.user': '1000:1000',
      'runtimes.podman.user': '1000:1000',
    };
    const documented = rows.filter((r) => r.env);
    assert.ok(documented.length >= 15, `only ${documented.length} env overrides documented`);
    for (const { key, env } of documented) {
      const before = defaults.get(key);
      const sample =
        typeof before === 'number'
          ? String(before + 11)
          : typeof before === 'boolean'
            ? String(!before)
            : (enums[key] ?? 'sample-override');
      // Keys that only make sense together are given their companions.
      const companions: Record<string, Record<string, string>> = {
        TLS_CERT_FILE: { TLS_KEY_FILE: 'key.pem' },
        TLS_KEY_FILE: { TLS_CERT_FILE: 'cert.pem' },
        TLS_REDIRECT_PORT: { TLS_CERT_FILE: 'cert.pem', TLS_KEY_FILE: 'key.pem' },
        RATE_LIMIT_PER_MINUTE: { RATE_LIMIT_BURST: '10' },
        AUTH_RATE_LIMIT_PER_MINUTE: { AUTH_RATE_LIMIT_BURST: '10' },
      };
      // ...and those whose companion has no env override, in the file.
      const files: Record<string, object> = {
        AUTH_RATE_LIMIT_PER_MINUTE: { ...minimal, balancer: { rateLimits: { auth: { paths: ['/api/v1/sessions'] } } } },
      };
      const after = leaves(
        parseConfig(files[env!] ?? minimal, { env: { ...companions[env!], [env!]: sample }, cwd }),
      ).get(key);
      if (typeof before === 'number') assert.equal(after, before + 11, `${env} → ${key}`);
      else if (typeof before === 'boolean') assert.equal(after, !before, `${env} → ${key}`);
      else assert.ok(String(after).endsWith(sample), `${env} → ${key}: ${String(after)}`);
    }
  });

  test('services.<name> keys: defaults and required ones as documented', () => {
    const serviceRows = tableRows(doc, '`services.<name>`:', 3);
    const whole = parseConfig(minimal, { env: {}, cwd });
    const parsed = whole.services[0]! as unknown as Record<string, unknown>;
    const optionalWithoutDefault = Object.entries(SERVICE_SCHEMA)
      .filter(([, declared]) => declared.default === undefined && !('required' in declared))
      .map(([key]) => key);
    const known = [...new Set([...Object.keys(parsed).filter((k) => k !== 'name'), ...optionalWithoutDefault])].sort();
    assert.deepEqual(serviceRows.map((r) => r.key).sort(), known);
    for (const { key, defaultText } of serviceRows) {
      if (defaultText === 'required') {
        const { [key]: _dropped, ...without } = minimalService as Record<string, unknown>;
        assert.throws(
          () => parseConfig({ services: { web: without } }, { env: {}, cwd }),
          (err: unknown) => err instanceof ConfigError && err.issues.some((i) => i.key === `services.web.${key}`),
          `${key} documented as required`,
        );
      } else if (defaultText === '`= startPort`') {
        assert.equal(parsed[key], parsed.startPort, key);
      } else if (defaultText === 'the global `scaling`') {
        assert.deepEqual(parsed[key], whole.scaling, key);
      } else if (defaultText === '–') {
        assert.ok(optionalWithoutDefault.includes(key), `${key} has no documented default`);
        assert.equal(parsed[key], undefined, key);
      } else {
        assert.deepEqual(parsed[key], JSON.parse(backticked(defaultText)!), key);
      }
    }
  });
});
