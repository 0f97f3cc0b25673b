// /proc parsing for the process runtime's usage figures (supervisor/runtime/proc-usage.ts), and
// this very process read through it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  CLOCK_TICKS,
  cpuTicksOf,
  ownBytesOf,
  procUsage,
  rssBytesOf,
  statFieldsOf,
} from '../../supervisor/runtime/proc-usage.ts';

describe('proc usage', () => {
  test('a stat line whose command holds spaces and parentheses: utime + stime', () => {
    const line =
      '4242 (node (my app) x) S 1 4242 4242 0 -1 4194560 2810 0 0 0 150 37 0 0 20 0 11 0 12345 1120000000 16000 18446744073709551615';
    const fields = statFieldsOf(line);
    assert.equal(fields[0], 'S');
    assert.equal(cpuTicksOf(fields), 187);
  });

  test('VmRSS in kB → bytes; absent (a zombie) → undefined', () => {
    assert.equal(rssBytesOf('Name:\tnode\nVmRSS:\t   51200 kB\nThreads:\t11\n'), 51200 * 1024);
    assert.equal(rssBytesOf('Name:\tnode\nState:\tZ (zombie)\n'), undefined);
    // What a memory limit holds: its anonymous and shared-memory pages, not its mapped files.
    assert.equal(
      ownBytesOf('VmRSS:\t  164968 kB\nRssAnon:\t  101660 kB\nRssFile:\t   63308 kB\nRssShmem:\t       4 kB\n'),
      (101660 + 4) * 1024,
    );
    assert.equal(ownBytesOf('Name:\tnode\nState:\tZ (zombie)\n'), undefined);
  });

  test('this process: CPU seconds grow with work, memory is plausible; a pid that is gone → undefined', async () => {
    const before = (await procUsage(process.pid))!;
    const until = Date.now() + 300;
    while (Date.now() < until) Math.sqrt(Math.random());
    const after = (await procUsage(process.pid))!;
    assert.ok(
      after.cpuSeconds - before.cpuSeconds >= 0.1,
      `${before.cpuSeconds} → ${after.cpuSeconds} (${CLOCK_TICKS} ticks/s)`,
    );
    assert.ok(after.memoryBytes > 10e6 && after.memoryBytes < 4e9);
    assert.equal(await procUsage(2 ** 22 + 1), undefined);
  });
});
