// Issue 16: what compression at the balancer costs and saves on a 100-act listing. The real app
// (process runtime, the shipped config, SQLite) with 100 acts in one category, each with an
// image of --image-bytes random bytes (photos do not compress; their base64 in the listing is
// what a client really downloads); wrk asks for GET /api/v1/categories/<c>/acts with
// Accept-Encoding identity, gzip and br in turn, the order rotating each round. Reported per
// encoding: the body's bytes, the balancer's CPU per request (the supervisor process: the
// balancer is its worker thread) and throughput. Then, in this process, the levels the config
// could choose on the same body: time and size per call.
//
//   npm run bench:compression -- [--rounds 2] [--seconds 5] [--connections 16] [--image-bytes 4096]
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { request } from 'undici';
import { DEFAULT_EDGE } from '../supervisor/balancer/settings.ts';
import { shippedConfigFile } from '../testkit/shipped-config.ts';
import { SupervisorSuite } from '../testkit/supervisor.ts';
import { ResultRecorder, toolVersion } from './results.ts';
import { median } from './stats.ts';
import { WRK, wrk, type WrkRun } from './wrk.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '2' },
    seconds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '16' },
    'image-bytes': { type: 'string', default: '4096' },
  },
});
const ROUNDS = Math.max(2, Math.min(5, Number(values.rounds)));
const SECONDS = Math.min(20, Number(values.seconds));
const CONNECTIONS = Math.min(64, Number(values.connections));
const IMAGE_BYTES = Math.min(256 * 1024, Number(values['image-bytes']));
const LISTEN = 28400;
const ADMIN = 28401;
const BASE = `http://127.0.0.1:${LISTEN}`;
const CATEGORY = 'kindness';
const LISTING = `${BASE}/api/v1/categories/${CATEGORY}/acts`;
const ENCODINGS = ['identity', 'gzip', 'br'] as const;
type Enc = (typeof ENCODINGS)[number];

async function call(
  method: string,
  url: string,
  body?: unknown,
  cookie = '',
): Promise<{ status: number; text: string; cookie: string }> {
  const res = await request(url, {
    method: method as 'POST',
    headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const set = res.headers['set-cookie'];
  return {
    status: res.statusCode,
    text: await res.body.text(),
    cookie: (Array.isArray(set) ? set : set ? [set] : []).map((c) => c.split(';')[0]).join('; '),
  };
}

async function seed(): Promise<void> {
  const password = 'a'.repeat(40);
  if ((await call('POST', `${BASE}/api/v1/users`, { username: 'bench', password })).status !== 201)
    throw new Error('sign-up failed');
  const { cookie } = await call('POST', `${BASE}/api/v1/sessions`, { username: 'bench', password });
  if ((await call('POST', `${BASE}/api/v1/categories`, [CATEGORY], cookie)).status !== 201)
    throw new Error('category failed');
  for (let i = 1; i <= 100; i++) {
    const image = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(IMAGE_BYTES - 4)]);
    const act = {
      actId: i,
      username: 'bench',
      timestamp: `${String((i % 28) + 1).padStart(2, '0')}-06-2026:${String(i % 60).padStart(2, '0')}-15-10`,
      caption: `Helped a neighbour carry groceries up the stairs, act number ${i}`,
      categoryName: CATEGORY,
      imgB64: image.toString('base64'),
    };
    const res = await call('POST', `${BASE}/api/v1/acts`, act, cookie);
    if (res.status !== 201) throw new Error(`act ${i}: ${res.status} ${res.text}`);
  }
}

/** The body as sent for `encoding` (undici does not decode it). */
async function bodyBytes(encoding: Enc): Promise<{ bytes: number; contentEncoding: string }> {
  const res = await request(LISTING, { headers: { 'accept-encoding': encoding } });
  const body = Buffer.from(await res.body.arrayBuffer());
  if (res.statusCode !== 200) throw new Error(`listing: ${res.statusCode}`);
  return { bytes: body.length, contentEncoding: String(res.headers['content-encoding'] ?? 'identity') };
}

/** Each level the config could choose, on the identity body: µs per call (median of runs) and bytes. */
function levels(body: Buffer): Array<{ level: string; us: number; bytes: number }> {
  const choices: Array<[string, () => Buffer]> = [
    ...[1, 5, 9].map(
      (level) =>
        [
          `gzip ${level}${level === DEFAULT_EDGE.compression.gzipLevel ? ' (default)' : ''}`,
          () => gzipSync(body, { level }),
        ] as [string, () => Buffer],
    ),
    ...[1, 4, 6, 9, 11].map(
      (q) =>
        [
          `brotli ${q}${q === DEFAULT_EDGE.compression.brotliQuality ? ' (default)' : ''}`,
          () =>
            brotliCompressSync(body, {
              params: { [constants.BROTLI_PARAM_QUALITY]: q, [constants.BROTLI_PARAM_SIZE_HINT]: body.length },
            }),
        ] as [string, () => Buffer],
    ),
  ];
  return choices.map(([level, run]) => {
    const times: number[] = [];
    let bytes = 0;
    const deadline = performance.now() + 1500;
    for (let i = 0; i < 50 && (i < 3 || performance.now() < deadline); i++) {
      const started = performance.now();
      bytes = run().length;
      times.push((performance.now() - started) * 1000);
    }
    return { level, us: median(times), bytes };
  });
}

