// HTTP/2 frames written by hand over TLS, for what a well-behaved client library would never
// send: streams past the advertised limit, resets right after each request, header lists past
// any limit, CONTINUATION frames without end. Header blocks are HPACK literals without
// indexing or Huffman coding (any server must accept them); of the server's header blocks only
// `:status` is read (static-table index or a literal, plain or Huffman-coded digits).
import { connect, type TLSSocket } from 'node:tls';

export const FRAME = {
  DATA: 0,
  HEADERS: 1,
  RST_STREAM: 3,
  SETTINGS: 4,
  PING: 6,
  GOAWAY: 7,
  WINDOW_UPDATE: 8,
  CONTINUATION: 9,
} as const;
export const FLAG = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4 } as const;
export const ERROR = { NO_ERROR: 0, PROTOCOL_ERROR: 1, REFUSED_STREAM: 7, CANCEL: 8, ENHANCE_YOUR_CALM: 11 } as const;

export interface Frame {
  type: number;
  flags: number;
  stream: number;
  payload: Buffer;
}

function int(value: number, prefixBits: number, first = 0): Buffer {
  const max = (1 << prefixBits) - 1;
  if (value < max) return Buffer.from([first | value]);
  const bytes = [first | max];
  value -= max;
  while (value >= 128) {
    bytes.push((value % 128) + 128);
    value = Math.floor(value / 128);
  }
  bytes.push(value);
  return Buffer.from(bytes);
}

/** An HPACK block of literals without indexing, new names, no Huffman. */
export function hpack(headers: Array<[string, string]>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of headers) {
    parts.push(
      Buffer.from([0]),
      int(name.length, 7),
      Buffer.from(name, 'latin1'),
      int(Buffer.byteLength(value, 'latin1'), 7),
      Buffer.from(value, 'latin1'),
    );
  }
  return Buffer.concat(parts);
}

