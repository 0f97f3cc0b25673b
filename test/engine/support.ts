// Shared by the engine suites: the engine requirement, unique names, the test label, cleanup
// by that label (so leftovers of a crashed run are found too), and bounded polling.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { DockerEngine, isNotFound, type Labels } from '../../engine-client/index.ts';
import { ensureBaseImage } from '../../scripts/images.ts';
import { dockerAvailable, skipUnless } from '../helpers/requirements.ts';

export const TEST_LABEL = 'selflessacts.test';
export const TEST_LABELS: Labels = { [TEST_LABEL]: 'engine' };

/** The `skip` option for every engine suite: a message locally, a failure under CI=true. */
export const skipEngine = skipUnless(await dockerAvailable(), 'Docker Engine');

export function uniqueName(what: string): string {
  return `sa-engine-${what}-${randomBytes(4).toString('hex')}`;
}

let baseRef: Promise<string> | undefined;
/** The base image (built once, reused across files and runs). */
export function baseImage(engine: DockerEngine): Promise<string> {
  baseRef ??= ensureBaseImage({ engine }).then((report) => report.ref);
  return baseRef;
}

/** Removes every container, network and image carrying the engine suite's label. */
export async function removeTestObjects(engine: DockerEngine): Promise<void> {
  const labels = { [TEST_LABEL]: 'engine' };
  for (const c of await engine.containers.list({ all: true, labels })) {
    await engine.containers.remove(c.id, { force: true, volumes: true }).catch(ignoreNotFound);
  }
  for (const n of await engine.networks.list({ labels })) {
    await engine.networks.remove(n.id).catch(ignoreNotFound);
  }
  for (const image of await engine.images.list({ labels })) {
    await engine.images.remove(image.id, { force: true }).catch(ignoreNotFound);
  }
}

function ignoreNotFound(error: unknown): void {
  if (!isNotFound(error)) throw error;
}

/** A port free on 127.0.0.1 right now (the engine binds it a moment later). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Polls until `probe` returns a value, at most `timeoutMs`. */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 10_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

/** A tiny HTTP server for containers of the base image. */
export function httpServerScript(port: number, reply: string): string[] {
  return [
    'node',
    '-e',
    `require('http').createServer((q, s) => s.end(${JSON.stringify(reply)} + ' ' + q.url)).listen(${port}, () => console.log('listening'))`,
  ];
}
