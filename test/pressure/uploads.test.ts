// Pressure row (e): 16 photos of about 10 MB uploaded at once through the balancer to the real
// acts service (shipped config, real containers): every one gets 201. Before the edge buffered
// bodies, the balancer paused clients for the replicas' backpressure and counted its own pause
// as the client's silence: 7-8 of 16 got 408. Ports 33000-33049.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { photoJpeg } from '../../testkit/photos.ts';
import { shippedSetup } from '../../testkit/shipped-config.ts';
import { TEST_ENGINE } from '../../testkit/engine.ts';
import { ADMIN_POST, http, supervisorSuite } from '../../testkit/supervisor.ts';
import { skipUnlessEngine } from '../helpers/requirements.ts';
import { eventsOf, recordRow, siteUser, uploadPhoto } from './support.ts';

const LISTEN = 33000;
const ADMIN = 33001;
const UPLOADS = 16;
const REPLICAS = Number(process.env.PRESSURE_ACTS ?? 2);
const skip = await skipUnlessEngine();

describe(`pressure: ${UPLOADS} photos of 10 MB at once through the balancer`, { skip, timeout: 600_000 }, () => {
  const engine = skip ? undefined : TEST_ENGINE.client();
  const base = `http://127.0.0.1:${LISTEN}`;
  const { admin } = supervisorSuite(
    shippedSetup(engine, {
      suite: 'pressure-uploads',
      listenPort: LISTEN,
      adminPort: ADMIN,
      actsPort: 33010,
      usersPort: 33030,
    }),
  );

  test(`every upload answered 201, none 408, none 5xx (acts at ${REPLICAS} replicas)`, async (t) => {
    const scaled = await http('POST', `${admin.base}/services/acts/scale`, {
      ...ADMIN_POST,
      headers: { ...ADMIN_POST.headers, 'content-type': 'application/json' },
      body: JSON.stringify({ replicas: REPLICAS }),
    });
    assert.equal(scaled.status, 200, scaled.text);
    await admin.waitReady('acts', REPLICAS, 60_000);
    // Four distinct photos of about 10 MB (5600 × 4200, grain like a phone's sensor), each sent four times.
    // Made before logging in: painting them holds this process's event loop for seconds, and
    // fetch's keep-alive connection from the log-in, idle meanwhile, reached the balancer's
    // keep-alive timeout unnoticed; the first upload went out on it as it closed (EPIPE, CI).
    const photos = await Promise.all(
      [0, 1, 2, 3].map((seed) => photoJpeg({ width: 5600, height: 4200, quality: 92, seed })),
    );
    const user = await siteUser(base, 'uploader', 'storm');
    t.diagnostic(`photo sizes: ${photos.map((p) => (p.length / 1e6).toFixed(1)).join(', ')} MB`);
    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: UPLOADS }, (_, i) => uploadPhoto(base, user, photos[i % photos.length]!, `storm ${i}`)),
    );
    const statuses = results.map((r) => r.status || r.error);
    t.diagnostic(
      `${UPLOADS} uploads in ${Date.now() - started} ms: ${JSON.stringify(results.map((r) => `${r.status || r.error} ${r.ms} ms`))}`,
    );
    const failed = await eventsOf(admin, ['replica.failed']);
    const others: Record<string, number> = {};
    for (const s of statuses) if (s !== 201) others[String(s)] = (others[String(s)] ?? 0) + 1;
    await recordRow('uploads', {
      uploads: UPLOADS,
      photoMb: Math.round(photos.reduce((a, p) => a + p.length, 0) / photos.length / 1e5) / 10,
      actsReplicas: REPLICAS,
      created: statuses.filter((s) => s === 201).length,
      others: JSON.stringify(others),
      seconds: Math.round((Date.now() - started) / 100) / 10,
      replicasKilled: failed.length,
    });
    assert.deepEqual(statuses, Array(UPLOADS).fill(201));
    assert.deepEqual(
      failed.map((e) => e.reason),
      [],
      'no replica failed under the storm',
    );
  });
});
