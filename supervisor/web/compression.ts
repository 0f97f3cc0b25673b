// Response compression at the edge: brotli or gzip (node:zlib), chosen by the request's
// Accept-Encoding, for text the replicas send uncompressed (JSON, HTML, JavaScript, CSS, SVG,
// plain text, XML) and never for images or anything already encoded. Per-request responses get
// the configured levels (by default the lowest: bench:compression measured them as small as
// higher ones on this site's listings, for a fraction of the CPU); a body that arrives whole in
// one read is compressed in one call, a longer one streams through a zlib stream (on libuv's
// thread pool) as it arrives.
import type { Writable } from 'node:stream';
import {
  constants,
  createBrotliCompress,
  createGzip,
  brotliCompressSync,
  gzipSync,
  type BrotliCompress,
  type Gzip,
} from 'node:zlib';
import { field, type ValuesOf } from '../schema/formats.ts';

/** `balancer.compression`: gzip and brotli for text responses, by Accept-Encoding. */
export const COMPRESSION_SCHEMA = {
  enabled: field('sa-boolean', true, 'COMPRESSION'),
  /** Smaller bodies (when their length is known) go out as they are. */
  minBytes: field('sa-nat', 1024),
  /** For responses made per request (the replicas'); static files get the best level once. */
  brotliQuality: field('sa-quality', 1),
  gzipLevel: field('sa-gzip-level', 1),
};
export type CompressionConfig = ValuesOf<typeof COMPRESSION_SCHEMA>;

export type Encoding = 'br' | 'gzip';

/** Content types worth compressing (lower-case, without parameters). */
const COMPRESSIBLE = new Set([
  'application/json',
  'application/javascript',
  'application/xml',
  'application/manifest+json',
  'application/ld+json',
  'application/problem+json',
  'image/svg+xml',
  'text/html',
  'text/css',
  'text/javascript',
  'text/plain',
  'text/xml',
  'text/csv',
  'text/markdown',
]);

export function compressibleType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const semi = contentType.indexOf(';');
  return COMPRESSIBLE.has((semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase());
}

/**
 * The encoding to send for an Accept-Encoding value: brotli if accepted, else gzip, else none.
 * `q=0` refuses a coding; `*` accepts those not named.
 */
export function acceptedEncoding(header: string | undefined): Encoding | undefined {
  if (header === undefined || header === '') return undefined;
  let br: number | undefined;
  let gzip: number | undefined;
  let star: number | undefined;
  for (const part of header.split(',')) {
    const [name, ...params] = part.split(';');
    const coding = name!.trim().toLowerCase();
    let q = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*([0-9.]+)\s*$/i.exec(p);
      if (m) q = Number(m[1]);
    }
    if (coding === 'br') br = q;
    else if (coding === 'gzip' || coding === 'x-gzip') gzip = q;
    else if (coding === '*') star = q;
  }
  br ??= star;
  gzip ??= star;
  if (br !== undefined && br > 0 && br >= (gzip ?? 0)) return 'br';
  if (gzip !== undefined && gzip > 0) return 'gzip';
  return br !== undefined && br > 0 ? 'br' : undefined;
}

/** The value of the first header named `lower` (compared case-insensitively) in a raw list. */
export function rawHeader(raw: readonly string[], lower: string): string | undefined {
  const n = lower.length;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === n && name.toLowerCase() === lower) return raw[i + 1];
  }
  return undefined;
}

/**
 * What a compressible response becomes: its headers for the client (Content-Length dropped
 * when compressing, Content-Encoding added, `Vary: Accept-Encoding` added whenever the body
 * could have been encoded, a strong ETag made weak, since the bytes differ) and the encoding,
 * or undefined when the response goes out as it is (headers untouched).
 */