export function frame(type: number, flags: number, stream: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(stream & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

const STATUS_BY_INDEX: Record<number, number> = { 8: 200, 9: 204, 10: 206, 11: 304, 12: 400, 13: 404, 14: 500 };
const HUFFMAN_DIGITS: Record<string, string> = {
  '00000': '0',
  '00001': '1',
  '00010': '2',
  '011001': '3',
  '011010': '4',
  '011011': '5',
  '011100': '6',
  '011101': '7',
  '011110': '8',
  '011111': '9',
};

/** The `:status` of a response header block (it comes first), or undefined if not readable. */
export function statusOf(block: Buffer): number | undefined {
  const b = block[0]!;
  if (b & 0x80) return STATUS_BY_INDEX[b & 0x7f];
  const index = (b & 0xc0) === 0x40 ? b & 0x3f : b & 0x0f;
  if (index < 8 || index > 14) return undefined;
  const len = block[1]! & 0x7f;
  const raw = block.subarray(2, 2 + len);
  if (!(block[1]! & 0x80)) return Number(raw.toString('latin1'));
  let bits = '';
  for (const byte of raw) bits += byte.toString(2).padStart(8, '0');
  let digits = '';
  let code = '';
  for (const bit of bits) {
    code += bit;
    const d = HUFFMAN_DIGITS[code];
    if (d !== undefined) {
      digits += d;
      code = '';
      if (digits.length === 3) break;
    }
  }
  return digits.length === 3 ? Number(digits) : undefined;
}

export class RawH2 {
  readonly socket: TLSSocket;
  readonly frames: Frame[] = [];
  closed = false;
  readonly ended: Promise<void>;
  #buffer = Buffer.alloc(0);
  #nextStream = 1;

  private constructor(socket: TLSSocket) {
    this.socket = socket;
    this.ended = new Promise((resolve) =>
      socket.once('close', () => {
        this.closed = true;
        resolve();
      }),
    );
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => this.#read(chunk));
  }

  /** Connected, preface and an empty SETTINGS sent. */
  static open(port: number, from?: string): Promise<RawH2> {
    return new Promise((resolve, reject) => {
      const socket = connect(
        {
          host: '127.0.0.1',
          port,
          ...(from ? { localAddress: from } : {}),
          ALPNProtocols: ['h2'],
          rejectUnauthorized: false,
          servername: 'localhost',
        },
        () => {
          if (socket.alpnProtocol !== 'h2') return reject(new Error(`ALPN chose ${socket.alpnProtocol}`));
          socket.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), frame(FRAME.SETTINGS, 0, 0)]));
          resolve(new RawH2(socket));
        },
      );
      socket.once('error', reject);
    });
  }

  /** A new client stream id (odd, increasing). */
  stream(): number {
    const id = this.#nextStream;
    this.#nextStream += 2;
    return id;
  }

  /** A request's HEADERS (END_HEADERS, END_STREAM unless `body`); returns its stream id. */
  request(path: string, options: { method?: string; body?: boolean; extra?: Array<[string, string]> } = {}): number {
    const id = this.stream();
    const block = hpack([
      [':method', options.method ?? 'GET'],
      [':scheme', 'https'],
      [':path', path],
      [':authority', 'localhost'],
      ...(options.extra ?? []),
    ]);
    // Frames of at most 16 KiB (the default SETTINGS_MAX_FRAME_SIZE): the rest in CONTINUATION.
    const end = options.body ? 0 : FLAG.END_STREAM;
    const MAX = 16_384;
    if (block.length <= MAX) this.write(frame(FRAME.HEADERS, FLAG.END_HEADERS | end, id, block));
    else {
      this.write(frame(FRAME.HEADERS, end, id, block.subarray(0, MAX)));
      for (let at = MAX; at < block.length; at += MAX) {
        this.write(
          frame(FRAME.CONTINUATION, at + MAX >= block.length ? FLAG.END_HEADERS : 0, id, block.subarray(at, at + MAX)),
        );
      }
    }
    return id;
  }

  write(data: Buffer): boolean {
    if (this.closed || this.socket.destroyed) return false;
    return this.socket.write(data);
  }

  /** Response statuses by stream. */
  statuses(): Map<number, number | undefined> {
    const out = new Map<number, number | undefined>();
    for (const f of this.frames) if (f.type === FRAME.HEADERS && f.stream > 0) out.set(f.stream, statusOf(f.payload));
    return out;
  }

  resets(code?: number): Frame[] {
    return this.frames.filter(
      (f) => f.type === FRAME.RST_STREAM && (code === undefined || f.payload.readUInt32BE(0) === code),
    );
  }

  /** The first GOAWAY: its error code, and the last stream the server says it processed. */
  goaway(): { code: number; lastStream: number } | undefined {
    const f = this.frames.find((x) => x.type === FRAME.GOAWAY);
    return f && { code: f.payload.readUInt32BE(4), lastStream: f.payload.readUInt32BE(0) & 0x7fffffff };
  }

  close(): void {
    this.socket.destroy();
  }

  #read(chunk: Buffer): void {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    while (this.#buffer.length >= 9) {
      const length = this.#buffer.readUIntBE(0, 3);
      if (this.#buffer.length < 9 + length) return;
      const f: Frame = {
        type: this.#buffer[3]!,
        flags: this.#buffer[4]!,
        stream: this.#buffer.readUInt32BE(5) & 0x7fffffff,
        payload: this.#buffer.subarray(9, 9 + length),
      };
      this.#buffer = this.#buffer.subarray(9 + length);
      this.frames.push(f);
      if (f.type === FRAME.SETTINGS && !(f.flags & FLAG.ACK)) this.write(frame(FRAME.SETTINGS, FLAG.ACK, 0));
      if (f.type === FRAME.PING && !(f.flags & FLAG.ACK)) this.write(frame(FRAME.PING, FLAG.ACK, 0, f.payload));
    }
  }
}
