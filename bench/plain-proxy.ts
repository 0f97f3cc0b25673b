// The "plain Node proxy" of bench:nginx, the bar issue 10 set: a node:http server and one undici
// Pool.request per replica in turn, the body read with for-await. What anyone would write in
// twenty lines, measured on the same replicas as ours and nginx. Run as its own process:
//   node --import tsx bench/plain-proxy.ts PORT UPSTREAM_PORT...
import { createServer } from 'node:http';
import { Pool, type Dispatcher } from 'undici';

const [port, ...upstreams] = process.argv.slice(2).map(Number);
const pools = upstreams.map((p) => new Pool(`http://127.0.0.1:${p}`, { connections: 128 }));
let next = 0;

createServer(async (req, res) => {
  const pool = pools[next++ % pools.length]!;
  try {
    const bodyless = req.method === 'GET' || req.method === 'HEAD';
    const up = await pool.request({
      method: req.method as Dispatcher.HttpMethod,
      path: req.url!,
      headers: req.headers,
      body: bodyless ? null : req,
    });
    const { connection: _c, 'keep-alive': _k, 'transfer-encoding': _t, ...headers } = up.headers;
    res.writeHead(up.statusCode, headers);
    for await (const chunk of up.body) res.write(chunk);
    res.end();
  } catch {
    if (!res.headersSent) res.writeHead(502).end();
    else res.destroy();
  }
}).listen(port, '127.0.0.1', () => console.log(`plain proxy on 127.0.0.1:${port}`));
process.on('SIGTERM', () => process.exit(0));
