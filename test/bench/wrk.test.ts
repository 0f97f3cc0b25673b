// bench/wrk.ts and bench/cpu.ts against a real wrk and a real server on 127.0.0.1: every third
// reply is a 500, which must be counted as an error and left out of throughput, and the
// server's CPU time per request must be measured (a server that burns CPU per request shows it).
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Worker } from 'node:worker_threads';
import { after, before, describe, test } from 'node:test';
import { cpuMicros } from '../../bench/cpu.ts';
import { WRK, wrk } from '../../bench/wrk.ts';
import { toolAvailable } from '../deploy/exec.ts';
import { skipUnless } from '../helpers/requirements.ts';

const skip = skipUnless(await toolAvailable(WRK.split('/').pop()!, 'apt-get install wrk'), 'wrk');

/**
 * Spins until this thread has spent `ms` of CPU (not of wall time: on a loaded machine a thread
 * spinning for 1 ms of wall time may get less than that of CPU): CPU the meter must see.
 */
function burn(ms: number): void {
  const cpu = () => {
    const { user, system } = process.threadCpuUsage();
    return (user + system) / 1000;
  };
  const end = cpu() + ms;
  while (cpu() < end);
}

describe('bench/wrk.ts with a real wrk (bounded: 1 s, 4 connections)', { skip }, () => {
  let server: Server;
  let url = '';
  let served = 0;
  before(async () => {
    server = createServer((_req, res) => {
      served += 1;
      burn(0.2);
      res.writeHead(served % 3 === 0 ? 500 : 200, { 'content-length': '2' }).end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/x`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test('500 replies are counted apart and excluded from throughput; CPU per request is measured', async () => {
    served = 0;
    const run = await wrk({ url, connections: 4, seconds: 1, cpu: { server: [process.pid] } });
    assert.ok(run.requests > 100, `${run.requests} requests`);
    // wrk stops mid-flight: the server may have answered a few more than wrk counted.
    assert.ok(Math.abs(run.non2xx3xx - Math.floor(served / 3)) <= 8, `${run.non2xx3xx} errors for ${served} served`);
    assert.equal(run.ok, run.requests - run.non2xx3xx);
    assert.ok(Math.abs(run.rps - run.ok / run.seconds) < 1e-6);
    assert.ok(
      run.latencyMs.p50 > 0 && run.latencyMs.p50 <= run.latencyMs.p90 && run.latencyMs.p90 <= run.latencyMs.p99,
    );
    // 0.2 ms of CPU per reply, errors included: at least that per ok reply, less the 10 ms
    // clock tick the whole measurement may lose.
    assert.ok(run.cpuPerRequestUs.server! >= 200 - 10_000 / run.ok, `${run.cpuPerRequestUs.server} µs per request`);
    // wrk's own CPU was read (in 10 ms ticks: a light second may round to 0).
    assert.ok(run.generatorCores >= 0 && run.generatorCores < 1.5, `wrk used ${run.generatorCores} cores`);
    assert.match(
      run.command,
      /^\S*wrk -t 1 -c 4 -d 1s --timeout 2s --latency -s \S+wrk-report\.lua http:\/\/127\.0\.0\.1:\d+\/x$/,
    );
  });

  test('the CPU meter sees another thread of the process (a worker thread spending 300 ms of CPU)', async () => {
    const before = cpuMicros(process.pid)!;
    const spin =
      'const cpu = () => { const u = process.threadCpuUsage(); return (u.user + u.system) / 1000; }; const end = cpu() + 300; while (cpu() < end);';
    const worker = new Worker(spin, { eval: true });
    await new Promise((resolve) => worker.once('exit', resolve));
    assert.ok(cpuMicros(process.pid)! - before >= 250_000, 'at least 250 ms of CPU counted');
  });
});
