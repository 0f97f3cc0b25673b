// What production runs without a TypeScript loader: a checkout installed by aws-setup.sh has
// no tsx, and what it runs from sources goes through Node's own type stripping, which takes
// only erasable syntax (no parameter properties, enums or namespaces). The supervisor itself
// runs from its bundle, but its config and certificate modules are loaded as they are by the
// operations docs' checks (test/deploy/aws-setup-chroot.test.ts runs one as the service user),
// so their whole import graph must load in plain node. A child node, without tsx, loads them.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';

const root = path.resolve(import.meta.dirname, '../..');

test("the supervisor's config and TLS modules load under Node's own type stripping", () => {
  const modules = ['supervisor/config/config.ts', 'supervisor/config/tls-files.ts'].map(
    (m) => pathToFileURL(path.join(root, m)).href,
  );
  const script = `for (const m of ${JSON.stringify(modules)}) await import(m); process.stdout.write('loaded');`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  assert.equal(child.status, 0, child.stderr);
  assert.equal(child.stdout, 'loaded');
});
