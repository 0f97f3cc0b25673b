// Answers given before the request body was read through (413, 401, 403, 405, 415, a broken
// upload): the rest of the body is read and thrown away for a moment, so that the client, still
// sending, gets to read the answer instead of a connection reset; then the connection is cut.
// Node alone would either read on without end (a body nobody paused) or leave the connection
// hanging on a paused one for minutes; a hostile client must get neither.
import type { RequestHandler } from 'express';

/** How much more of an unwanted body is read, at most, and for how long. */
const LINGER_BYTES = 1024 * 1024;
const LINGER_MS = 2000;

export const lingerOnUnreadBodies: RequestHandler = (req, res, next) => {
  res.on('finish', () => {
    if (req.complete || req.socket.destroyed) return;
    let discarded = 0;
    const cut = () => req.socket.destroy();
    const timer = setTimeout(cut, LINGER_MS);
    timer.unref();
    req.on('data', (chunk: Buffer) => {
      discarded += chunk.length;
      if (discarded > LINGER_BYTES) cut();
    });
    req.on('end', () => clearTimeout(timer));
    req.on('close', () => clearTimeout(timer));
    req.resume();
  });
  next();
};
