// bench/syscalls.ts reads perf stat's CSV: the counts by system call, `total` from the
// raw_syscalls tracepoint, and a thread that never ran counted as no calls.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePerfCsv } from '../../bench/syscalls.ts';

test("perf stat's CSV: counts by system call, the raw tracepoint as the total", () => {
  const csv = [
    '',
    '413007,,raw_syscalls:sys_enter,5012345678,100.00,,',
    '200001,,syscalls:sys_enter_read,5012345678,100.00,,',
    '100000,,syscalls:sys_enter_writev,5012345678,100.00,,',
    '<not counted>,,syscalls:sys_enter_accept4,0,100.00,,',
    'some words perf printed',
  ].join('\n');
  assert.deepEqual(parsePerfCsv(csv), { total: 413007, read: 200001, writev: 100000, accept4: 0 });
});
