// Static files for the web UI and the dashboard: GET and HEAD under one root, no escaping it,
// index.html for directories, ETag revalidation. Used by the balancer (public/) and the admin
// listener (public/dashboard/).
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { compressibleType, type Encoding } from './compression.ts';
import { MAX_STATIC_COMPRESS_BYTES, type CompressedFiles } from './static-cache.ts';
import { UI_SECURITY_HEADERS } from './security-headers.ts';

/** What the balancer adds to serving a file: its compressed copies, and headers of its own. */
export interface StaticOptions {
  compression?: { files: CompressedFiles; accepted: Encoding | undefined; minBytes: number };
  /** Over the UI's security headers (the configured HSTS over TLS). */
  headers?: Record<string, string>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.woff2': 'font/woff2',
};

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/**
 * Where a directory asked for without its trailing slash redirects to: `mount` + the path, with
 * one leading slash whatever the path held, so the location is never protocol-relative
 * ("//host/..." or "/\\host/...", which a browser would follow to another site).
 */
export function directoryLocation(mount: string, pathname: string, query: string): string {
  const path = encodeURI(pathname).replace(/^\/+/, '');
  return `${mount}/${path}/${query}`;
}

/**
 * Serves `pathname` (decoded) from `root`, mounted at `mount` in the URL space (for
 * redirects), with the UI's security headers. Returns false when there is no such file,
 * leaving the response untouched for the caller's 404.
 */
export async function serveStatic(
  root: string,
  pathname: string,
  req: IncomingMessage,
  res: ServerResponse,
  mount = '',
  options: StaticOptions = {},
): Promise<boolean> {
  if (pathname.includes('\0')) return false;
  const base = path.resolve(root);
  let file = path.resolve(base, `.${pathname}`);
  if (file !== base && !file.startsWith(`${base}${path.sep}`)) return false;
  let info = await stat(file).catch(() => undefined);
  if (info?.isDirectory()) {
    if (!pathname.endsWith('/')) {
      const url = req.url ?? '';
      const query = url.includes('?') ? url.slice(url.indexOf('?')) : '';
      res.writeHead(301, { location: directoryLocation(mount, pathname, query) });
      res.end();
      return true;
    }
    file = path.join(file, 'index.html');
    info = await stat(file).catch(() => undefined);
  }
  if (!info?.isFile()) return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendJson(res, 405, { error: `method ${req.method} not allowed on static files` }, { allow: 'GET, HEAD' });
    return true;
  }
  const type = TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
  const c = options.compression;
  const compressible =
    c !== undefined && compressibleType(type) && info.size >= c.minBytes && info.size <= MAX_STATIC_COMPRESS_BYTES;
  const encoding = compressible ? c.accepted : undefined;
  // Each encoding is its own representation, with its own validator.
  const etag = `W/"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}${encoding ? `-${encoding}` : ''}"`;
  const headers: Record<string, string> = {
    ...UI_SECURITY_HEADERS,
    ...options.headers,
    'content-type': type,
    'cache-control': 'no-cache',
    etag,
    'last-modified': info.mtime.toUTCString(),
  };
  if (compressible) headers.vary = 'Accept-Encoding';
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, headers);
    res.end();
    return true;
  }
  if (encoding !== undefined) {
    const body = await c!.files.get(file, info, encoding);
    res.writeHead(200, { ...headers, 'content-encoding': encoding, 'content-length': String(body.length) });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  }
  res.writeHead(200, { ...headers, 'content-length': info.size });
  if (req.method === 'HEAD') {
    res.end();
    return true;
  }
  await pipeline(createReadStream(file), res).catch(() => res.destroy());
  return true;
}
