// Multipart/form-data bodies written by hand (row 17), shared by the contract and the owner suites.
import { randomBytes } from 'node:crypto';
import type { Api } from './client.ts';

export interface Part {
  name: string;
  value: string | Buffer;
  filename?: string;
  type?: string;
}

/** A multipart/form-data body written by hand, so every byte sent is the test's choice. */
export function multipart(parts: Part[]): { body: Buffer; headers: Record<string, string> } {
  const boundary = `----selfless${randomBytes(8).toString('hex')}`;
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const disposition = `form-data; name="${part.name}"${part.filename === undefined ? '' : `; filename="${part.filename}"`}`;
    const type = part.type === undefined ? '' : `Content-Type: ${part.type}\r\n`;
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n${type}\r\n`));
    chunks.push(Buffer.isBuffer(part.value) ? part.value : Buffer.from(part.value));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

export const image = (value: Buffer, filename = 'photo.png', type = 'image/png'): Part => ({
  name: 'image',
  value,
  filename,
  type,
});

export function upload(acts: Api, cookie: string | undefined, parts: Part[]) {
  const { body, headers } = multipart(parts);
  return acts.call('POST', '/api/v1/acts', { body, headers, ...(cookie ? { cookie } : {}) });
}
