// An HTTP/1.1 response parser of our own, on public APIs only: the replica side's fallback when
// Node's internal llhttp binding (llhttp.ts) is missing or behaves otherwise than the start-up
// self-test expects (upstream-parser.ts). Strict like llhttp without lenient flags: CRLF line
// ends, no obsolete line folding, Content-Length with Transfer-Encoding or two differing
// Content-Lengths, bad chunk sizes and a head over the limit are errors, never guessed at.
// Framing per RFC 9112 section 6.3, for responses: HEAD, 1xx, 204 and 304 have no body;
// chunked when Transfer-Encoding ends in it; else Content-Length; else until the connection
// closes. 1xx heads are handed over and followed by the final response, as llhttp does.
//
// A state machine: `state` names where the parser is in a message, and each byte run is
// consumed by the step for that state; `STEPS` lists them all.

/** What the connection answers a head with: 0 a body may follow, 1 none does (HEAD), -1 refuse it. */
export type HeadVerdict = 0 | 1 | -1;

export interface ResponseSink {
  onHeadersComplete(
    status: number,
    reason: string,
    headers: string[],
    keepAlive: boolean,
    upgrade: boolean,
  ): HeadVerdict;
  onBody(chunk: Buffer): void;
  onMessageComplete(): void;
}

/** An error as llhttp's binding reports one: a message and a code. */
export class ParseError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

export type ParserState =
  | 'status-line'
  | 'headers'
  | 'body-length'
  | 'body-close'
  | 'chunk-size'
  | 'chunk-data'
  | 'chunk-end'
  | 'trailers'
  /** A response said the connection closes after it: nothing more may come. */
  | 'closed'
  | 'failed';

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const STATUS_LINE = /^HTTP\/1\.([01]) ([0-9]{3})(?: ([^\r\n]*))?$/;
const CRLF = 0x0a;
/** A chunk-size line (with extensions) longer than this is an attack, not a size. */
const MAX_CHUNK_LINE = 4096;

export class ResponseParser {
  state: ParserState = 'status-line';
  readonly #sink: ResponseSink;
  readonly #maxHeaderBytes: number;
  /** Bytes of an unfinished line (head lines, chunk sizes, trailers). */
  #line: Buffer[] = [];
  #lineBytes = 0;
  #headBytes = 0;
  #status = 0;
  #reason = '';
  #minor = 1;
  #headers: string[] = [];
  /** Body bytes left of the message (length framing) or of the chunk. */
  #remaining = 0;
  /** The message being read keeps the connection open after it. */
  #keepAlive = true;

  constructor(sink: ResponseSink, maxHeaderBytes: number) {
    this.#sink = sink;
    this.#maxHeaderBytes = maxHeaderBytes;
  }

  /** Feeds bytes; the number consumed (all of them), or the error that stopped the parser. */
  execute(data: Buffer): number | ParseError {
    if (this.state === 'failed') return new ParseError('HPE_CLOSED_CONNECTION', 'the parser already failed');
    let at = 0;
    try {
      while (at < data.length) at = STEPS[this.state](this, data, at);
    } catch (err) {
      this.state = 'failed';
      if (err instanceof ParseError) return err;
      throw err;
    }
    return data.length;
  }

