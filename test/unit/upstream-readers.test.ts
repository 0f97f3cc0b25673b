// The replica side's two readers (supervisor/balancer/upstream-reader.ts), each behind a real
// UpstreamPool, against a raw TCP replica that answers exactly the bytes a case scripts: 1xx
// before the final response, a refused upgrade, HEAD, 204 and 304, bodies delimited by the
// connection's end, Content-Length with Transfer-Encoding, bad chunk sizes, trailers, a head
// over the limit, a reply cut short, data after a closing response, replies split into single
// bytes. Both readers must give the exchange the same events, and reuse a connection only when
// the reply allows it. And the choice at start: a binding that is gone or parses otherwise
// falls back to our parser, saying why; configured as "llhttp", it stops start-up instead.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { loadLlhttp } from '../../supervisor/balancer/llhttp.ts';
import { chooseReader, ownReader, type ReaderFactory } from '../../supervisor/balancer/upstream-reader.ts';
import { UpstreamPool, type UpstreamExchange, type UpstreamFailure } from '../../supervisor/balancer/upstream.ts';

/** A piece of the reply: bytes to write, a pause, or the end of the connection. */
type Step = string | { waitMs: number } | 'close';

interface Case {
  name: string;
  method?: string;
  reply: Step[];
  expect: Outcome;
  /** Whether the pool may send the next request on the same connection. */
  reused?: boolean;
}

interface Outcome {
  status?: number;
  headers?: string[];
  body?: string;
  ended?: boolean;
  failure?: UpstreamFailure;
}

const byteByByte = (text: string): Step[] => [...text];

