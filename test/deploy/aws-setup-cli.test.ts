// scripts/aws-setup.sh on this machine: its help, its refusals, and a dry run that reports
// a plan and changes nothing. The real runs happen in a throwaway root (aws-setup-chroot).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { repoRoot, run } from './exec.ts';

const script = 'scripts/aws-setup.sh';
const setup = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  run('bash', [script, ...args], { cwd: repoRoot, env: { ...process.env, DATABASE_URL: '', ...env } });

describe('aws-setup.sh: command line', () => {
  test('--help names every option and what the script installs', async () => {
    const result = await setup(['--help']);
    assert.equal(result.code, 0, result.output);
    for (const option of [
      '--dry-run',
      '--port',
      '--database-url',
      '--db-name',
      '--db-user',
      '--no-start',
      '--wait',
      '--node-repo',
      '--allow-unsupported-os',
      '--help',
    ]) {
      assert.ok(result.stdout.includes(option), `--help does not mention ${option}`);
    }
    for (const thing of [
      'Node.js >= 24.11',
      'docker.io',
      'MariaDB',
      '/etc/selflessacts/selflessacts.env',
      '/opt/selflessacts',
      'selflessacts.service',
    ]) {
      assert.ok(result.stdout.includes(thing), `--help does not mention ${thing}`);
    }
  });

  const refusals: Array<{ name: string; args: string[]; env?: NodeJS.ProcessEnv; message: RegExp }> = [
    { name: 'an unknown option', args: ['--frobnicate'], message: /unknown option '--frobnicate'/ },
    {
      name: 'a port out of range',
      args: ['--dry-run', '--port', '70000'],
      message: /--port '70000': expected a port number/,
    },
    { name: 'an option without its value', args: ['--port'], message: /--port needs a value/ },
    {
      name: 'a database name with quotes',
      args: ['--dry-run', '--db-name', "x'; DROP"],
      message: /expected 1 to 32 letters/,
    },
    { name: 'a non-numeric wait', args: ['--dry-run', '--wait', 'soon'], message: /--wait 'soon'/ },
  ];
  for (const { name, args, env, message } of refusals) {
    test(`refuses ${name}, with a message and exit 1`, async () => {
      const result = await setup(args, env);
      assert.equal(result.code, 1, result.output);
      assert.match(result.stderr, message);
    });
  }

  test('a malformed DATABASE_URL is refused without echoing it (it may hold a password)', async () => {
    const result = await setup(['--dry-run'], { DATABASE_URL: 'postgres://u:hunter2secret@db/x' });
    assert.equal(result.code, 1, result.output);
    assert.match(result.stderr, /DATABASE_URL: expected mysql:\/\//);
    assert.ok(!result.output.includes('hunter2secret'), 'the value was printed');
  });
});

describe('aws-setup.sh --dry-run on this machine', () => {
  test('prints every step and the number of changes, and changes nothing', async () => {
    const watched = [
      '/etc/selflessacts',
      '/opt/selflessacts',
      '/var/lib/selflessacts',
      '/etc/systemd/system/selflessacts.service',
    ];
    const before = watched.map((p) => existsSync(p));
    const users = await run('getent', ['passwd', 'selflessacts']);
    const tmpBefore = new Set(await readdir(tmpdir()));
    const result = await setup(['--dry-run']);
    const leftovers = (await readdir(tmpdir())).filter((f) => !tmpBefore.has(f) && f.startsWith('tmp.'));
    assert.equal(result.code, 0, result.output);
    for (const step of [
      'Checking this machine',
      'Packages',
      'Node.js',
      'Docker and MariaDB services',
      'System user selflessacts',
      'App in /opt/selflessacts',
      'Database',
      'Settings in /etc/selflessacts',
      'Images',
      'systemd units selflessacts.service, selflessacts.socket and selflessacts-engine-guard.service',
      'Service',
    ]) {
      assert.ok(result.stdout.includes(`==> ${step}`), `no step "${step}" in:\n${result.output}`);
    }
    assert.match(result.stdout, /Dry run: \d+ change\(s\) would be made; nothing was changed\./);
    assert.deepEqual(
      watched.map((p) => existsSync(p)),
      before,
      'the dry run created or removed files',
    );
    assert.equal((await run('getent', ['passwd', 'selflessacts'])).code, users.code, 'the dry run changed the users');
    // Other processes may make temp dirs meanwhile; the script's hold a draft of the env file.
    for (const dir of leftovers) {
      const files = await readdir(path.join(tmpdir(), dir)).catch(() => []);
      assert.ok(files.length === 0 || !files.every((f) => /^[A-Za-z0-9]{6}$/.test(f)), `the script left ${dir} behind`);
    }
  });
});
