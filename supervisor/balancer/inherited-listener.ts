// A balancer thread's own copy of an inherited listening socket. Threads share the process's
// fds, and a thread that exits closes every handle it owns: were all threads to listen on fd 3
// itself, the first to die (or close) would close it under the others (libuv then aborts, or
// accepts on whatever file reuses the number; checked on Node 24). Node has no dup(), so each
// thread gets a duplicate the way cluster workers get theirs: over a child's IPC channel
// (SCM_RIGHTS). The child opens the fd without listening (it accepts nothing), sends it and
// exits; the primary keeps the original for restarted threads.
import { spawn } from 'node:child_process';

const HELPER = [
  "const net = require('node:net');",
  'const socket = new net.Socket({ fd: 3, readable: false, writable: false });',
  // The raw handle travels as-is (net.Native), not as a net.Socket the receiver would read.
  "process.send('listener', socket._handle, () => process.disconnect());",
].join('\n');

const TIMEOUT_MS = 15_000;

/** A handle on a duplicate of listening socket `fd`, for `server.listen(handle)`. */
export function duplicateListener(fd: number): Promise<object> {
  return new Promise((resolve, reject) => {
    // The helper's fd 3 is ours `fd`; its IPC channel is fd 4 (Node's channel, 'ipc').
    const child = spawn(process.execPath, ['-e', HELPER], {
      stdio: ['ignore', 'ignore', 'pipe', fd, 'ipc'],
      env: { PATH: process.env.PATH ?? '' },
      execArgv: [],
    } as Parameters<typeof spawn>[2]);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no copy of inherited fd ${fd} within ${TIMEOUT_MS} ms`));
    }, TIMEOUT_MS);
    child.once('message', (_message, handle) => {
      clearTimeout(timer);
      if (handle) resolve(handle as object);
      else reject(new Error(`the helper sent no handle for fd ${fd}`));
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      // After a handle arrived this is a no-op (a promise settles once).
      reject(
        new Error(
          `copying inherited fd ${fd} failed (helper exited ${code ?? signal}): ${stderr.trim() || 'no output'}`,
        ),
      );
    });
  });
}