const CASES: Case[] = [
  {
    name: '100 Continue, then the response',
    reply: ['HTTP/1.1 100 Continue\r\n\r\n', { waitMs: 20 }, 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'],
    expect: { status: 200, headers: ['Content-Length', '2'], body: 'ok', ended: true },
    reused: true,
  },
  {
    name: '103 Early Hints, then the response (the hints are not passed on)',
    reply: [
      'HTTP/1.1 103 Early Hints\r\nLink: </app.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
    ],
    expect: { status: 200, headers: ['Content-Length', '2'], body: 'ok', ended: true },
    reused: true,
  },
  {
    name: '101 Switching Protocols: an upgrade nobody offered is refused',
    reply: ['HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'],
    expect: { failure: 'reset' },
  },
  {
    name: 'HEAD: a Content-Length and no body',
    method: 'HEAD',
    reply: ['HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n'],
    expect: { status: 200, headers: ['Content-Length', '5'], body: '', ended: true },
    reused: true,
  },
  {
    name: '204: no body',
    reply: ['HTTP/1.1 204 No Content\r\n\r\n'],
    expect: { status: 204, headers: [], body: '', ended: true },
    reused: true,
  },
  {
    name: '304 with a Content-Length: still no body',
    reply: ['HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\nETag: "x"\r\n\r\n'],
    expect: { status: 304, headers: ['Content-Length', '10', 'ETag', '"x"'], body: '', ended: true },
    reused: true,
  },
  {
    name: 'a body delimited by the end of the connection',
    reply: ['HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nhel', { waitMs: 20 }, 'lo', 'close'],
    expect: { status: 200, headers: ['Content-Type', 'text/plain'], body: 'hello', ended: true },
    reused: false,
  },
  {
    name: 'HTTP/1.0 without a length, closed after',
    reply: ['HTTP/1.0 200 OK\r\n\r\nbye', 'close'],
    expect: { status: 200, headers: [], body: 'bye', ended: true },
    reused: false,
  },
  {
    name: 'Content-Length with Transfer-Encoding: refused, not guessed at',
    reply: ['HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n'],
    expect: { failure: 'reset' },
  },
  {
    name: 'two different Content-Lengths: refused',
    reply: ['HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd'],
    expect: { failure: 'reset' },
  },
  {
    name: 'a bad chunk size: the response is cut where it went wrong',
    reply: ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nzz\r\nmore\r\n0\r\n\r\n'],
    expect: { status: 200, headers: ['Transfer-Encoding', 'chunked'], body: 'abc', failure: 'cut' },
  },
  {
    name: 'chunked with trailers: the body without them, and the next reply unharmed',
    reply: [
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Digest: abc\r\n\r\n',
    ],
    expect: { status: 200, headers: ['Transfer-Encoding', 'chunked'], body: 'hello world', ended: true },
    reused: true,
  },
  {
    name: 'chunked, one byte per read',
    reply: byteByByte('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nT: 1\r\n\r\n'),
    expect: { status: 200, headers: ['Transfer-Encoding', 'chunked'], body: 'hello', ended: true },
    reused: true,
  },
  {
    name: 'a head over the limit (4 KiB here)',
    reply: [`HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(5000)}\r\nContent-Length: 0\r\n\r\n`],
    expect: { failure: 'reset' },
  },
  {
    name: 'no status line at all',
    reply: ['SSH-2.0-OpenSSH_9.6\r\n'],
    expect: { failure: 'reset' },
  },
  {
    name: 'closed before the head',
    reply: ['HTTP/1.1 200 O', 'close'],
    expect: { failure: 'reset' },
  },
  {
    name: 'closed in the middle of a body with a length: cut',
    reply: ['HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello', 'close'],
    expect: { status: 200, headers: ['Content-Length', '10'], body: 'hello', failure: 'cut' },
  },
  {
    name: 'Connection: close, then bytes nobody asked for: the response stands, the connection is not reused',
    reply: ['HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nokHTTP/1.1 200 OK\r\n\r\n'],
    expect: { status: 200, headers: ['Content-Length', '2', 'Connection', 'close'], body: 'ok', ended: true },
    reused: false,
  },
];

/** A replica that answers each request head on a connection with the next script in its queue. */
class ScriptedReplica {
  readonly server = net.createServer((socket) => this.#serve(socket));
  readonly scripts: Step[][] = [];
  connections = 0;
  port = 0;

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  #serve(socket: net.Socket): void {
    this.connections++;
    let head = '';
    socket.on('error', () => {});
    socket.on('data', async (chunk) => {
      head += chunk.toString('latin1');
      while (head.includes('\r\n\r\n')) {
        head = head.slice(head.indexOf('\r\n\r\n') + 4);
        const script = this.scripts.shift() ?? ['HTTP/1.1 500 Unscripted\r\nContent-Length: 0\r\n\r\n'];
        for (const step of script) {
          if (step === 'close') socket.end();
          else if (typeof step === 'string') socket.write(step, 'latin1');
          else await new Promise((r) => setTimeout(r, step.waitMs));
        }
      }
    });
  }
}

/** The exchange side: records what the pool hands it, resolves when it ends or fails. */
function exchange(method: string): { ex: UpstreamExchange; done: Promise<Outcome> } {
  const outcome: Outcome = {};
  let body = '';
  let settle!: (o: Outcome) => void;
  const done = new Promise<Outcome>((resolve) => {
    settle = resolve;
  });
  const finish = () => settle({ ...outcome, ...(outcome.status !== undefined ? { body } : {}) });
  const ex: UpstreamExchange = {
    method,
    head: `${method} / HTTP/1.1\r\nHost: replica\r\n\r\n`,
    body: null,
    conn: null,
    cancelled: false,
    headTimeoutMs: 0,
    onHead(status, _reason, headers) {
      outcome.status = status;
      outcome.headers = headers;
    },
    onBody(chunk) {
      body += chunk.toString('latin1');
    },
    onEnd() {
      outcome.ended = true;
      finish();
    },
    flush() {},
    onError(failure) {
      outcome.failure = failure;
      finish();
    },
  };
  return { ex, done };
}

const READERS: Array<[string, ReaderFactory]> = [
  ['llhttp', chooseReader('llhttp').factory],
  ['own parser', ownReader],
];

for (const [readerName, reader] of READERS) {
  describe(`upstream reader: ${readerName}, against a raw TCP replica`, () => {
    const replica = new ScriptedReplica();
    let pool: UpstreamPool;

    before(async () => {
      await replica.listen();
    });
    after(async () => {
      pool?.destroy();
      await new Promise((resolve) => replica.server.close(resolve));
    });

    for (const c of CASES) {
      test(c.name, async () => {
        pool?.destroy();
        pool = new UpstreamPool('127.0.0.1', replica.port, {
          maxConnections: 1,
          maxQueued: 4,
          idleTimeoutMs: 5000,
          connectTimeoutMs: 2000,
          responseTimeoutMs: 5000,
          maxHeaderBytes: 4096,
          reader,
        });
        const before = replica.connections;
        replica.scripts.push(c.reply, ['HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext']);
        const first = exchange(c.method ?? 'GET');
        pool.dispatch(first.ex, Date.now());
        assert.deepEqual(await first.done, c.expect);
        // The next request: on the same connection only when the reply allowed it.
        await new Promise((r) => setTimeout(r, 30));
        const second = exchange('GET');
        pool.dispatch(second.ex, Date.now());
        assert.deepEqual(await second.done, {
          status: 200,
          headers: ['Content-Length', '4'],
          body: 'next',
          ended: true,
        });
        const opened = replica.connections - before;
        if (c.reused !== undefined) assert.equal(opened, c.reused ? 1 : 2, c.reused ? 'reused' : 'a new connection');
        replica.scripts.length = 0;
      });
    }
  });
}

describe('choosing the reader at start', () => {
  test('auto: the fast one when its self-test passes on this Node', () => {
    const choice = chooseReader('auto');
    assert.equal(choice.kind, 'llhttp');
    assert.equal(choice.reason, undefined);
  });

  test('a binding that is gone, lacks a method or parses otherwise: our parser, with the reason', () => {
    const gone = chooseReader('auto', () => {
      throw new Error("Cannot find module '_http_common'");
    });
    assert.equal(gone.kind, 'own');
    assert.match(gone.reason!, /Cannot find module '_http_common'/);
    const noConsume = chooseReader('auto', () => {
      const real = loadLlhttp();
      return { ...real, newParser: () => Object.assign(real.newParser(), { consume: undefined }) };
    });
    assert.match(noConsume.reason!, /no consume\(\)/);
    // Callback slots renumbered by a Node release: heads and bodies land in the wrong callbacks.
    const renumbered = chooseReader('auto', () => {
      const real = loadLlhttp();
      return { ...real, ON_BODY: real.ON_MESSAGE_COMPLETE, ON_MESSAGE_COMPLETE: real.ON_BODY };
    });
    assert.equal(renumbered.kind, 'own');
    assert.match(renumbered.reason!, /failed its self-test/);
    // A binding that parses, but otherwise: a status it reads wrong.
    const otherwise = chooseReader('auto', () => {
      const real = loadLlhttp();
      return { ...real, STRICT: 0xffff }; // every lenient flag: CL with TE, bad chunks and so on accepted
    });
    assert.equal(otherwise.kind, 'own');
    assert.match(otherwise.reason!, /parsed the self-test otherwise/);
  });

  test('configured: "own" is taken as it is; "llhttp" that fails stops start-up, naming the key', () => {
    assert.equal(chooseReader('own').kind, 'own');
    assert.throws(
      () =>
        chooseReader('llhttp', () => {
          throw new Error('gone');
        }),
      /balancer\.upstreamParser is "llhttp", but Node's llhttp binding failed: gone/,
    );
  });
});
