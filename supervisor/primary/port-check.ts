// Whether another process holds a port the supervisor is about to listen on: bound and released
// at once from the primary, before any thread starts, so a taken port stops start-up with one
// clear message instead of a balancer thread that fails to bind again and again.
import { createServer } from 'node:net';

/** Undefined when `host:port` could be bound (and was released again), else the error. */
export function bindError(host: string, port: number): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}