async function main(): Promise<void> {
  const recorder = new ResultRecorder('compression', 'Compression at the balancer: a 100-act listing', {
    wrk: toolVersion(WRK, ['-v']),
  });
  const suite = new SupervisorSuite({
    suite: 'bench-compression',
    adminPort: ADMIN,
    // The shipped config, its rate limits off (wrk is one address asking thousands of times).
    config: (dir) =>
      shippedConfigFile(undefined, {
        suite: 'bench-compression',
        dir,
        listenPort: LISTEN,
        adminPort: ADMIN,
        actsPort: 28410,
        usersPort: 28420,
        overrides: { balancer: { threads: 1 } },
      }),
    ready: { acts: 1, users: 1 },
    readyTimeoutMs: 60_000,
  });
  const runs: Record<Enc, WrkRun[]> = { identity: [], gzip: [], br: [] };
  const sizes = {} as Record<Enc, { bytes: number; contentEncoding: string }>;
  let identityBody = Buffer.alloc(0);
  await suite.run(async () => {
    await seed();
    for (const enc of ENCODINGS) sizes[enc] = await bodyBytes(enc);
    identityBody = Buffer.from(await (await request(LISTING)).body.arrayBuffer());
    const pid = suite.sup.child.pid!;
    for (const enc of ENCODINGS)
      await wrk({ url: LISTING, connections: CONNECTIONS, seconds: 1, headers: { 'accept-encoding': enc } }); // warm-up
    for (let round = 0; round < ROUNDS; round++) {
      const order = ENCODINGS.map((_, i) => ENCODINGS[(i + round) % ENCODINGS.length]!);
      for (const enc of order) {
        const run = await wrk({
          url: LISTING,
          connections: CONNECTIONS,
          seconds: SECONDS,
          headers: { 'accept-encoding': enc },
          cpu: { balancer: [pid] },
        });
        runs[enc].push(run);
        console.log(
          `round ${round + 1} ${enc}: ${run.rps.toFixed(0)} req/s, balancer ${run.cpuPerRequestUs.balancer!.toFixed(0)} µs/req, ${run.non2xx3xx} errors`,
        );
      }
    }
  });
  const perEnc = ENCODINGS.map((enc) => {
    const cpu = median(runs[enc].map((r) => r.cpuPerRequestUs.balancer!));
    return {
      encoding: enc,
      ...sizes[enc],
      balancerUsPerRequest: cpu,
      rps: median(runs[enc].map((r) => r.rps)),
      runs: runs[enc],
    };
  });
  const identity = perEnc[0]!;
  const table = perEnc.map((e) => [
    e.encoding,
    e.contentEncoding,
    e.bytes.toLocaleString('en'),
    `${((e.bytes / identity.bytes) * 100).toFixed(1)} %`,
    `${e.balancerUsPerRequest.toFixed(0)} µs`,
    `${(e.balancerUsPerRequest - identity.balancerUsPerRequest).toFixed(0)} µs`,
    e.rps.toFixed(0),
  ]);
  const measured = levels(identityBody);
  const br = perEnc[2]!;
  const gz = perEnc[1]!;
  await recorder.write({
    summary: [
      {
        figure: `100-act listing (${IMAGE_BYTES.toLocaleString('en')}-byte images) through the balancer, brotli`,
        value: `${br.bytes.toLocaleString('en')} of ${identity.bytes.toLocaleString('en')} bytes (${((br.bytes / identity.bytes) * 100).toFixed(0)} %), +${(br.balancerUsPerRequest - identity.balancerUsPerRequest).toFixed(0)} µs balancer CPU per request`,
      },
      {
        figure: 'the same, gzip',
        value: `${gz.bytes.toLocaleString('en')} bytes (${((gz.bytes / identity.bytes) * 100).toFixed(0)} %), +${(gz.balancerUsPerRequest - identity.balancerUsPerRequest).toFixed(0)} µs per request`,
      },
    ],
    tables: [
      {
        caption: `GET /api/v1/categories/${CATEGORY}/acts (100 acts), wrk ${CONNECTIONS} connections × ${SECONDS} s, ${ROUNDS} rounds (medians); CPU of the supervisor process per request`,
        columns: [
          'Accept-Encoding',
          'sent as',
          'body bytes',
          'of identity',
          'balancer CPU / request',
          'added',
          'req/s',
        ],
        rows: table,
      },
      {
        caption: 'The levels the config could choose, on the same body in one call (this process, median)',
        columns: ['level', 'time per call', 'bytes', 'of identity'],
        rows: measured.map((m) => [
          m.level,
          `${m.us.toFixed(0)} µs`,
          m.bytes.toLocaleString('en'),
          `${((m.bytes / identity.bytes) * 100).toFixed(1)} %`,
        ]),
      },
    ],
    figures: {
      imageBytes: IMAGE_BYTES,
      connections: CONNECTIONS,
      seconds: SECONDS,
      rounds: ROUNDS,
      encodings: perEnc,
      levels: measured,
    },
  });
}

await main();
