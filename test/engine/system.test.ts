import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, describe, test } from 'node:test';
import { DockerEngine, isEngineError } from '../../engine-client/index.ts';
import { dockerSocketPath } from '../helpers/requirements.ts';
import { skipEngine } from './support.ts';

/** The engine's Api-Version header, read without engine-client. */
function rawPingVersion(): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: dockerSocketPath(), path: '/_ping' }, (res) => {
      res.resume();
      resolve(res.headers['api-version'] as string | undefined);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('engine-client system and version negotiation (real dockerd)', { skip: skipEngine }, () => {
  const engine = new DockerEngine();
  after(() => engine.close());

  test('ping answers and the API version is the one the engine announces', async () => {
    const announced = await rawPingVersion();
    assert.ok(announced, 'the engine sends Api-Version');
    const ping = await engine.system.ping();
    assert.equal(ping.apiVersion, announced);
    assert.equal(ping.osType, 'linux');
    assert.equal(await engine.apiVersion(), announced);
    const version = await engine.system.version();
    assert.equal(version.apiVersion, announced);
    assert.match(version.version, /^\d+\.\d+/);
    assert.equal(version.os, 'linux');
    assert.ok(version.minApiVersion <= announced);
  });

  test('calls go to /v<version>/: an override the engine does not speak is refused by it', async () => {
    const tooNew = new DockerEngine({ apiVersion: '9.99' });
    try {
      const error = await tooNew.containers.list().then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(isEngineError(error), `expected EngineError, got ${String(error)}`);
      assert.equal(error.code, 'BAD_REQUEST');
      assert.match(error.message, /9\.99 is too new/);
      // Unversioned calls still work.
      assert.ok((await tooNew.system.ping()).apiVersion);
    } finally {
      await tooNew.close();
    }
    const older = new DockerEngine({ apiVersion: '1.40' });
    try {
      assert.equal(await older.apiVersion(), '1.40');
      assert.ok(Array.isArray(await older.containers.list({ all: true })));
    } finally {
      await older.close();
    }
  });
});
