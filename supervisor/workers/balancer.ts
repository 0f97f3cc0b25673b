// A balancer thread: wires a channel, the clock and a listener into the Balancer class
// (balancer/balancer.ts), which holds all the logic. Several threads may run at once, each
// with its own listener on the same port (reusePort: the kernel spreads connections), sharing
// cursors and counts through the SharedArrayBuffer in their settings.
import { setTimeout as sleep } from 'node:timers/promises';
import type { AddressInfo } from 'node:net';
import { Balancer } from '../balancer/balancer.ts';
import { createListener } from '../balancer/listener.ts';
import type { BalancerSettings } from '../balancer/settings.ts';
import type { FromBalancer, ToBalancer } from '../protocol.ts';
import { workerChannel } from './channel.ts';

const SWEEP_EVERY_MS = 250;

const channel = workerChannel<ToBalancer, FromBalancer, BalancerSettings>();
const settings = channel.config;
const balancer = new Balancer({ settings, clock: { now: Date.now }, send: (m) => channel.send(m) });
const server = createListener(settings.limits, settings.threads);
balancer.attach(server);

let listening = false;
server.on('error', (err: NodeJS.ErrnoException) => {
  channel.send({ type: 'worker-error', code: err.code ?? 'LISTEN', message: err.message });
  // Before listening the port may be taken: the host restarts us after a delay. Once
  // listening, an error (EMFILE on accept, say) must not take every connection down with us.
  if (!listening) process.exit(1);
});
server.listen({ port: settings.listen.port, host: settings.listen.host, reusePort: settings.threads > 1 }, () => {
  listening = true;
  const address = server.address() as AddressInfo;
  channel.send({ type: 'listening', host: address.address, port: address.port });
});
const sweeper = setInterval(() => balancer.sweep(), SWEEP_EVERY_MS);

channel.onMessage(async (message) => {
  switch (message.type) {
    case 'routes':
      balancer.applyRoutes(message);
      break;
    case 'drain':
      balancer.drain(message.id, message.slot);
      break;
    case 'close':
      await balancer.close(message.timeoutMs, (ms) => sleep(ms));
      clearInterval(sweeper);
      channel.send({ type: 'closed' });
      break;
  }
});
