// The optional plain-HTTP port beside HTTPS: every request is sent to the same path on HTTPS
// (301 for GET and HEAD, 308 for the rest, which keeps the method and body), except an ACME
// HTTP-01 challenge (/.well-known/acme-challenge/<token>), answered from the webroot that
// `certbot --webroot` writes into, since the certificate authority asks for it over plain HTTP.
// The host redirected to is one the certificate names: the request's own Host when the
// certificate covers it, else the certificate's first DNS name. Reflecting any Host would make
// the site an open redirect (`Host: evil.example` → `Location: https://evil.example/...`).
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { sendJson } from '../web/static.ts';

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

/** The host names a certificate is valid for, as the redirect uses them. */
export class CertificateNames {
  readonly #cert: X509Certificate;
  /** The first DNS name (not a wildcard) of subjectAltName, else the subject's CN. */
  readonly primary: string | undefined;

  constructor(pem: string) {
    this.#cert = new X509Certificate(pem);
    const dns = (this.#cert.subjectAltName ?? '')
      .split(', ')
      .filter((entry) => entry.startsWith('DNS:'))
      .map((entry) => entry.slice(4).toLowerCase());
    const cn = /(?:^|\n)CN=([^\n]+)/.exec(this.#cert.subject)?.[1]?.toLowerCase();
    this.primary =
      dns.find((n) => !n.includes('*')) ?? (cn !== undefined && HOST.test(cn) && !cn.includes('*') ? cn : undefined);
  }

  /** Whether the certificate is valid for `name` (a DNS name, wildcards as TLS clients match them, or an IP). */
  covers(name: string): boolean {
    const bare = name.startsWith('[') ? name.slice(1, -1) : name;
    if (isIP(bare) !== 0) return this.#cert.checkIP(bare) !== undefined;
    return this.#cert.checkHost(bare) !== undefined;
  }
}

/**
 * The HTTPS URL for a plain request: on the request's host when the certificate covers it, else
 * on the certificate's primary name; undefined when neither names a host.
 */
export function httpsLocation(
  host: string | undefined,
  target: string,
  httpsPort: number,
  names: CertificateNames,
): string | undefined {
  const asked = host !== undefined && HOST.test(host) ? host.replace(/:\d+$/, '').toLowerCase() : undefined;
  const name = asked !== undefined && names.covers(asked) ? asked : names.primary;
  if (name === undefined) return undefined;
  return `https://${name}${httpsPort === 443 ? '' : `:${httpsPort}`}${target}`;
}

export function redirectToHttps(
  req: IncomingMessage,
  res: ServerResponse,
  target: string,
  host: string | undefined,
  httpsPort: number,
  names: CertificateNames,
): void {
  req.resume();
  const location = httpsLocation(host, target, httpsPort, names);
  if (location === undefined)
    return sendJson(res, 400, { error: 'a Host header naming this site is needed to redirect to HTTPS' });
  const status = req.method === 'GET' || req.method === 'HEAD' ? 301 : 308;
  const body = JSON.stringify({ error: `this site is served over HTTPS: ${location}` });
  res.writeHead(status, {
    location,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}
