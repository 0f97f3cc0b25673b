// What an image is, decided by its first bytes, never by its name or declared type.
import { createHash } from 'node:crypto';

export type ImageType = 'image/png' | 'image/jpeg' | 'image/gif' | 'image/webp';

const startsWith = (bytes: Buffer, signature: number[], at = 0) =>
  bytes.length >= at + signature.length && signature.every((b, i) => bytes[at + i] === b);
const ascii = (s: string) => [...s].map((ch) => ch.charCodeAt(0));

export function detectImageType(bytes: Buffer): ImageType | undefined {
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (startsWith(bytes, ascii('GIF87a')) || startsWith(bytes, ascii('GIF89a'))) return 'image/gif';
  if (startsWith(bytes, ascii('RIFF')) && startsWith(bytes, ascii('WEBP'), 8)) return 'image/webp';
  return undefined;
}

/** Row 15 accepts any bytes as imgB64; what is not a known image is served as opaque bytes. */
export function contentTypeOf(bytes: Buffer): string {
  return detectImageType(bytes) ?? 'application/octet-stream';
}

/** A strong ETag value: the content's own hash, so equal bytes always validate. */
export function etagOf(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}
