import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConflictError, isNotFound } from '../../engine-client/index.ts';
import { eventually } from '../../testkit/eventually.ts';
import { TEST_LABEL, TEST_LABELS, engineSuite, httpServerScript, skipEngine, uniqueName } from './support.ts';

describe('engine-client networks (real dockerd)', { skip: skipEngine }, () => {
  const suite = engineSuite();
  const { engine } = suite;

  test('replicas on a user-defined bridge reach each other by container name', async () => {
    const network = uniqueName('net');
    const { id: networkId } = await engine.networks.create({ name: network, labels: TEST_LABELS });
    assert.match(networkId, /^[0-9a-f]{64}$/);
    await assert.rejects(engine.networks.create({ name: network, labels: TEST_LABELS }), ConflictError);

    const server = uniqueName('server');
    const srv = await engine.containers.create({
      name: server,
      image: suite.image,
      cmd: httpServerScript(8080, 'served by name'),
      labels: TEST_LABELS,
      networkMode: network,
      networkAliases: ['users-service'],
      init: true,
    });
    await engine.containers.start(srv.id);

    const fetchScript = (host: string) =>
      `fetch('http://${host}:8080/x').then(r => r.text()).then(t => console.log(t)).catch(e => { console.error(String(e.cause ?? e)); process.exit(1); })`;
    const answer = async (host: string) =>
      eventually(async () => {
        const client = await engine.containers.create({
          image: suite.image,
          cmd: ['node', '-e', fetchScript(host)],
          labels: TEST_LABELS,
          networkMode: network,
        });
        await engine.containers.start(client.id);
        const { statusCode } = await engine.containers.wait(client.id);
        const { stdout } = await engine.containers.logsText(client.id);
        await engine.containers.remove(client.id);
        return statusCode === 0 ? stdout.trim() : undefined;
      }, `a container reaching ${host}`);
    assert.equal(await answer(server), 'served by name /x');
    assert.equal(await answer('users-service'), 'served by name /x');

    const info = await engine.networks.inspect(network);
    assert.equal(info.id, networkId);
    assert.equal(info.driver, 'bridge');
    assert.equal(info.labels[TEST_LABEL], 'engine');
    assert.equal(info.containers[srv.id]?.name, server);
    const listed = await engine.networks.list({ labels: { [TEST_LABEL]: 'engine' }, name: network });
    assert.deepEqual(
      listed.map((n) => n.id),
      [networkId],
    );

    // connect / disconnect a second network
    const second = uniqueName('net2');
    await engine.networks.create({ name: second, labels: TEST_LABELS, internal: true });
    await engine.networks.connect(second, srv.id, { aliases: ['alt'] });
    assert.ok((await engine.containers.inspect(srv.id)).networks[second]?.aliases.includes('alt'));
    await engine.networks.disconnect(second, srv.id);
    assert.equal((await engine.containers.inspect(srv.id)).networks[second], undefined);
    await engine.networks.remove(second);

    await engine.containers.remove(srv.id, { force: true });
    await engine.networks.remove(network);
    await assert.rejects(engine.networks.inspect(network), (e: unknown) => isNotFound(e));
    await assert.rejects(engine.networks.remove(network), (e: unknown) => isNotFound(e));
  });
});
