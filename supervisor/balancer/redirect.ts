// The optional plain-HTTP port beside HTTPS: every request is sent to the same host and path
// on HTTPS (301 for GET and HEAD, 308 for the rest, which keeps the method and body), except an
// ACME HTTP-01 challenge (/.well-known/acme-challenge/<token>), answered from the webroot that
// `certbot --webroot` writes into, since the certificate authority asks for it over plain HTTP.
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { sendJson } from '../static.ts';

export const ACME_PREFIX = '/.well-known/acme-challenge/';
/** ACME tokens are base64url. */
const TOKEN = /^[A-Za-z0-9_-]{1,256}$/;
/** A host name, IPv4 address or bracketed IPv6 address, with an optional port. */
const HOST = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/;

/** Answers an ACME challenge from `webroot`; false when the path is not one (nothing sent). */
export async function serveAcmeChallenge(webroot: string, target: string, res: ServerResponse): Promise<boolean> {
  if (!target.startsWith(ACME_PREFIX)) return false;
  const token = target.slice(ACME_PREFIX.length);
  if (!TOKEN.test(token)) {
    sendJson(res, 404, { error: 'no such challenge' });
    return true;
  }
  const body = await readFile(path.join(webroot, ACME_PREFIX, token)).catch(() => undefined);
  if (body === undefined) sendJson(res, 404, { error: 'no such challenge' });
  else {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length, 'cache-control': 'no-store' });
    res.end(body);
  }
  return true;
}

/** The HTTPS URL for a plain request, or undefined when its Host is not one we can name. */
export function httpsLocation(host: string | undefined, target: string, httpsPort: number): string | undefined {
  if (host === undefined || !HOST.test(host)) return undefined;
  const name = host.replace(/:\d+$/, '');
  return `https://${name}${httpsPort === 443 ? '' : `:${httpsPort}`}${target}`;
}

export function redirectToHttps(req: IncomingMessage, res: ServerResponse, target: string, host: string | undefined, httpsPort: number): void {
  req.resume();
  const location = httpsLocation(host, target, httpsPort);
  if (location === undefined) return sendJson(res, 400, { error: 'a Host header naming this site is needed to redirect to HTTPS' });
  const status = req.method === 'GET' || req.method === 'HEAD' ? 301 : 308;
  const body = JSON.stringify({ error: `this site is served over HTTPS: ${location}` });
  res.writeHead(status, { location, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(req.method === 'HEAD' ? undefined : body);
}
