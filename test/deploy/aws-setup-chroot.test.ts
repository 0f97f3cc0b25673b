// scripts/aws-setup.sh for real, in a throwaway Debian 12 root (debootstrap minbase + systemd,
// like a fresh cloud VM): the dry run on the fresh root, then real runs with --no-start (no
// service manager runs in a chroot), which install the packages with apt, create the user,
// the settings, the app and its dependencies, the unit; then, once the chroot's own MariaDB
// runs, the database; then a run that must change nothing, and an upgrade.
import assert from 'node:assert/strict';
import { appendFile, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { skipUnless } from '../helpers/requirements.ts';
import { Chroot, baseTarball, stopChild } from './chroot.ts';
import { freePorts, repoRoot, rootAvailable, toolAvailable, type RunResult } from './exec.ts';
import { parseEnvLines, parseUnit } from './unit-file.ts';

const requirements = [
  [rootAvailable(), 'root'],
  [await toolAvailable('debootstrap', 'apt-get install debootstrap'), 'debootstrap'],
  [await toolAvailable('unshare', 'apt-get install util-linux'), 'unshare'],
] as const;
let skip: string | false = false;
for (const [req, name] of requirements) skip ||= skipUnless(req, name);

const SOURCE = '/root/selflessacts';
const SCRIPT = `${SOURCE}/scripts/aws-setup.sh`;
// Changes to watch for: everything the script may touch, less what a running MariaDB rewrites.
const WATCHED = ['/etc', '/opt', '/usr', '/root', '/var/lib/selflessacts', '/var/lib/dpkg', '/var/lib/apt'];

function changeLines(out: string): string[] {
  return out.split('\n').filter((l) => /^ {2}(change|would) {2}/.test(l));
}

const envFile = (text: string) => parseEnvLines(text.split('\n'));

/** A port below 1024 that nothing listens on at 127.0.0.1 (this test runs as root). */
async function freePrivilegedPort(): Promise<number> {
  for (let port = 1023; port > 900; port--) {
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port in 901-1023');
}

describe('aws-setup.sh in a fresh Debian 12 root', { skip, timeout: 600_000 }, () => {
  let root: Chroot;
  let nodeEnv: Record<string, string> = {};
  let dbPort = 0;
  const setup = (args: string[], env: Record<string, string> = {}): Promise<RunResult> =>
    root.exec(['bash', SCRIPT, ...args], { ...nodeEnv, ...env });

  before(async () => {
    const tarball = await baseTarball((line) => console.log(`# ${line}`));
    root = await Chroot.create(tarball);
    await root.copyCheckout();
  });
  after(async () => {
    await root?.destroy();
  });

  test('--dry-run on the fresh root prints the whole plan and changes nothing', async () => {
    const before = await root.snapshot(WATCHED);
    const result = await setup(['--dry-run']);
    assert.equal(result.code, 0, result.output);
    const out = result.stdout;
    assert.match(out, /would {3}install ca-certificates curl gnupg docker\.io mariadb-server/);
    // Debian 12's nodejs is 18: the plan adds NodeSource's repository.
    assert.match(out, /the distribution offers nodejs 18\.[\d.]+; adding https:\/\/deb\.nodesource\.com\/node_24\.x/);
    assert.match(
      out,
      /\$ curl -fsSL https:\/\/deb\.nodesource\.com\/gpgkey\/nodesource-repo\.gpg\.key \| gpg --dearmor/,
    );
    assert.match(out, /\$ useradd --system --gid selflessacts/);
    assert.doesNotMatch(out, /usermod -aG docker/, 'the service user stays out of the docker group');
    assert.match(out, /selflessacts-engine-guard\.service/);
    assert.match(
      out,
      /would {3}write \/etc\/selflessacts\/selflessacts\.env \(mode 0640, root:selflessacts\); contents not shown/,
    );
    assert.match(out, /npm ci --omit=dev/);
    assert.match(out, /\$ systemctl enable selflessacts\.service/);
    assert.match(out, /would wait up to 300s for http:\/\/127\.0\.0\.1:80\/api\/v1\/_health/);
    assert.match(out, /Dry run: \d+ change\(s\) would be made; nothing was changed\./);
    assert.equal(await root.snapshot(WATCHED), before, 'the dry run changed files in the root');
  });

  test('--dry-run --domain shows every certbot step: webroot on port 80, the certificate, the hook, renewals, HTTPS on', async () => {
    const before = await root.snapshot(WATCHED);
    const result = await setup(['--dry-run', '--domain', 'acts.example.org', '--email', 'admin@example.org']);
    assert.equal(result.code, 0, result.output);
    const out = result.stdout;
    assert.match(out, /would {3}install ca-certificates curl gnupg docker\.io mariadb-server certbot/);
    assert.match(
      out,
      /would wait up to 300s for http:\/\/127\.0\.0\.1:80\/api\/v1\/_health/,
      'plain HTTP first, to answer the challenge',
    );
    assert.match(out, /\$ install -d -m 0755 -o root -g root \/var\/lib\/selflessacts\/acme/);
    assert.match(
      out,
      /would {3}write \/etc\/letsencrypt\/renewal-hooks\/deploy\/selflessacts \(mode 0755, root:root\)/,
    );
    assert.match(
      out,
      /\$ certbot certonly --non-interactive --agree-tos --email admin@example\.org --webroot -w \/var\/lib\/selflessacts\/acme -d acts\.example\.org --keep-until-expiring/,
    );
    assert.match(
      out,
      /\$ env RENEWED_LINEAGE=\/etc\/letsencrypt\/live\/acts\.example\.org \/etc\/letsencrypt\/renewal-hooks\/deploy\/selflessacts/,
    );
    assert.match(out, /\$ systemctl enable --now certbot\.timer/);
    assert.match(
      out,
      /would {3}write \/etc\/selflessacts\/selflessacts\.env with LISTEN_PORT=443, TLS_CERT_FILE=\/etc\/selflessacts\/tls\/fullchain\.pem/,
    );
    assert.match(out, /would wait up to 300s for https:\/\/acts\.example\.org\/api\/v1\/_health/);
    assert.equal(await root.snapshot(WATCHED), before, 'the dry run changed files in the root');
    for (const [args, message] of [
      [['--domain', 'Not A Name'], /--domain 'Not A Name': expected a lower-case DNS name/],
      [['--email', 'a@b.org'], /--email goes with --domain/],
      [['--domain', 'acts.example.org', '--email', 'nobody'], /--email 'nobody': expected an address/],
    ] as const) {
      const refused = await setup(['--dry-run', ...args]);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, message);
    }
  });

  test('--dry-run with an external DATABASE_URL plans no MariaDB and never prints the URL', async () => {
    const url = 'mysql://app:s3cretPassw0rdXYZ@db.example.internal:3306/acts';
    const result = await setup(['--dry-run', '--port', '8080'], { DATABASE_URL: url });
    assert.equal(result.code, 0, result.output);
    assert.match(result.stdout, /no local MariaDB: the database is external/);
    assert.match(result.stdout, /would {3}install ca-certificates curl gnupg docker\.io\n/);
    assert.match(result.stdout, /external database at db\.example\.internal/);
    assert.doesNotMatch(result.stdout, /CREATE USER/);
    assert.match(result.stdout, /http:\/\/127\.0\.0\.1:8080\/api\/v1\/_health/);
    assert.ok(!result.output.includes('s3cretPassw0rdXYZ'), 'the password was printed');
  });

  let firstRun: RunResult;
  test('a real run with --no-start installs packages, user, settings, app and unit', async () => {
    nodeEnv = await root.provideNode();
    firstRun = await setup(['--no-start']);
    const out = firstRun.stdout;
    assert.equal(firstRun.code, 0, firstRun.output);
    assert.match(out, /change {2}install ca-certificates curl gnupg docker\.io mariadb-server/);
    assert.match(out, /ok {6}node \d+\.\d+\.\d+ \(\/usr\/bin\/node\)/);
    assert.match(out, /MariaDB is not running \(--no-start\): run this script again/);
    assert.match(out, /Done: \d+ change\(s\)\. Start it with: systemctl start selflessacts\.service/);

    const inside = async (argv: string[]) => {
      const r = await root.exec(argv);
      assert.equal(r.code, 0, r.output);
      return r.stdout.trim();
    };
    for (const pkg of ['docker.io', 'mariadb-server', 'curl', 'ca-certificates', 'gnupg']) {
      assert.equal(await inside(['dpkg-query', '-W', '-f=${db:Status-Status}', pkg]), 'installed', pkg);
    }
    // The user: a system account without a shell, in no docker group (the engine guard holds the socket).
    const passwd = (await inside(['getent', 'passwd', 'selflessacts'])).split(':');
    assert.ok(Number(passwd[2]) < 1000, `not a system uid: ${passwd[2]}`);
    assert.equal(passwd[5], '/var/lib/selflessacts');
    assert.equal(passwd[6], '/usr/sbin/nologin');
    assert.doesNotMatch(await inside(['id', '-nG', 'selflessacts']), /\bdocker\b/);
    assert.ok(
      existsSync(root.path('/etc/systemd/system/selflessacts-engine-guard.service')),
      'the engine guard is installed',
    );

    // The env file: root-only secrets, never printed.
    assert.equal(
      await inside(['stat', '-c', '%a %U %G', '/etc/selflessacts/selflessacts.env']),
      '640 root selflessacts',
    );
    assert.equal(await inside(['stat', '-c', '%a %U %G', '/etc/selflessacts']), '750 root selflessacts');
    assert.equal(await inside(['stat', '-c', '%a %U %G', '/var/lib/selflessacts']), '700 selflessacts selflessacts');
    const env = envFile(await readFile(root.path('/etc/selflessacts/selflessacts.env'), 'utf8'));
    const db = /^mysql:\/\/selflessacts:([A-Za-z0-9]{32})@127\.0\.0\.1:3306\/selflessacts$/.exec(
      env.DATABASE_URL ?? '',
    );
    assert.ok(db, `DATABASE_URL has an unexpected shape`);
    assert.match(env.SESSION_SECRET ?? '', /^[A-Za-z0-9]{48}$/);
    assert.equal(env.LISTEN_PORT, '80');
    assert.equal(env.DOCKER_USER, `${passwd[2]}:${passwd[3]}`, 'the replicas run as the service user itself');
    for (const secret of [db[1]!, env.SESSION_SECRET!]) {
      assert.ok(!firstRun.output.includes(secret), 'a secret appears in the output');
    }

    // The app: the checkout's files, root-owned, with working production dependencies.
    for (const file of ['package.json', 'supervisor/main.ts', 'app/main.ts', 'deploy/selflessacts.service']) {
      assert.deepEqual(
        await readFile(root.path(`/opt/selflessacts/${file}`)),
        await readFile(path.join(repoRoot, file)),
        file,
      );
    }
    assert.equal(await inside(['stat', '-c', '%U %a', '/opt/selflessacts/package.json']), 'root 644');
    assert.ok(!existsSync(root.path('/opt/selflessacts/node_modules/typescript')), 'dev dependencies were installed');
    const probe = await inside([
      'node',
      '--input-type=module',
      '-e',
      [
        "import { DatabaseSync } from 'node:sqlite';",
        "const { Kysely } = await import('/opt/selflessacts/node_modules/kysely/dist/index.js');",
        "console.log(process.versions.node.split('.')[0], typeof Kysely, new DatabaseSync(':memory:').prepare('select 6 * 7 as x').get().x);",
      ].join(' '),
    ]);
    assert.equal(probe, '24 function 42', 'Node 24, the production dependencies, and its built-in SQLite');
    assert.equal(
      await readFile(root.path('/etc/selflessacts/orchestrator.json'), 'utf8'),
      await readFile(path.join(repoRoot, 'config/orchestrator.json'), 'utf8'),
    );
    // The unit: installed and enabled for boot.
    assert.equal(
      await readFile(root.path('/etc/systemd/system/selflessacts.service'), 'utf8'),
      await readFile(path.join(repoRoot, 'deploy/selflessacts.service'), 'utf8'),
    );
    assert.equal(await inside(['systemctl', 'is-enabled', 'selflessacts.service']), 'enabled');
    // MariaDB's effective options (the last bind-address wins): it will listen for containers.
    const binds = (await inside(['my_print_defaults', '--mysqld']))
      .split('\n')
      .filter((l) => l.startsWith('--bind-address='));
    assert.equal(binds.at(-1), '--bind-address=0.0.0.0', binds.join(' '));
    // Its temporary files (the env file's draft among them) are gone.
    assert.deepEqual(
      (await readdir(root.path('/tmp'))).filter((f) => f.startsWith('tmp.')),
      [],
    );
  });

  test('the installed unit passes systemd-analyze verify where its user and paths exist', async () => {
    const r = await root.exec(['systemd-analyze', 'verify', '/etc/systemd/system/selflessacts.service']);
    assert.equal(r.code, 0, r.output);
    assert.equal(r.stderr.trim(), '', r.stderr);
  });

  test('once MariaDB runs, the next run creates the database and user, and only that', async () => {
    [dbPort] = await freePorts(1);
    await root.startMariadb(dbPort!);
    const result = await setup(['--no-start']);
    assert.equal(result.code, 0, result.output);
    const changes = changeLines(result.stdout);
    assert.equal(changes.length, 1, changes.join('\n'));
    assert.match(
      changes[0]!,
      /create database selflessacts and user selflessacts@\{localhost 127\.0\.0\.1 172\.16\.0\.0\/255\.240\.0\.0 192\.168\.0\.0\/255\.255\.0\.0\}/,
    );
    assert.match(result.stdout, /IDENTIFIED BY '\*\*\*'/);

    const env = envFile(await readFile(root.path('/etc/selflessacts/selflessacts.env'), 'utf8'));
    const password = /:([A-Za-z0-9]+)@/.exec(env.DATABASE_URL!)![1]!;
    assert.ok(!result.output.includes(password), 'the password appears in the output');
    const login = await root.exec(
      [
        'mariadb',
        '--protocol=socket',
        '-u',
        'selflessacts',
        '-D',
        'selflessacts',
        '-N',
        '-B',
        '-e',
        'SELECT CURRENT_USER(), DATABASE()',
      ],
      { MYSQL_PWD: password },
    );
    assert.equal(login.code, 0, login.output);
    assert.equal(login.stdout.trim(), 'selflessacts@localhost\tselflessacts');
    const hosts = await root.exec([
      'mariadb',
      '--protocol=socket',
      '-N',
      '-B',
      '-e',
      "SELECT Host FROM mysql.user WHERE User='selflessacts' ORDER BY Host",
    ]);
    assert.equal(
      hosts.stdout.trim().split('\n').join(' '),
      '127.0.0.1 172.16.0.0/255.240.0.0 192.168.0.0/255.255.0.0 localhost',
    );
  });

  test('a second run changes nothing and succeeds', async () => {
    const before = await root.snapshot(WATCHED);
    const envBefore = await readFile(root.path('/etc/selflessacts/selflessacts.env'), 'utf8');
    const result = await setup(['--no-start']);
    assert.equal(result.code, 0, result.output);
    assert.deepEqual(changeLines(result.stdout), []);
    assert.match(result.stdout, /Nothing to change: SelfLessActs is installed\./);
    assert.match(
      result.stdout,
      /database selflessacts, user selflessacts \(the password in \/etc\/selflessacts\/selflessacts\.env works\)/,
    );
    assert.equal(await readFile(root.path('/etc/selflessacts/selflessacts.env'), 'utf8'), envBefore);
    assert.equal(await root.snapshot(WATCHED), before, 'files changed on a run that reported no change');
  });

  test('the installed app runs as the unit runs it, answers through the balancer, and stops on SIGTERM', async (t) => {
    // The unit's own user, capabilities, directory, environment and command line; no systemd
    // runs here, so setpriv applies what it can of the unit (user, groups, no_new_privs, the
    // capability sets), and the runtime is "process" (no Docker in the chroot). The listen port
    // is below 1024, as port 80 is in production: only the ambient capability allows that.
    const unit = parseUnit(await readFile(root.path('/etc/systemd/system/selflessacts.service'), 'utf8'));
    const [admin, usersPort, actsPort] = await freePorts(3);
    const listen = await freePrivilegedPort();
    const unprivilegedFrom = Number(await readFile('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8'));
    if (unprivilegedFrom <= listen)
      t.diagnostic(`ports from ${unprivilegedFrom} need no capability here: the capability part proves nothing`);
    const config = JSON.parse(await readFile(root.path('/etc/selflessacts/orchestrator.json'), 'utf8')) as {
      services: Record<string, { startPort: number; replicas: { initial: number; min: number; max: number } }>;
    };
    config.services.users!.startPort = usersPort!;
    config.services.acts!.startPort = actsPort!;
    for (const s of Object.values(config.services)) s.replicas = { initial: 1, min: 1, max: 1 };
    await writeFile(root.path('/etc/selflessacts/test-ports.json'), JSON.stringify(config), { mode: 0o640 });
    assert.equal((await root.exec(['chown', 'root:selflessacts', '/etc/selflessacts/test-ports.json'])).code, 0);

    const fileEnv = envFile(await readFile(root.path(unit.get('Service.EnvironmentFile')![0]!), 'utf8'));
    const password = /:([A-Za-z0-9]+)@/.exec(fileEnv.DATABASE_URL!)![1]!;
    const user = unit.get('Service.User')![0]!;
    const group = unit.get('Service.Group')![0]!;
    const home = (await root.exec(['getent', 'passwd', user])).stdout.split(':')[5]!;
    const env = {
      HOME: home, // as systemd sets it for User=
      ...parseEnvLines(unit.get('Service.Environment')!),
      ...fileEnv,
      // The env file's URL with the port of the chroot's MariaDB (containers would get host.docker.internal).
      DATABASE_URL: `mysql://selflessacts:${password}@127.0.0.1:${dbPort}/selflessacts`,
      LISTEN_HOST: '127.0.0.1',
      LISTEN_PORT: String(listen),
      ADMIN_PORT: String(admin),
      RUNTIME: 'process',
    };
    const execStart = unit.get('Service.ExecStart')![0]!.split(' ');
    execStart[execStart.indexOf('--config') + 1] = '/etc/selflessacts/test-ports.json';
    const caps = (key: string) =>
      unit
        .get(`Service.${key}`)![0]!
        .split(' ')
        .map((c) => `+${c.replace(/^CAP_/, '').toLowerCase()}`)
        .join(',');
    assert.deepEqual(unit.get('Service.NoNewPrivileges'), ['yes']);
    const setpriv = [
      'setpriv',
      `--reuid=${user}`,
      `--regid=${group}`,
      '--init-groups',
      '--no-new-privs',
      `--inh-caps=${caps('AmbientCapabilities')}`,
      `--ambient-caps=${caps('AmbientCapabilities')}`,
      `--bounding-set=-all,${caps('CapabilityBoundingSet')}`,
    ];
    const child = root.spawn([...setpriv, ...execStart], env, unit.get('Service.WorkingDirectory')![0]!);
    let log = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (log += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (log += d));
    t.after(() => stopChild(child, 5_000));

    const base = `http://127.0.0.1:${listen}`;
    type Status = { runtime: string; services: Record<string, { replicas: Array<{ state: string }> }> };
    const readyStates = async () => {
      const status = (await fetch(`http://127.0.0.1:${admin}/status`).then(
        (r) => r.json(),
        () => undefined,
      )) as Status | undefined;
      return (
        status &&
        ['users', 'acts'].map((name) => status.services[name]?.replicas.map((r) => r.state).join(',')).join(' ')
      );
    };
    const deadline = Date.now() + 60_000;
    let states: string | undefined;
    while (Date.now() < deadline && child.exitCode === null && (states = await readyStates()) !== 'ready ready') {
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.equal(states, 'ready ready', `replicas not ready (users acts):\n${log}`);
    assert.equal((await fetch(`${base}/api/v1/_health`)).status, 200, log);
    // The balancer learns of ready replicas by message, a moment after the fleet does.
    let listed = 503;
    for (let i = 0; i < 40 && listed === 503; i++) {
      listed = (await fetch(`${base}/api/v1/users`)).status;
      if (listed === 503) await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(listed, 204, 'GET /api/v1/users before any user');
    const created = await fetch(`${base}/api/v1/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'deploy-smoke', password: 'a'.repeat(40) }),
    });
    assert.equal(created.status, 201, await created.text());
    assert.deepEqual(await (await fetch(`${base}/api/v1/users`)).json(), ['deploy-smoke']);
    const page = await fetch(`${base}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.equal((await fetch(`${base}/api/v1/_crash`, { method: 'POST' })).status, 403);
    assert.equal(((await (await fetch(`http://127.0.0.1:${admin}/status`)).json()) as Status).runtime, 'process');

    // Everything the service writes is in its state directory, and owned by it.
    const state = JSON.parse(await readFile(root.path('/var/lib/selflessacts/process-replicas-main.json'), 'utf8')) as {
      replicas: Array<{ pid: number }>;
    };
    assert.equal(state.replicas.length, 2);
    assert.equal((await root.exec(['find', '/var/lib/selflessacts', '!', '-user', 'selflessacts'])).stdout.trim(), '');

    // systemd's stop: SIGTERM to the supervisor alone (KillMode=mixed); it drains and removes
    // its replicas and exits 0 well within TimeoutStopSec.
    const started = Date.now();
    const stopped = await stopChild(child, Number(unit.get('Service.TimeoutStopSec')![0]) * 1000);
    assert.deepEqual(stopped, { code: 0, signal: null }, log);
    assert.ok(Date.now() - started < 20_000, `stopping took ${Date.now() - started} ms`);
    for (const { pid } of state.replicas) {
      assert.throws(() => process.kill(pid, 0), /ESRCH/, `replica pid ${pid} outlived the supervisor`);
    }
    assert.match(log, /^(?=.*"msg":"stopped")(?=.*"signal":"SIGTERM").*$/m);
  });

  test('an upgrade (changed checkout) replaces the app files and keeps dependencies and settings', async () => {
    const marker = `<!-- upgrade ${Date.now()} -->\n`;
    await appendFile(root.path(`${SOURCE}/public/index.html`), marker);
    await writeFile(
      root.path('/etc/selflessacts/orchestrator.json'),
      (await readFile(root.path('/etc/selflessacts/orchestrator.json'), 'utf8')).replace('"max": 10', '"max": 4'),
    );
    const modulesBefore = (await stat(root.path('/opt/selflessacts/node_modules/.selflessacts-deps'))).mtimeMs;
    const result = await setup(['--no-start']);
    assert.equal(result.code, 0, result.output);
    const changes = changeLines(result.stdout);
    assert.equal(changes.length, 1, changes.join('\n'));
    assert.match(changes[0]!, /copy \d+ files from \/root\/selflessacts/);
    assert.match(result.stdout, /ok {6}production dependencies match package-lock\.json/);
    assert.match(result.stdout, /it differs from the shipped \/opt\/selflessacts\/config\/orchestrator\.json/);
    assert.ok((await readFile(root.path('/opt/selflessacts/public/index.html'), 'utf8')).endsWith(marker));
    assert.equal((await stat(root.path('/opt/selflessacts/node_modules/.selflessacts-deps'))).mtimeMs, modulesBefore);
    assert.match(
      await readFile(root.path('/etc/selflessacts/orchestrator.json'), 'utf8'),
      /"max": 4/,
      "the admin's config was overwritten",
    );
    assert.ok(!existsSync(root.path('/opt/selflessacts.old')) && !existsSync(root.path('/opt/selflessacts.new')));
  });

  test("--domain --no-start: certbot, the webroot, the deploy hook and the env file; a certificate makes HTTPS the next run's setting", async () => {
    const result = await setup(['--no-start', '--domain', 'acts.example.org', '--email', 'admin@example.org']);
    assert.equal(result.code, 0, result.output);
    assert.match(result.stdout, /change {2}install certbot/);
    assert.match(result.stdout, /the certificate is obtained by a later run, once the service answers on port 80/);
    const inside = async (argv: string[], env: Record<string, string> = {}) => {
      const r = await root.exec(argv, env);
      assert.equal(r.code, 0, r.output);
      return r.stdout.trim();
    };
    assert.equal(await inside(['dpkg-query', '-W', '-f=${db:Status-Status}', 'certbot']), 'installed');
    assert.equal(await inside(['stat', '-c', '%a %U %G', '/var/lib/selflessacts/acme']), '755 root root');
    const hook = '/etc/letsencrypt/renewal-hooks/deploy/selflessacts';
    assert.equal(await inside(['stat', '-c', '%a %U %G', hook]), '755 root root');
    const hookText = await readFile(root.path(hook), 'utf8');
    assert.match(hookText, /RENEWED_LINEAGE:-\}" = \/etc\/letsencrypt\/live\/acts\.example\.org \]/);
    assert.match(hookText, /systemctl reload selflessacts\.service/);
    await inside(['sh', '-n', hook]);
    let env = envFile(await readFile(root.path('/etc/selflessacts/selflessacts.env'), 'utf8'));
    assert.equal(env.DOMAIN, 'acts.example.org');
    assert.equal(env.ACME_WEBROOT, '/var/lib/selflessacts/acme');
    assert.equal(env.LISTEN_PORT, '80', 'plain HTTP until there is a certificate');
    assert.equal(env.TLS_CERT_FILE, undefined);

    // What certbot leaves after obtaining one; the hook copies it for the service.
    const live = '/etc/letsencrypt/live/acts.example.org';
    await inside(['mkdir', '-p', live]);
    await inside([
      'openssl',
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      `${live}/privkey.pem`,
      '-out',
      `${live}/fullchain.pem`,
      '-days',
      '2',
      '-subj',
      '/CN=acts.example.org',
    ]);
    await inside([hook], { RENEWED_LINEAGE: live });
    for (const file of ['fullchain.pem', 'privkey.pem']) {
      assert.equal(
        await inside(['stat', '-c', '%a %U %G', `/etc/selflessacts/tls/${file}`]),
        '640 root selflessacts',
        file,
      );
      assert.deepEqual(
        await readFile(root.path(`/etc/selflessacts/tls/${file}`)),
        await readFile(root.path(`${live}/${file}`)),
        file,
      );
    }
    await inside([hook], { RENEWED_LINEAGE: '/etc/letsencrypt/live/other.example.org' }); // another certificate's renewal: nothing

    const again = await setup(['--no-start']);
    assert.equal(again.code, 0, again.output);
    env = envFile(await readFile(root.path('/etc/selflessacts/selflessacts.env'), 'utf8'));
    assert.deepEqual(
      ['DOMAIN', 'LISTEN_PORT', 'TLS_CERT_FILE', 'TLS_KEY_FILE', 'TLS_REDIRECT_PORT', 'ACME_WEBROOT'].map(
        (k) => env[k],
      ),
      [
        'acts.example.org',
        '443',
        '/etc/selflessacts/tls/fullchain.pem',
        '/etc/selflessacts/tls/privkey.pem',
        '80',
        '/var/lib/selflessacts/acme',
      ],
      'the domain is remembered; HTTPS is on',
    );
    // The supervisor's own check of the pair, run as the service user with that env file: it can
    // read the copy. Plain node (Node's own type stripping): production installs have no tsx.
    await writeFile(
      root.path('/tmp/check-tls.mts'),
      [
        "import { loadConfigFile } from '/opt/selflessacts/supervisor/config/config.ts';",
        "import { readCertificate } from '/opt/selflessacts/supervisor/config/tls-files.ts';",
        "console.log(readCertificate(loadConfigFile('/etc/selflessacts/orchestrator.json').balancer.tls).subject);",
      ].join('\n'),
      { mode: 0o644 },
    );
    const check = await root.exec(
      ['bash', '-c', 'cd /opt/selflessacts && exec runuser -u selflessacts -- node /tmp/check-tls.mts'],
      { ...nodeEnv, ...env },
    );
    assert.equal(check.code, 0, check.output);
    assert.match(check.stdout, /CN=acts\.example\.org/);
  });
});
