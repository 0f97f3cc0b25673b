// A site on another origin for the cross-site tests: an HTTP server on 127.0.0.1 that serves
// the pages a test gives it, reachable as http://127.0.0.1:<port> (same site as the app, on
// another port) and as http://localhost:<port> (another site).
import { createServer, type Server } from 'node:http';
import { freePorts } from './processes.ts';

export interface AttackerSite {
  port: number;
  /** Serves `html` at `path` from now on. */
  page(path: string, html: string): void;
  close(): Promise<void>;
}

export async function attackerSite(): Promise<AttackerSite> {
  const pages = new Map<string, string>();
  const server: Server = createServer((req, res) => {
    const html = pages.get(req.url ?? '');
    res.writeHead(html === undefined ? 404 : 200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html ?? 'not found');
  });
  const [port] = await freePorts(1);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    port: port!,
    page: (path, html) => void pages.set(path, html),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
