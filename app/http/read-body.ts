// A request body into memory, counting bytes against the limit as they arrive, whatever the
// headers say. Not body-parser's raw(): past the limit it reads the whole rest of the body
// before calling back, so a never-ending chunked body (or a Content-Length of a gigabyte) was
// answered never (or after minutes); here the answer is immediate and http/linger.ts then
// cuts the connection.
import type { Request } from 'express';
import { NO_ROOM_MESSAGE, reserveBodyMemory } from './body-budget.ts';
import { badRequest, HttpError } from './errors.ts';

function tooLarge(limit: number): HttpError {
  return new HttpError(413, `request body is larger than the limit of ${limit} bytes`);
}

export async function readBody(req: Request, limit: number): Promise<Buffer> {
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
    throw new HttpError(415, `Content-Encoding ${encoding} is not supported: send the body as it is`);
  }
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) throw tooLarge(limit);
  // Not a byte is read (the socket stays paused) until the process has room for this body.
  const reservation = await reserveBodyMemory(req, limit);
  // With a Content-Length the bytes go straight into one buffer of that size (no second copy
  // to join chunks: a 16 MiB body costs 16 MiB, not 32); chunked bodies are joined at the end.
  const length = declared === undefined ? undefined : Number(declared);
  let whole = length !== undefined && Number.isSafeInteger(length) ? Buffer.allocUnsafe(length) : undefined;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const detach = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      req.off('error', onError);
    };
    const onData = (chunk: Buffer) => {
      if (received + chunk.length > limit) {
        detach();
        req.pause();
        reject(tooLarge(limit));
        return;
      }
      if (!reservation.cover(received + chunk.length)) {
        detach();
        req.pause();
        reject(new HttpError(503, NO_ROOM_MESSAGE, 2));
        return;
      }
      if (whole !== undefined && received + chunk.length > whole.length) {
        // Node's parser delivers exactly Content-Length bytes; should it not, join chunks.
        chunks.push(whole.subarray(0, received));
        whole = undefined;
      }
      if (whole !== undefined) chunk.copy(whole, received);
      else chunks.push(chunk);
      received += chunk.length;
    };
    const onEnd = () => {
      detach();
      resolve(whole !== undefined ? whole.subarray(0, received) : Buffer.concat(chunks, received));
    };
    const onClose = () => {
      if (req.complete) return;
      detach();
      reject(badRequest('the request body was cut off'));
    };
    const onError = (err: Error) => {
      detach();
      reject(badRequest(`the request body could not be read: ${err.message}`));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('close', onClose);
    req.on('error', onError);
  });
}
