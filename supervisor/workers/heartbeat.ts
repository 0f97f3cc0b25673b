// The heartbeat thread: the Heartbeat class (heartbeat/heartbeat.ts) with the real clock, HTTP
// checks and this thread's port.
import { systemClock } from '../core/clock.ts';
import { Heartbeat } from '../heartbeat/heartbeat.ts';
import { httpProbe } from '../heartbeat/probe.ts';
import { workerChannel } from './channel.ts';
import { HEARTBEAT } from './spec.ts';

const channel = workerChannel(HEARTBEAT);
const heartbeat = new Heartbeat({
  config: channel.config,
  clock: systemClock,
  probe: httpProbe(),
  send: (m) => channel.send(m),
});

channel.onMessage((message) => {
  if (message.type === 'targets') heartbeat.applyTargets(message);
  else heartbeat.check(message.id);
});