export function planCompression(
  status: number,
  method: string,
  headers: readonly string[],
  accepted: Encoding | undefined,
  config: CompressionConfig,
): { headers: string[]; encoding: Encoding | undefined } | undefined {
  if (status < 200 || status === 204 || status === 206 || status === 304) return undefined;
  let type: string | undefined;
  let length = -1;
  let vary: number | undefined;
  let etag: number | undefined;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    switch (name.length) {
      case 12:
        if (name.toLowerCase() === 'content-type') type = headers[i + 1];
        break;
      case 14:
        if (name.toLowerCase() === 'content-length') length = Number(headers[i + 1]);
        break;
      case 16:
        if (name.toLowerCase() === 'content-encoding') return undefined; // already encoded
        break;
      case 13: {
        const lower = name.toLowerCase();
        if (lower === 'content-range') return undefined;
        if (lower === 'cache-control' && /no-transform/i.test(headers[i + 1]!)) return undefined;
        break;
      }
      case 4:
        if (name.toLowerCase() === 'vary') vary = i;
        else if (name.toLowerCase() === 'etag') etag = i;
        break;
    }
  }
  if (!compressibleType(type) || (length !== -1 && length < config.minBytes)) return undefined;
  const out = headers.slice();
  if (vary === undefined) out.push('vary', 'Accept-Encoding');
  else if (!/(^|,)\s*(accept-encoding|\*)\s*(,|$)/i.test(out[vary + 1]!))
    out[vary + 1] = `${out[vary + 1]}, Accept-Encoding`;
  const encoding = method === 'HEAD' ? undefined : accepted;
  if (encoding === undefined) return { headers: out, encoding };
  if (etag !== undefined && !out[etag + 1]!.startsWith('W/')) out[etag + 1] = `W/${out[etag + 1]}`;
  const kept: string[] = [];
  for (let i = 0; i < out.length; i += 2)
    if (out[i]!.length !== 14 || out[i]!.toLowerCase() !== 'content-length') kept.push(out[i]!, out[i + 1]!);
  kept.push('content-encoding', encoding);
  return { headers: kept, encoding };
}

function brotliParams(quality: number, sizeHint: number) {
  return {
    [constants.BROTLI_PARAM_QUALITY]: quality,
    [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
    ...(sizeHint > 0 ? { [constants.BROTLI_PARAM_SIZE_HINT]: sizeHint } : {}),
  };
}

/** A whole body at once (it arrived in one read). */
export function compressWhole(encoding: Encoding, body: Buffer, quality: { brotli: number; gzip: number }): Buffer {
  return encoding === 'br'
    ? brotliCompressSync(body, { params: brotliParams(quality.brotli, body.length) })
    : gzipSync(body, { level: quality.gzip });
}

/** A stream for a body that arrives over several reads. */
export function compressStream(encoding: Encoding, quality: { brotli: number; gzip: number }): BrotliCompress | Gzip {
  return encoding === 'br'
    ? createBrotliCompress({ params: brotliParams(quality.brotli, 0) })
    : createGzip({ level: quality.gzip });
}

/**
 * A body that arrived whole: compressed in one call, or sent as it is when it turned out
 * smaller than `minBytes` (its Content-Encoding taken back); either way with its length.
 */
export function encodeWhole(
  encoding: Encoding,
  body: Buffer,
  headers: string[],
  config: CompressionConfig,
): { body: Buffer; headers: string[] } {
  let out = headers;
  let sent = body;
  if (body.length >= config.minBytes)
    sent = compressWhole(encoding, body, { brotli: config.brotliQuality, gzip: config.gzipLevel });
  else
    out = headers.filter((_, i) =>
      i % 2 === 0 ? headers[i] !== 'content-encoding' : headers[i - 1] !== 'content-encoding',
    );
  return { body: sent, headers: [...out, 'content-length', String(sent.length)] };
}

/** A zlib stream whose output goes to `res` as the client reads it; ends `res` when it ends. */
export function encoderInto(res: Writable, encoding: Encoding, config: CompressionConfig): BrotliCompress | Gzip {
  const encoder = compressStream(encoding, { brotli: config.brotliQuality, gzip: config.gzipLevel });
  const resume = () => encoder.resume();
  encoder.on('data', (chunk: Buffer) => {
    if (!res.write(chunk)) {
      encoder.pause();
      res.once('drain', resume);
    }
  });
  encoder.once('end', () => res.end());
  encoder.once('error', () => res.destroy());
  res.once('close', () => encoder.destroy());
  return encoder;
}
