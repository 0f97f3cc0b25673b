// Shared by the engine suites: the engine requirement, unique names, the test label, and
// cleanup by that label (so leftovers of a crashed run are found too).
import { randomBytes } from 'node:crypto';
import { after, before } from 'node:test';
import { DockerEngine, isNotFound, type EngineOptions, type Labels } from '../../engine-client/index.ts';
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

export interface EngineSuite {
  engine: DockerEngine;
  /** The base image's reference, set before the suite's first test. */
  image: string;
}

/**
 * Call inside a describe(): a client, the base image before the tests, and after them every
 * labelled object removed and the client closed, even when a test fails.
 */
export function engineSuite(options: EngineOptions = {}): EngineSuite {
  const suite: EngineSuite = { engine: new DockerEngine(options), image: '' };
  before(async () => {
    suite.image = await baseImage(suite.engine);
  });
  after(async () => {
    await removeTestObjects(suite.engine);
    await suite.engine.close();
  });
  return suite;
}

/** Removes every container, network and image carrying the engine suite's label. */
export async function removeTestObjects(engine: DockerEngine): Promise<void> {
  const labels = TEST_LABELS;
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

/** A tiny HTTP server for containers of the base image. */
export function httpServerScript(port: number, reply: string): string[] {
  return [
    'node',
    '-e',
    `require('http').createServer((q, s) => s.end(${JSON.stringify(reply)} + ' ' + q.url)).listen(${port}, () => console.log('listening'))`,
  ];
}
