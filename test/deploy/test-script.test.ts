// `npm test` (scripts/test.sh) says plainly which suites a local run skipped: a skipped suite
// reports no tests, which reads as green. Under CI=true a missing component fails instead.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

/** MariaDB at a port where nothing listens: the MariaDB suites must skip (or fail under CI). */
const NOTHING = 'mysql://selfless:selfless@127.0.0.1:1';

function runTests(ci: boolean) {
  const env: NodeJS.ProcessEnv = { ...process.env, MYSQL_TEST_URL: NOTHING };
  if (ci) env.CI = 'true';
  else delete env.CI;
  delete env.NODE_TEST_CONTEXT; // a nested runner of its own, not a child of this one
  return spawnSync(
    'bash',
    ['scripts/test.sh', 'test/app/contract-mariadb.test.ts', 'test/unit/worker-restart-backoff.test.ts'],
    { env, encoding: 'utf8', timeout: 120_000 },
  );
}

test('a local run names each suite it skipped, with what to start', () => {
  const run = runTests(false);
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stderr, /NOT A FULL RUN: 1 suite\(s\) skipped/);
  assert.match(
    run.stderr,
    /- test\/app\/contract-mariadb\.test\.ts: MariaDB not available: no server at 127\.0\.0\.1:1/,
  );
  assert.match(run.stderr, /scripts\/dev-services\.sh/);
});

test('under CI=true the same missing component fails the run', () => {
  const run = runTests(true);
  assert.notEqual(run.status, 0);
  assert.match(`${run.stdout}${run.stderr}`, /CI=true: CI must provide MariaDB/);
  assert.doesNotMatch(run.stderr, /NOT A FULL RUN/);
});

test('a run with everything there says nothing of skips', () => {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  const run = spawnSync('bash', ['scripts/test.sh', 'test/unit/worker-restart-backoff.test.ts'], {
    env,
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(run.status, 0, run.stderr);
  assert.doesNotMatch(run.stderr, /NOT A FULL RUN/);
});
