import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createConnection, createServer, type Socket } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DockerEngine, type LogChunk } from '../../engine-client/index.ts';
import { eventually } from '../../testkit/eventually.ts';
import { dockerSocketPath } from '../helpers/requirements.ts';
import { TEST_LABELS, engineSuite, skipEngine } from './support.ts';

interface SocketRelay {
  path: string;
  /** Waits until `n` connections whose requests contained `marker` have closed. */
  waitClosed(marker: string, n: number): Promise<void>;
  close(): Promise<void>;
}

/** A unix socket that relays every connection to `target`, remembering what each carried. */
async function socketRelay(target: string): Promise<SocketRelay> {
  const dir = await mkdtemp(path.join(tmpdir(), 'sa-engine-relay-'));
  const connections: { sent: string; closed: boolean; sockets: Socket[] }[] = [];
  const server = createServer((client) => {
    const upstream = createConnection(target);
    const record = { sent: '', closed: false, sockets: [client, upstream] };
    connections.push(record);
    client.on('data', (chunk: Buffer) => {
      record.sent += chunk.toString('latin1', 0, Math.min(chunk.length, 2048));
    });
    client.pipe(upstream).pipe(client);
    const end = () => {
      record.closed = true;
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  const socketPath = path.join(dir, 'docker.sock');
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    path: socketPath,
    waitClosed: (marker, n) =>
      eventually(
        async () => {
          const closed = connections.filter((c) => c.sent.includes(marker) && c.closed).length;
          return closed >= n ? true : undefined;
        },
        `${n} closed connection(s) that carried ${marker}`,
        5000,
        20,
      ).then(() => undefined),
    close: async () => {
      for (const c of connections) for (const s of c.sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

// Writes alternate between the two streams with a pause between them, so the engine records
// them in this order and the frames must come back in it, each on its own stream.
const INTERLEAVED = `
const lines = ['out 1', 'err 1', 'out 2 é€😀', 'err 2', 'out 3'];
let i = 0;
const next = () => {
  if (i === lines.length) return;
  const line = lines[i++];
  (line.startsWith('out') ? process.stdout : process.stderr).write(line + '\\n', () => setTimeout(next, 30));
};
next();`;

describe('engine-client logs (real dockerd)', { skip: skipEngine }, () => {
  const suite = engineSuite();
  const { engine } = suite;

  async function runToEnd(cmd: string[], tty = false): Promise<string> {
    const { id } = await engine.containers.create({ image: suite.image, cmd, tty, labels: TEST_LABELS });
    await engine.containers.start(id);
    await engine.containers.wait(id);
    return id;
  }

  test('stdout and stderr interleaved are demultiplexed, in order, on the right stream', async () => {
    const id = await runToEnd(['node', '-e', INTERLEAVED]);
    const chunks: LogChunk[] = [];
    for await (const chunk of engine.containers.logs(id)) chunks.push(chunk);
    const lines = chunks.flatMap((c) =>
      c.data
        .toString('utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => `${c.stream}: ${line}`),
    );
    assert.deepEqual(lines, ['stdout: out 1', 'stderr: err 1', 'stdout: out 2 é€😀', 'stderr: err 2', 'stdout: out 3']);
    assert.deepEqual(await engine.containers.logsText(id), {
      stdout: 'out 1\nout 2 é€😀\nout 3\n',
      stderr: 'err 1\nerr 2\n',
    });
    const onlyErr = await engine.containers.logsText(id, { stdout: false });
    assert.equal(onlyErr.stdout, '');
    assert.equal(onlyErr.stderr, 'err 1\nerr 2\n');
    const tail = await engine.containers.logsText(id, { tail: 1 });
    assert.equal(tail.stdout, 'out 3\n');
  });

  test('a TTY container gives one raw stream, not frames', async () => {
    const id = await runToEnd(['node', '-e', INTERLEAVED], true);
    const chunks: LogChunk[] = [];
    for await (const chunk of engine.containers.logs(id)) chunks.push(chunk);
    assert.ok(chunks.length > 0);
    assert.ok(chunks.every((c) => c.stream === 'tty'));
    const text = Buffer.concat(chunks.map((c) => c.data)).toString('utf8');
    // A terminal turns \n into \r\n; both streams share it.
    assert.equal(text, 'out 1\r\nerr 1\r\nout 2 é€😀\r\nerr 2\r\nout 3\r\n');
  });

  test('follow yields output while the container runs and ends when it stops', async () => {
    const script =
      "let n = 0; const t = setInterval(() => { console.log('tick ' + ++n); if (n === 5) clearInterval(t); }, 150);";
    const { id } = await engine.containers.create({
      image: suite.image,
      cmd: ['node', '-e', script],
      labels: TEST_LABELS,
    });
    await engine.containers.start(id);
    const seen: string[] = [];
    const started = Date.now();
    for await (const chunk of engine.containers.logs(id, { follow: true })) {
      seen.push(...chunk.data.toString().split('\n').filter(Boolean));
    }
    assert.deepEqual(seen, ['tick 1', 'tick 2', 'tick 3', 'tick 4', 'tick 5']);
    assert.ok(Date.now() - started >= 400, 'the stream lasted while the container ran');
  });

  test('an aborted follow ends quietly and breaking out of the loop closes the stream', async (t) => {
    // The client talks to dockerd through a counting unix-socket relay, so the test sees the
    // connection that carries each logs stream close (a follow left open would keep it forever).
    const relay = await socketRelay(dockerSocketPath());
    const watched = new DockerEngine({ socketPath: relay.path });
    t.after(async () => {
      await watched.close();
      await relay.close();
    });
    const { id } = await engine.containers.create({
      image: suite.image,
      cmd: ['node', '-e', "setInterval(() => console.log('still here'), 100)"],
      labels: TEST_LABELS,
      init: true,
    });
    await engine.containers.start(id);
    const controller = new AbortController();
    let count = 0;
    for await (const chunk of watched.containers.logs(id, { follow: true, signal: controller.signal })) {
      assert.equal(chunk.stream, 'stdout');
      if (++count === 2) controller.abort();
    }
    assert.ok(count >= 2);
    await relay.waitClosed('/logs?', 1);
    for await (const chunk of watched.containers.logs(id, { follow: true })) {
      assert.match(chunk.data.toString(), /still here/);
      break;
    }
    await relay.waitClosed('/logs?', 2);
    await engine.containers.remove(id, { force: true });
  });
});
