import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseLdd, sharedLibraries } from '../../scripts/base-image.ts';

describe('ldd output → the files a base image needs', () => {
  test('libraries and the dynamic loader, without the vDSO', () => {
    const output = [
      '\tlinux-vdso.so.1 (0x00007ffd6a1f2000)',
      '\tlibstdc++.so.6 => /lib/x86_64-linux-gnu/libstdc++.so.6 (0x00007f01a9c00000)',
      '\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f01a9a1e000)',
      '\t/lib64/ld-linux-x86-64.so.2 (0x00007f01a9f74000)',
      '',
    ].join('\n');
    assert.deepEqual(parseLdd(output), [
      '/lib/x86_64-linux-gnu/libstdc++.so.6',
      '/lib/x86_64-linux-gnu/libc.so.6',
      '/lib64/ld-linux-x86-64.so.2',
    ]);
  });

  test('a static binary needs nothing; a missing library is an error naming it', () => {
    assert.deepEqual(parseLdd('\tstatically linked\n'), []);
    assert.throws(() => parseLdd('\tlibfoo.so.1 => not found\n', 'addon.node'), /addon\.node needs libfoo\.so\.1/);
  });

  test('the node running here links libc and the loader (real ldd)', async () => {
    const libs = await sharedLibraries([process.execPath]);
    assert.ok(
      libs.some((lib) => /\/libc\.so\.6$/.test(lib)),
      libs.join(' '),
    );
    assert.ok(
      libs.some((lib) => /ld-linux/.test(lib)),
      libs.join(' '),
    );
  });
});
