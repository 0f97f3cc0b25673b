// Tests that need a real component (dockerd, MariaDB, Chromium) ask for it here. Locally a
// missing component skips the suite with a message saying what to start; under CI=true it is
// a failure, because CI always provides them and a silent skip would hide a broken install.
import { appendFileSync } from 'node:fs';
import { access, constants } from 'node:fs/promises';
import path from 'node:path';
import { createConnection } from 'node:net';
import { TEST_ENGINE, dockerSocketPath, pingSocket } from '../../testkit/engine.ts';

export { dockerSocketPath };

export const inCI = process.env.CI === 'true';

export interface Requirement {
  /** undefined when the component is there; otherwise why it is not, for the skip message. */
  missing: string | undefined;
}

/**
 * Turns a requirement into the `skip` option of node:test's `describe`/`test`.
 * Under CI a missing component throws instead, failing the suite loudly.
 */
export function skipUnless(req: Requirement, component: string): string | false {
  if (req.missing === undefined) return false;
  const message = `${component} not available: ${req.missing}`;
  if (inCI) throw new Error(`${message} (CI=true: CI must provide ${component})`);
  reportSkip(message);
  return `${message}; start it with: sudo bash scripts/dev-services.sh`;
}

/**
 * A skipped suite reports no tests, which reads as green: scripts/test.sh names every skip
 * again after the run, from the file it passes here (one line per skip: test file, reason).
 */
function reportSkip(message: string): void {
  const report = process.env.SELFLESSACTS_SKIP_REPORT;
  if (report === undefined || report === '') return;
  const file = process.argv[1] === undefined ? 'a test file' : path.relative(process.cwd(), process.argv[1]);
  try {
    appendFileSync(report, `${file}: ${message}\n`);
  } catch {
    // The report is a courtesy; the skip message itself is in the test output.
  }
}

/** Docker itself, for the suites that need it whatever TEST_RUNTIME says (systemd in a container). */
export async function dockerAvailable(): Promise<Requirement> {
  return { missing: await pingSocket(dockerSocketPath()) };
}

/** The engine the suites use (Docker, or Podman with TEST_RUNTIME=podman: testkit/engine.ts). */
export async function engineAvailable(): Promise<Requirement> {
  return { missing: await TEST_ENGINE.missing() };
}

/** The `skip` option of a suite that needs the test engine. */
export async function skipUnlessEngine(): Promise<string | false> {
  return skipUnless(await engineAvailable(), TEST_ENGINE.title);
}

/** MariaDB for the storage tests: MYSQL_TEST_URL, or the user scripts/dev-services.sh creates. */
export const mysqlTestUrl = process.env.MYSQL_TEST_URL ?? 'mysql://selfless:selfless@127.0.0.1:3306';

export async function mysqlAvailable(): Promise<Requirement> {
  const url = new URL(mysqlTestUrl);
  const port = Number(url.port || 3306);
  return new Promise((resolve) => {
    const socket = createConnection({ host: url.hostname, port });
    const done = (missing: string | undefined) => {
      socket.destroy();
      resolve({ missing });
    };
    socket.setTimeout(2000, () => done(`connecting to ${url.hostname}:${port} timed out`));
    socket.once('data', () => done(undefined)); // the server speaks first: its handshake
    socket.once('error', (err) => done(`no server at ${url.hostname}:${port} (${err.message})`));
  });
}

export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function chromiumAvailable(): Promise<Requirement> {
  try {
    await access(chromiumPath, constants.X_OK);
    return { missing: undefined };
  } catch {
    return { missing: `no executable at ${chromiumPath}` };
  }
}
