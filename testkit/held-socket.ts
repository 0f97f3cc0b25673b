// A listening socket that this process holds but never accepts on, as systemd holds a .socket
// unit's: connections wait in its backlog until a supervisor given its fd accepts them.
import net from 'node:net';
import { duplicateListener } from '../supervisor/balancer/inherited-listener.ts';

export interface HeldSocket {
  fd: number;
  close(): void;
}

export async function holdListeningSocket(host: string, port: number): Promise<HeldSocket> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, backlog: 4096 }, resolve);
  });
  // A copy nobody polls; closing the server's own handle leaves the socket listening through it.
  const handle = (await duplicateListener((server as unknown as { _handle: { fd: number } })._handle.fd)) as {
    fd: number;
    close(): void;
  };
  await new Promise((resolve) => server.close(resolve));
  return { fd: handle.fd, close: () => handle.close() };
}
