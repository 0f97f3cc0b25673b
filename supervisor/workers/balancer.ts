// A balancer thread: wires a channel, the clock and a listener into the Balancer class
// (balancer/balancer.ts), which holds all the logic. Several threads may run at once, each
// with its own listener on the same port (reusePort: the kernel spreads connections), sharing
// cursors and counts through the SharedArrayBuffer in their settings. With TLS the listener
// is a TLS server (HTTP/2 and HTTP/1.1), and a plain port may redirect to it. With sockets from
// systemd (settings.inherited) each thread listens on its own copy of them instead, and only
// once the primary says `accept`.
import { setTimeout as sleep } from 'node:timers/promises';
import type { AddressInfo, Server } from 'node:net';
import { Balancer } from '../balancer/balancer.ts';
import { duplicateListener } from '../balancer/inherited-listener.ts';
import { createListener } from '../balancer/listener.ts';
import { createSecureListener } from '../balancer/secure.ts';
import { systemClock } from '../core/clock.ts';
import { workerChannel } from './channel.ts';
import { BALANCER } from './spec.ts';

/**
 * The accept queue's length, as deploy/selflessacts.socket's Backlog= (the kernel caps it at
 * net.core.somaxconn). Node's default, 511, overflows under a burst of new connections: the kernel
 * then drops the handshake's last ACK, and the client holds a connection the balancer never sees
 * (no head deadline closes it) until the SYN-ACK retries run out, a minute later.
 */
const LISTEN_BACKLOG = 4096;

const SWEEP_EVERY_MS = 250;

const channel = workerChannel(BALANCER);
const settings = channel.config;
const balancer = new Balancer({ settings, clock: systemClock, send: (m) => channel.send(m) });
let server: Server;
if (settings.tls === null) {
  const plain = createListener(settings.limits, settings.threads);
  balancer.attach(plain);
  server = plain;
} else {
  const secure = createSecureListener(settings.limits, settings.threads, settings.tls);
  balancer.attachSecure(secure);
  server = secure.tls;
}

let acceptNow = (): void => undefined;
let closing = false;
/** Resolves when the public listener may accept: at once, or on `accept` for an inherited socket. */
const mayAccept =
  settings.inherited === null ? Promise.resolve() : new Promise<void>((resolve) => (acceptNow = resolve));

/**
 * Listens on `port`, or on a copy of the inherited socket `fd`; reports the address once bound,
 * and leaves the thread to be restarted if it cannot bind.
 */
async function listen(s: Server, port: number, redirect: boolean, fd: number | null): Promise<void> {
  const what = redirect ? 'redirect port' : 'listener';
  let bound = false;
  s.on('error', (err: NodeJS.ErrnoException) => {
    // Before listening the port may be taken: the primary says so (event, /status, /health) and
    // the host restarts us after a delay. Once listening, an error (EMFILE on accept, say) must
    // not take every connection down with us.
    if (!bound) {
      channel.send({
        type: 'listen-failed',
        host: settings.listen.host,
        port,
        code: err.code ?? 'LISTEN',
        message: err.message,
        ...(redirect ? { redirect } : {}),
      });
      process.exit(1);
    }
    channel.send({ type: 'worker-error', code: err.code ?? 'LISTEN', message: `${what}: ${err.message}` });
  });
  const onListening = () => {
    bound = true;
    const address = s.address() as AddressInfo;
    channel.send({ type: 'listening', host: address.address, port: address.port, ...(redirect ? { redirect } : {}) });
  };
  if (fd === null) {
    s.listen(
      { port, host: settings.listen.host, reusePort: settings.threads > 1, backlog: LISTEN_BACKLOG },
      onListening,
    );
    return;
  }
  let handle: object;
  try {
    handle = await duplicateListener(fd);
  } catch (err) {
    channel.send({ type: 'worker-error', code: 'INHERITED_SOCKET', message: `${what}: ${(err as Error).message}` });
    process.exit(1);
  }
  if (!redirect) await mayAccept;
  if (!closing) s.listen(handle, onListening);
}
const inherited = settings.inherited;
void listen(server, settings.listen.port, false, inherited?.public ?? null);
if (settings.tls !== null && (settings.edge.tls.redirectPort !== 0 || (inherited?.redirect ?? null) !== null)) {
  const redirect = createListener(settings.limits, settings.threads);
  balancer.attachRedirect(redirect, settings.listen.port);
  void listen(redirect, settings.edge.tls.redirectPort, true, inherited?.redirect ?? null);
}
const sweeper = setInterval(() => balancer.sweep(), SWEEP_EVERY_MS);

channel.onMessage(async (message) => {
  switch (message.type) {
    case 'routes':
      balancer.applyRoutes(message);
      break;
    case 'drain':
      balancer.drain(message.id, message.slot);
      break;
    case 'tls':
      balancer.setCertificate(message);
      break;
    case 'abandon':
      balancer.abandon(message.id);
      break;
    case 'accept':
      acceptNow();
      break;
    case 'close':
      closing = true;
      await balancer.close(message.timeoutMs, (ms) => sleep(ms));
      clearInterval(sweeper);
      channel.send({ type: 'closed' });
      break;
  }
});
