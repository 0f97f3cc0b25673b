// The public listener with TLS: one TLS server on the listen port offering HTTP/2 and
// HTTP/1.1 by ALPN, handing each connection, once its handshake is done, to an HTTP/2 server or
// to the very node:http server the plain listener uses (same limits, same parser, same checks).
// The certificate is replaced in place (setSecureContext): connections open keep theirs, new
// ones get the new one, nothing is dropped.
import { createServer as createHttp2Server, type Http2Server } from 'node:http2';
import type { Server } from 'node:http';
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import { createListener } from './listener.ts';
import type { BalancerLimits, TlsMaterial } from './settings.ts';

/** Streams one HTTP/2 connection may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS). */
export const H2_MAX_STREAMS = 100;

/**
 * TLS 1.2 suites of Mozilla's "intermediate" profile (server-side TLS 5.7): forward-secret AEAD
 * only, so no CBC with SHA-1 and no static-RSA key exchange. TLS 1.3's suites are all AEAD and
 * stay as Node sets them. DHE ones are listed as the profile has them; without DH parameters
 * Node offers none of them.
 */
export const INTERMEDIATE_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
  'DHE-RSA-AES128-GCM-SHA256',
  'DHE-RSA-AES256-GCM-SHA384',
  'DHE-RSA-CHACHA20-POLY1305',
].join(':');

export interface SecureListener {
  tls: TlsServer;
  h1: Server;
  h2: Http2Server;
}

function tlsOptions(material: TlsMaterial) {
  return { cert: material.cert, key: material.key };
}

export function createSecureListener(limits: BalancerLimits, threads: number, material: TlsMaterial): SecureListener {
  const h1 = createListener(limits, threads);
  const h2 = createHttp2Server({
    settings: {
      maxConcurrentStreams: H2_MAX_STREAMS,
      maxHeaderListSize: limits.maxHeaderBytes,
      enablePush: false,
    },
    // Header fields per request, as node:http's default cap (2000 lines) is far above any browser's.
    maxHeaderListPairs: 256,
    // A client that keeps opening streams beyond the limit, or sends invalid frames, is cut off.
    maxSessionRejectedStreams: 100,
    maxSessionInvalidFrames: 100,
  });
  const tls = createTlsServer({
    ...tlsOptions(material),
    ALPNProtocols: ['h2', 'http/1.1'],
    minVersion: 'TLSv1.2',
    ciphers: INTERMEDIATE_CIPHERS,
    // The profile leaves the choice to the client (it knows whether it has AES hardware).
    honorCipherOrder: false,
    // The head deadline covers the handshake too (a client that opens and never finishes it).
    handshakeTimeout: limits.headersTimeoutMs,
  });
  tls.maxConnections = h1.maxConnections;
  tls.on('tlsClientError', (_err: Error, socket: TLSSocket) => socket.destroy());
  return { tls, h1, h2 };
}

/** A new certificate for new connections; throws (keeping the old one) if Node refuses it. */
export function replaceCertificate(listener: SecureListener, material: TlsMaterial): void {
  listener.tls.setSecureContext(tlsOptions(material));
}
