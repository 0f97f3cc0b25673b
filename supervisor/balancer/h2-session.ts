// Limits for one HTTP/2 connection, on top of what nghttp2 holds it to (the advertised stream
// and header-list limits, invalid frames, refused streams). The head deadline becomes a
// session deadline until the first stream; an idle session (no stream open) closes after the
// keep-alive timeout; and a client that resets its own streams over and over (the "rapid
// reset" attack: each stream costs us a request, the reset costs it nothing) is sent GOAWAY
// and cut off.
import { constants, type Http2Session, type ServerHttp2Stream } from 'node:http2';
import type { BalancerLimits } from './settings.ts';

/** Streams a client may reset within RESET_WINDOW_MS before the connection is closed. */
export const MAX_RESETS = 200;
const RESET_WINDOW_MS = 10_000;

export function guardSession(session: Http2Session, limits: BalancerLimits, now: () => number): void {
  let open = 0;
  let spoke = false;
  let resets = 0;
  let windowStart = now();
  session.on('error', () => {}); // a broken connection ends like a closed one
  session.setTimeout(limits.headersTimeoutMs);
  session.on('timeout', () => {
    if (!spoke) return void session.destroy();
    if (open === 0) session.close();
  });
  session.on('stream', (stream: ServerHttp2Stream) => {
    if (!spoke) {
      spoke = true;
      session.setTimeout(limits.keepAliveTimeoutMs);
    }
    open++;
    stream.once('aborted', () => {
      const t = now();
      if (t - windowStart > RESET_WINDOW_MS) {
        windowStart = t;
        resets = 0;
      }
      if (++resets > MAX_RESETS && !session.destroyed) {
        session.goaway(constants.NGHTTP2_ENHANCE_YOUR_CALM);
        session.destroy();
      }
    });
    stream.once('close', () => open--);
  });
}
