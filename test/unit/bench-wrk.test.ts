// bench/wrk.ts without wrk: the arguments it refuses and how it reads the report line of
// bench/wrk-report.lua (error replies are not throughput).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { figuresOf, parseWrkOutput, wrkArgs } from '../../bench/wrk.ts';

const REPORT = {
  durationUs: 2_000_000,
  requests: 10_000,
  bytes: 1_234_567,
  errors: { connect: 1, read: 2, write: 0, status: 1000, timeout: 3 },
  latencyUs: { p50: 1200, p90: 2500, p99: 9000, max: 20_000, mean: 1500.5 },
  cpuTicks: 50,
};
const OUTPUT = `Running 2s test @ http://127.0.0.1:9/x\n  1 threads and 8 connections\nWRK_REPORT ${JSON.stringify(REPORT)}\nRequests/sec:   5000.00\n`;

describe('bench/wrk.ts', () => {
  test('reads the report line among wrk output', () => {
    assert.deepEqual(parseWrkOutput(OUTPUT), REPORT);
    assert.throws(() => parseWrkOutput('Requests/sec: 1\n'), /wrk printed no report/);
  });

  test('error replies are reported and excluded from throughput', () => {
    const run = figuresOf(REPORT, 'wrk ...', { proxy: 900_000 });
    assert.equal(run.requests, 10_000);
    assert.equal(run.non2xx3xx, 1000);
    assert.equal(run.ok, 9000);
    assert.equal(run.rps, 4500); // 9000 ok replies in 2 s, not 10000
    assert.deepEqual(run.socketErrors, { connect: 1, read: 2, write: 0, timeout: 3 });
    assert.deepEqual(run.latencyMs, { p50: 1.2, p90: 2.5, p99: 9, max: 20, mean: 1.5005 });
    assert.equal(run.cpuPerRequestUs.proxy, 100); // 0.9 s of CPU over 9000 ok replies
    assert.equal(run.generatorCores, 0.25); // 50 ticks of 10 ms in 2 s
  });

  test('bounded runs to 127.0.0.1 only, with --latency and the report script', () => {
    const args = wrkArgs({ url: 'http://127.0.0.1:8000/api/v1/x', connections: 50, seconds: 5 });
    assert.deepEqual(args.slice(0, 9), ['-t', '1', '-c', '50', '-d', '5s', '--timeout', '2s', '--latency']);
    assert.match(args[10]!, /bench\/wrk-report\.lua$/);
    for (const [options, message] of [
      [{ url: 'http://example.com/', connections: 1, seconds: 1 }, /only load 127\.0\.0\.1/],
      [{ url: 'http://127.0.0.1:1/', connections: 1, seconds: 61 }, /seconds must be/],
      [{ url: 'http://127.0.0.1:1/', connections: 0, seconds: 1 }, /connections must be/],
      [{ url: 'http://127.0.0.1:1/', connections: 5000, seconds: 1 }, /connections must be/],
    ] as const) {
      assert.throws(() => wrkArgs(options), message);
    }
  });
});
