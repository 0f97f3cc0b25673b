// The command a results file says made it: what a reader types to run it again.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { commandLine } from '../../bench/results.ts';

test('an npm script is named as one, with its arguments after --', () => {
  assert.equal(commandLine(['node', '/repo/bench/ci-loaded.ts', '--runs', '3'], { npm_lifecycle_event: 'ci:loaded' }), 'npm run ci:loaded -- --runs 3');
  assert.equal(commandLine(['node', '/repo/bench/ci-loaded.ts'], { npm_lifecycle_event: 'ci:loaded' }), 'npm run ci:loaded');
});

test('npx (which sets npm_lifecycle_event to "npx") and a bare run are named by the script path', () => {
  const argv = ['node', `${process.cwd()}/bench/ci-loaded.ts`, '--runs', '3'];
  assert.equal(commandLine(argv, { npm_lifecycle_event: 'npx' }), 'npx tsx bench/ci-loaded.ts --runs 3');
  assert.equal(commandLine(argv, {}), 'npx tsx bench/ci-loaded.ts --runs 3');
});
