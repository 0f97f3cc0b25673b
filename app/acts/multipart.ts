// Row 17's multipart/form-data body, read with busboy (the parser multer wraps) and fed by
// hand so that every byte is counted against the body limit as it arrives, whatever the
// headers say: a chunked body has no Content-Length to check first, and per-part limits alone
// let nine parts of a limit each through. The answer comes the moment the limit is passed;
// the rest of the body is then not read (http/linger.ts cuts the connection shortly after).
import type { Request } from 'express';
import busboy from 'busboy';
import { NO_ROOM_MESSAGE, type BodyReservation } from '../http/body-budget.ts';
import { badRequest, HttpError } from '../http/errors.ts';

export interface MultipartForm {
  /** Text fields by name (each at most once). */
  fields: Map<string, string>;
  /** The one file part, if any. */
  file: { field: string; bytes: Buffer } | undefined;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A field's text. busboy is asked for fields as latin1, that is as the bytes sent, so that
 * bytes that are not UTF-8 are refused here rather than silently turned into U+FFFD (the
 * JSON upload refuses them too). A part that named another charset of its own arrives
 * decoded by it, wider than a byte: refused as well.
 */
function utf8Field(value: string): string | undefined {
  if (/[^\x00-\xff]/.test(value)) return undefined;
  try {
    return utf8.decode(Buffer.from(value, 'latin1'));
  } catch {
    return undefined;
  }
}

/** The body's declared length when it is one to trust (at most the limit), else undefined. */
function declaredLength(req: Request, limit: number): number | undefined {
  const length = Number(req.headers['content-length']);
  return Number.isSafeInteger(length) && length <= limit && req.headers['transfer-encoding'] === undefined
    ? length
    : undefined;
}

/**
 * The file's bytes. With a known body length they go straight into one buffer of that size (the
 * file is a part of the body): a 16 MiB photo costs 16 MiB, not 32 as chunks joined at the end.
 */
class Accumulator {
  private whole: Buffer | undefined;
  private readonly chunks: Buffer[] = [];
  private length = 0;

  constructor(capacity: number | undefined) {
    this.whole = capacity === undefined ? undefined : Buffer.allocUnsafe(capacity);
  }

  add(chunk: Buffer): void {
    if (this.whole !== undefined && this.length + chunk.length > this.whole.length) {
      this.chunks.push(this.whole.subarray(0, this.length));
      this.whole = undefined;
    }
    if (this.whole !== undefined) chunk.copy(this.whole, this.length);
    else this.chunks.push(chunk);
    this.length += chunk.length;
  }

  take(): Buffer {
    return this.whole !== undefined ? this.whole.subarray(0, this.length) : Buffer.concat(this.chunks, this.length);
  }
}

export interface MultipartLimits {
  /** Bytes of the whole body. */
  bodyLimit: number;
  /** The only field name a file may come in. */
  fileField: string;
  /** Text fields at most (more is a 400). */
  maxFields: number;
  /** The memory the body may hold, grown as it arrives. */
  reservation: BodyReservation;
}

/**
 * Reads the whole form into memory (at most `bodyLimit` bytes of it). Passing the limit while
 * the file arrives is row 17's "image too large" (400); anywhere else, 413.
 */
export function readMultipart(req: Request, limits: MultipartLimits): Promise<MultipartForm> {
  return new Promise((resolve, reject) => {
    const fields = new Map<string, string>();
    let file: MultipartForm['file'];
    let inFile = false;
    let parsed = false;
    let received = 0;
    let settled = false;

    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        defCharset: 'latin1',
        limits: {
          files: 1,
          fields: limits.maxFields,
          parts: limits.maxFields + 1,
          fileSize: limits.bodyLimit,
          fieldSize: limits.bodyLimit,
        },
      });
    } catch (err) {
      reject(badRequest(`malformed multipart upload: ${(err as Error).message}`));
      return;
    }

    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > limits.bodyLimit) {
        // The bytes up to the limit still count: busboy reads them (synchronously) to tell
        // whether the limit fell inside the image.
        parser.write(chunk.subarray(0, chunk.length - (received - limits.bodyLimit)));
        fail(
          inFile
            ? badRequest('image is too large')
            : new HttpError(413, `request body is larger than the limit of ${limits.bodyLimit} bytes`),
        );
        return;
      }
      if (!limits.reservation.cover(received)) return fail(new HttpError(503, NO_ROOM_MESSAGE, 2));
      if (!parser.write(chunk)) req.pause();
    };
    const onEnd = () => parser.end();
    const onClose = () => {
      if (!req.complete) fail(badRequest('the upload was interrupted'));
    };
    const onDrain = () => req.resume();
    const detach = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      parser.off('drain', onDrain);
    };
    function fail(err: Error) {
      if (settled) return;
      settled = true;
      detach();
      req.pause();
      parser.destroy();
      reject(err);
    }
    /** Done when busboy has read the form and the file part, if any, has ended. */
    function finishIfDone() {
      if (settled || !parsed || inFile) return;
      settled = true;
      detach();
      resolve({ fields, file });
    }

    parser.on('field', (name, value, info) => {
      if (info.nameTruncated || info.valueTruncated) return fail(badRequest(`field ${name} is too large`));
      if (fields.has(name)) return fail(badRequest(`field ${name} is given twice`));
      const text = utf8Field(value);
      if (text === undefined) return fail(badRequest(`field ${name} is not valid UTF-8`));
      fields.set(name, text);
    });
    parser.on('file', (name, stream) => {
      // busboy destroys a file stream it cannot finish with an error: never an unhandled one.
      stream.on('error', (err: Error) => fail(badRequest(`malformed multipart upload: ${err.message}`)));
      if (name !== limits.fileField) {
        stream.resume();
        return fail(badRequest(`unexpected file field: ${name} (the image goes in ${limits.fileField})`));
      }
      inFile = true;
      const bytes = new Accumulator(declaredLength(req, limits.bodyLimit));
      stream.on('data', (chunk: Buffer) => bytes.add(chunk));
      stream.on('limit', () => fail(badRequest('image is too large')));
      stream.on('end', () => {
        inFile = false;
        file = { field: name, bytes: bytes.take() };
        finishIfDone();
      });
    });
    parser.on('partsLimit', () => fail(badRequest('too many parts in the form')));
    parser.on('filesLimit', () => fail(badRequest('only one file may be sent')));
    parser.on('fieldsLimit', () => fail(badRequest('too many fields in the form')));
    parser.on('error', (err: Error) => fail(badRequest(`malformed multipart upload: ${err.message}`)));
    parser.on('close', () => {
      parsed = true;
      finishIfDone();
    });
    parser.on('drain', onDrain);
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('close', onClose);
  });
}
