import assert from 'node:assert/strict';
import { MessageChannel } from 'node:worker_threads';
import { describe, test } from 'node:test';
import {
  ConflictError,
  EngineError,
  NotFoundError,
  codeForStatus,
  engineErrorCode,
  fromWire,
  isConflict,
  isNotFound,
  toWire,
  type EngineErrorCode,
} from '../../engine-client/index.ts';
import { errorForStatus } from '../../engine-client/errors.ts';

function postThrough<T>(value: unknown): Promise<T> {
  const { port1, port2 } = new MessageChannel();
  return new Promise((resolve) => {
    port2.once('message', (message) => {
      port1.close();
      port2.close();
      resolve(message as T);
    });
    port1.postMessage(value);
  });
}

describe('engine errors', () => {
  const statuses: Array<[number, EngineErrorCode]> = [
    [304, 'NOT_MODIFIED'],
    [400, 'BAD_REQUEST'],
    [403, 'FORBIDDEN'],
    [404, 'NOT_FOUND'],
    [409, 'CONFLICT'],
    [418, 'UNEXPECTED_STATUS'],
    [500, 'SERVER_ERROR'],
    [503, 'SERVER_ERROR'],
  ];
  for (const [status, code] of statuses) {
    test(`HTTP ${status} → ${code}`, () => assert.equal(codeForStatus(status), code));
  }

  test('404 and 409 become NotFoundError and ConflictError with the engine message, method and path', () => {
    const notFound = errorForStatus(404, 'DELETE', '/containers/x', 'No such container: x');
    assert.ok(notFound instanceof NotFoundError && notFound instanceof EngineError);
    assert.equal(notFound.name, 'NotFoundError');
    assert.equal(notFound.message, 'No such container: x (DELETE /containers/x → 404)');
    assert.deepEqual(
      [notFound.code, notFound.status, notFound.method, notFound.path, notFound.engineMessage],
      ['NOT_FOUND', 404, 'DELETE', '/containers/x', 'No such container: x'],
    );
    assert.ok(errorForStatus(409, 'POST', '/containers/create', 'name in use') instanceof ConflictError);
    assert.equal(errorForStatus(500, 'GET', '/x', undefined).message, 'HTTP 500 (GET /x → 500)');
  });

  test("Podman's 500 for a container name in use is a CONFLICT like Docker's 409; other 500s stay", () => {
    const podman =
      'container create: creating container storage: the container name "echo-39810" is already in use by 6cc25e9d58c4. You have to remove that container to be able to reuse that name: that name is already in use';
    const conflict = errorForStatus(500, 'POST', '/containers/create', podman);
    assert.ok(conflict instanceof ConflictError);
    assert.equal(conflict.status, 500);
    assert.equal(errorForStatus(500, 'POST', '/containers/create', 'disk full').code, 'SERVER_ERROR');
  });

  test('toWire → MessagePort → fromWire restores class, code and details', async () => {
    const original = errorForStatus(
      409,
      'POST',
      '/containers/create?name=a',
      'Conflict. The name "/a" is already in use',
    );
    const wire = await postThrough<ReturnType<typeof toWire>>(toWire(original));
    assert.equal(engineErrorCode(wire), 'CONFLICT', 'the wire form is branchable as it is');
    assert.ok(isConflict(wire));
    const rebuilt = fromWire(wire);
    assert.ok(rebuilt instanceof ConflictError);
    assert.deepEqual(rebuilt.toWire(), original.toWire());
    assert.equal(JSON.stringify(rebuilt), JSON.stringify(original.toWire()));

    const stream = new EngineError('STREAM_ERROR', 'step failed', { status: 200, engineMessage: 'step failed' });
    const back = fromWire(await postThrough(stream.toWire()));
    assert.equal(back.constructor, EngineError);
    assert.deepEqual([back.code, back.status, back.engineMessage], ['STREAM_ERROR', 200, 'step failed']);
  });

  test('helpers branch on code, not on class', () => {
    assert.ok(isNotFound({ code: 'NOT_FOUND', message: 'plain object' }));
    assert.ok(!isNotFound(new Error('x')));
    assert.ok(!isNotFound(Object.assign(new Error('fs'), { code: 'ENOENT' })));
    assert.equal(engineErrorCode(null), undefined);
    assert.equal(
      fromWire({ name: 'EngineError', code: 'WHAT' as EngineErrorCode, message: 'm' }).code,
      'UNEXPECTED_STATUS',
    );
  });
});