  /** The connection ended: completes a body delimited by it; an error if a message was cut. */
  finish(): ParseError | undefined {
    if (this.state === 'body-close') {
      this.state = 'closed';
      this.#sink.onMessageComplete();
      return undefined;
    }
    if ((this.state === 'status-line' && this.#lineBytes === 0) || this.state === 'closed') return undefined;
    this.state = 'failed';
    return new ParseError('HPE_INVALID_EOF_STATE', 'the connection ended inside a response');
  }

  // ---- steps, one per state: each consumes from `at` and returns where it stopped ----------

  /** Collects one CRLF-ended line; undefined until it is whole (the rest is kept). */
  lineFrom(data: Buffer, at: number, limit: number, code: string): { line: string; next: number } | undefined {
    const end = data.indexOf(CRLF, at);
    const piece = data.subarray(at, end === -1 ? data.length : end + 1);
    this.#lineBytes += piece.length;
    if (this.#lineBytes > limit) throw new ParseError(code, `a line of the response is longer than ${limit} bytes`);
    if (end === -1) {
      this.#line.push(piece);
      return undefined;
    }
    const whole = this.#line.length === 0 ? piece : Buffer.concat([...this.#line, piece]);
    this.#line = [];
    this.#lineBytes = 0;
    if (whole.length < 2 || whole[whole.length - 2] !== 0x0d)
      throw new ParseError('HPE_LF_EXPECTED', 'a line of the response does not end in CRLF');
    return { line: whole.toString('latin1', 0, whole.length - 2), next: end + 1 };
  }

  /** A line of the head (or trailers): the whole head is held to `maxHeaderBytes`. */
  headLine(data: Buffer, at: number): { line: string; next: number } | undefined {
    const got = this.lineFrom(data, at, this.#maxHeaderBytes - this.#headBytes, 'HPE_HEADER_OVERFLOW');
    if (got !== undefined) this.#headBytes += got.line.length + 2;
    return got;
  }

  statusLine(data: Buffer, at: number): number {
    const got = this.headLine(data, at);
    if (got === undefined) return data.length;
    const match = STATUS_LINE.exec(got.line);
    if (!match) throw new ParseError('HPE_INVALID_CONSTANT', `not an HTTP/1.x status line: ${got.line.slice(0, 40)}`);
    this.#minor = Number(match[1]);
    this.#status = Number(match[2]);
    if (this.#status < 100) throw new ParseError('HPE_INVALID_STATUS', `status ${this.#status}`);
    this.#reason = match[3] ?? '';
    this.#headers = [];
    this.state = 'headers';
    return got.next;
  }

  headerLine(data: Buffer, at: number): number {
    const got = this.headLine(data, at);
    if (got === undefined) return data.length;
    const { line, next } = got;
    if (line === '') return this.headComplete(next);
    if (line.startsWith(' ') || line.startsWith('\t'))
      throw new ParseError('HPE_INVALID_HEADER_TOKEN', 'obsolete line folding in a header');
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    if (!TOKEN.test(name)) throw new ParseError('HPE_INVALID_HEADER_TOKEN', `not a header: ${line.slice(0, 40)}`);
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    if (/[\0\r\n]/.test(value)) throw new ParseError('HPE_INVALID_HEADER_TOKEN', `a control character in ${name}`);
    this.#headers.push(name, value);
    return next;
  }

  headComplete(next: number): number {
    this.#headBytes = 0;
    const status = this.#status;
    const { chunked, length, connection } = bodyFraming(this.#headers);
    const bodiless = status < 200 || status === 204 || status === 304;
    const untilClose = !bodiless && chunked !== true && length === undefined;
    const keepAlive =
      !untilClose && (this.#minor === 1 ? !connection.includes('close') : connection.includes('keep-alive'));
    this.#keepAlive = keepAlive;
    const verdict = this.#sink.onHeadersComplete(status, this.#reason, this.#headers, keepAlive, status === 101);
    if (verdict === -1) throw new ParseError('HPE_CB_HEADERS_COMPLETE', 'the response head was refused');
    if (bodiless || verdict === 1 || length === 0) return this.complete(next);
    if (chunked === true) this.state = 'chunk-size';
    else if (length !== undefined) {
      this.#remaining = length;
      this.state = 'body-length';
    } else this.state = 'body-close';
    return next;
  }

  complete(next: number): number {
    this.state = this.#keepAlive ? 'status-line' : 'closed';
    this.#sink.onMessageComplete();
    return next;
  }

  bodyLength(data: Buffer, at: number): number {
    const take = Math.min(this.#remaining, data.length - at);
    this.#remaining -= take;
    this.#sink.onBody(data.subarray(at, at + take));
    return this.#remaining === 0 ? this.complete(at + take) : at + take;
  }

  bodyClose(data: Buffer, at: number): number {
    this.#sink.onBody(at === 0 ? data : data.subarray(at));
    return data.length;
  }

  chunkSize(data: Buffer, at: number): number {
    const got = this.lineFrom(data, at, MAX_CHUNK_LINE, 'HPE_INVALID_CHUNK_SIZE');
    if (got === undefined) return data.length;
    const size = /^([0-9A-Fa-f]{1,13})[ \t]*(?:;.*)?$/.exec(got.line);
    if (!size) throw new ParseError('HPE_INVALID_CHUNK_SIZE', `not a chunk size: ${got.line.slice(0, 40)}`);
    this.#remaining = Number.parseInt(size[1]!, 16);
    this.state = this.#remaining === 0 ? 'trailers' : 'chunk-data';
    return got.next;
  }

  chunkData(data: Buffer, at: number): number {
    const take = Math.min(this.#remaining, data.length - at);
    this.#remaining -= take;
    this.#sink.onBody(data.subarray(at, at + take));
    if (this.#remaining === 0) this.state = 'chunk-end';
    return at + take;
  }

  chunkEnd(data: Buffer, at: number): number {
    const got = this.lineFrom(data, at, 2, 'HPE_STRICT');
    if (got === undefined) return data.length;
    if (got.line !== '') throw new ParseError('HPE_STRICT', 'a chunk does not end in CRLF');
    this.state = 'chunk-size';
    return got.next;
  }

  trailer(data: Buffer, at: number): number {
    const got = this.headLine(data, at);
    if (got === undefined) return data.length;
    if (got.line === '') {
      this.#headBytes = 0;
      return this.complete(got.next);
    }
    // Trailers are read and dropped: nothing downstream asked for them (TE: trailers is not sent).
    const colon = got.line.indexOf(':');
    if (colon <= 0 || !TOKEN.test(got.line.slice(0, colon)))
      throw new ParseError('HPE_INVALID_HEADER_TOKEN', 'not a trailer field');
    return got.next;
  }
}

/** Each state's step: the whole machine in one place. */
const STEPS: Record<ParserState, (p: ResponseParser, data: Buffer, at: number) => number> = {
  'status-line': (p, d, at) => p.statusLine(d, at),
  headers: (p, d, at) => p.headerLine(d, at),
  'body-length': (p, d, at) => p.bodyLength(d, at),
  'body-close': (p, d, at) => p.bodyClose(d, at),
  'chunk-size': (p, d, at) => p.chunkSize(d, at),
  'chunk-data': (p, d, at) => p.chunkData(d, at),
  'chunk-end': (p, d, at) => p.chunkEnd(d, at),
  trailers: (p, d, at) => p.trailer(d, at),
  closed: () => {
    throw new ParseError('HPE_CLOSED_CONNECTION', 'data after a response that closes the connection');
  },
  failed: (_p, d) => d.length,
};

/**
 * How the head frames the body: `chunked` true (the last transfer coding is chunked), false
 * (codings without chunked last: until close), undefined (no Transfer-Encoding); `length` from
 * Content-Length; the Connection options, lower-cased. Throws on what a strict parser refuses:
 * a Content-Length that is not digits, given twice, or given with a Transfer-Encoding.
 */
export function bodyFraming(headers: readonly string[]): {
  chunked: boolean | undefined;
  length: number | undefined;
  connection: string[];
} {
  const codings: string[] = [];
  let encoded = false;
  let length: number | undefined;
  const connection: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!.toLowerCase();
    const value = headers[i + 1]!;
    if (name === 'transfer-encoding') {
      encoded = true;
      for (const coding of value.toLowerCase().split(',')) if (coding.trim() !== '') codings.push(coding.trim());
    } else if (name === 'content-length') {
      if (length !== undefined) throw new ParseError('HPE_UNEXPECTED_CONTENT_LENGTH', 'Duplicate Content-Length');
      if (!/^[0-9]{1,15}$/.test(value)) throw new ParseError('HPE_INVALID_CONTENT_LENGTH', `Content-Length: ${value}`);
      length = Number(value);
    } else if (name === 'connection') {
      for (const option of value.toLowerCase().split(',')) connection.push(option.trim());
    }
  }
  if (encoded && length !== undefined)
    throw new ParseError('HPE_UNEXPECTED_CONTENT_LENGTH', 'Content-Length with Transfer-Encoding');
  return { chunked: encoded ? codings.at(-1) === 'chunked' : undefined, length, connection };
}
