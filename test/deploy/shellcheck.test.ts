// Every shell script of the project passes shellcheck, warnings included.
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { skipUnless } from '../helpers/requirements.ts';
import { repoRoot, run, toolAvailable } from './exec.ts';

const shellcheck = skipUnless(await toolAvailable('shellcheck', 'apt-get install shellcheck'), 'shellcheck');

async function shellScripts(): Promise<string[]> {
  const scripts = (await readdir(path.join(repoRoot, 'scripts')))
    .filter((f) => f.endsWith('.sh'))
    .map((f) => `scripts/${f}`);
  return [...scripts.sort(), '.ci/run'];
}

describe('shellcheck', { skip: shellcheck }, () => {
  test('finds the scripts it is meant to check', async () => {
    const files = await shellScripts();
    for (const expected of ['scripts/aws-setup.sh', 'scripts/dev-services.sh', 'scripts/test.sh', '.ci/run']) {
      assert.ok(files.includes(expected), `${expected} missing from ${files.join(', ')}`);
    }
  });

  test('scripts/*.sh and .ci/run have no findings', async () => {
    const files = await shellScripts();
    const result = await run('shellcheck', ['--shell=bash', '--severity=style', ...files]);
    assert.equal(result.code, 0, result.output);
  });

  test('it reports a real problem (the check can fail)', async () => {
    const result = await run('shellcheck', ['--shell=bash', '-'], { input: 'rm -rf $1/*\n' });
    assert.notEqual(result.code, 0);
    assert.match(result.stdout, /SC2086/);
  });
});
