// The scaler thread: the Scaler class (scaler/scaler.ts) with the real clock, the request counts
// of the balancer's shared memory and this thread's port.
import { RequestCounters, SharedLayout } from '../balancer/shared-state.ts';
import { systemClock } from '../core/clock.ts';
import { Scaler } from '../scaler/scaler.ts';
import { workerChannel } from './channel.ts';
import { SCALER } from './spec.ts';

const channel = workerChannel(SCALER);
const { policies, shared } = channel.config;
const scaler = new Scaler({
  policies,
  clock: systemClock,
  counts: new RequestCounters(shared.buffer, new SharedLayout(shared.spec), shared.epoch),
  send: (m) => channel.send(m),
});
// Counting starts with the primary's `resume`, its first message to every (re)started scaler.

channel.onMessage((message) => {
  switch (message.type) {
    case 'open-window':
      scaler.openWindow(message.service, message.at);
      break;
    case 'current':
      scaler.setCurrent(message.current);
      break;
    case 'resume':
      scaler.resume(message.windows, message.current);
      break;
  }
});
