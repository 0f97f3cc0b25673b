// The worker side of the MessagePort: typed send/receive and the static config, plus an error
// boundary so a handler's exception is reported (as {code, message}) instead of killing the
// thread. A thread that dies anyway is restarted by the primary (host.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { errorFields } from '../core/log.ts';
import type { WorkerFailure } from '../core/protocol.ts';
import type { WorkerSpec } from './spec.ts';

export interface Channel<In, Out, Config> {
  config: Config;
  send(message: Out | WorkerFailure): void;
  onMessage(handler: (message: In) => void | Promise<void>): void;
}

/** The thread's side of `spec`'s port (the spec only types it). */
export function workerChannel<In, Out, Config>(spec: WorkerSpec<In, Out, Config>): Channel<In, Out, Config> {
  if (!parentPort) throw new Error(`the ${spec.name} worker runs as a worker thread (see workers/host.ts)`);
  const port = parentPort;
  const send = (message: Out | WorkerFailure) => port.postMessage(message);
  return {
    config: (workerData as { config: Config }).config,
    send,
    onMessage(handler) {
      port.on('message', (message: In) => {
        Promise.resolve()
          .then(() => handler(message))
          .catch((err: unknown) => send({ type: 'worker-error', ...errorFields(err) }));
      });
    },
  };
}
