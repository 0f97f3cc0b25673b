// Security headers for the web UI and the dashboard, as the balancer and the admin listener
// serve them: the same set the app's own copy of the UI gets (helmet with the options in
// app/http-app.ts), worked out once at start instead of by middleware on every response.
import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet from 'helmet';

function compute(): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {};
  const res = {
    setHeader(name: string, value: unknown) {
      headers[name.toLowerCase()] = String(value);
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()];
    },
  };
  let failed: unknown;
  // The UI may be served over plain HTTP by IP address: upgrading its requests would break it.
  // HSTS is added per response, over TLS only and as configured (balancer.tls).
  helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } }, strictTransportSecurity: false })(
    { headers: {} } as IncomingMessage,
    res as unknown as ServerResponse,
    (err?: unknown) => {
      failed = err;
    },
  );
  if (failed) throw failed;
  return Object.freeze(headers);
}

export const UI_SECURITY_HEADERS = compute();
