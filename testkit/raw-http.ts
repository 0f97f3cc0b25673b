// A request sent as raw bytes over `net`, for targets an HTTP client would normalise before
// sending (undici resolves "/../" and would never send it): the server sees exactly these bytes.
import { connect } from 'node:net';

export interface RawReply {
  status: number;
  head: string;
  body: string;
}

/** `GET <target>` with `Connection: close` to 127.0.0.1:port; resolves with the whole reply. */
export function rawTarget(port: number, target: string, timeoutMs = 10_000): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    socket.setTimeout(timeoutMs, () =>
      socket.destroy(new Error(`no complete reply to GET ${target} within ${timeoutMs} ms`)),
    );
    socket.on('connect', () =>
      socket.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`),
    );
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      const head = split === -1 ? text : text.slice(0, split);
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? Number.NaN);
      if (Number.isNaN(status))
        reject(new Error(`not an HTTP reply to GET ${target}: ${JSON.stringify(text.slice(0, 200))}`));
      else resolve({ status, head, body: split === -1 ? '' : text.slice(split + 4) });
    });
  });
}
