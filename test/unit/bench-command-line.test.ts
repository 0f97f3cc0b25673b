// The command a results file says made it: what a reader types to run it again.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import os from 'node:os';
import { commandLine, portableArgument } from '../../bench/results.ts';

test('an npm script is named as one, with its arguments after --', () => {
  assert.equal(
    commandLine(['node', '/repo/bench/ci-loaded.ts', '--runs', '3'], { npm_lifecycle_event: 'ci:loaded' }),
    'npm run ci:loaded -- --runs 3',
  );
  assert.equal(
    commandLine(['node', '/repo/bench/ci-loaded.ts'], { npm_lifecycle_event: 'ci:loaded' }),
    'npm run ci:loaded',
  );
});

test('npx (which sets npm_lifecycle_event to "npx") and a bare run are named by the script path', () => {
  const argv = ['node', `${process.cwd()}/bench/ci-loaded.ts`, '--runs', '3'];
  assert.equal(commandLine(argv, { npm_lifecycle_event: 'npx' }), 'npx tsx bench/ci-loaded.ts --runs 3');
  assert.equal(commandLine(argv, {}), 'npx tsx bench/ci-loaded.ts --runs 3');
});

test('no path of the machine in a recorded command: repository-relative, $TMPDIR, ~', () => {
  const root = process.cwd();
  const argv = [
    'node',
    `${root}/bench/big-bodies.ts`,
    '--before',
    `${os.tmpdir()}/sla-app-before`,
    `--lock=${os.tmpdir()}/x.lock`,
    '--out',
    `${root}/bench/results/x.json`,
    `--config=${os.homedir()}/sa.json`,
  ];
  assert.equal(
    commandLine(argv, { npm_lifecycle_event: 'bench:bodies' }),
    'npm run bench:bodies -- --before $TMPDIR/sla-app-before --lock=$TMPDIR/x.lock --out bench/results/x.json --config=~/sa.json',
  );
  assert.equal(
    portableArgument('/etc/selflessacts/orchestrator.json', '/w/repo', '/tmp', '/root'),
    '/etc/selflessacts/orchestrator.json',
    'a system path is the same on every machine',
  );
  assert.equal(portableArgument('/w/repo', '/w/repo', '/tmp', '/root'), '.');
  assert.equal(
    portableArgument('/w/repository', '/w/repo', '/tmp', '/root'),
    '/w/repository',
    'a sibling sharing the prefix is not inside',
  );
});
