// Container output as the engine sends it. Without a TTY, stdout and stderr share one stream
// cut into frames: an 8-byte header [stream, 0, 0, 0, size as uint32 big-endian] then `size`
// bytes. With a TTY there is only the raw terminal output, no headers.
import { EngineError } from './errors.ts';
import type { LogChunk } from './types.ts';

const HEADER_BYTES = 8;

export class LogDemuxer {
  // Bytes are only joined once a whole frame is there, so a large frame arriving in many small
  // chunks costs one copy, not one per chunk.
  #chunks: Buffer[] = [];
  #length = 0;
  #needed = HEADER_BYTES;

  /** Feeds bytes; returns the frames they complete, in order. */
  push(chunk: Uint8Array): LogChunk[] {
    if (chunk.length > 0) {
      this.#chunks.push(Buffer.from(chunk));
      this.#length += chunk.length;
    }
    if (this.#length < this.#needed) return [];
    let buffer = this.#chunks.length === 1 ? (this.#chunks[0] as Buffer) : Buffer.concat(this.#chunks);
    const out: LogChunk[] = [];
    this.#needed = HEADER_BYTES;
    while (buffer.length >= HEADER_BYTES) {
      const kind = buffer[0];
      if (kind === undefined || kind > 3 || buffer[1] !== 0 || buffer[2] !== 0 || buffer[3] !== 0) {
        throw new EngineError('PROTOCOL_ERROR', 'bad log frame header: is this a TTY container?');
      }
      const size = buffer.readUInt32BE(4);
      if (buffer.length < HEADER_BYTES + size) {
        this.#needed = HEADER_BYTES + size;
        break;
      }
      const data = buffer.subarray(HEADER_BYTES, HEADER_BYTES + size);
      buffer = buffer.subarray(HEADER_BYTES + size);
      // 0 is stdin echoed back (attach only), 3 the engine's own error text: show both.
      if (size > 0) out.push({ stream: kind === 2 || kind === 3 ? 'stderr' : 'stdout', data: Buffer.from(data) });
    }
    this.#chunks = buffer.length > 0 ? [buffer] : [];
    this.#length = buffer.length;
    return out;
  }

  /** Call at the end of the stream: a partial frame left over means the stream was cut. */
  end(): void {
    if (this.#length > 0) {
      const left = this.#length;
      this.#chunks = [];
      this.#length = 0;
      this.#needed = HEADER_BYTES;
      throw new EngineError('STREAM_ERROR', `log stream ended inside a frame (${left} bytes left)`);
    }
  }
}

/** Log chunks from a response body, demultiplexed unless the container has a TTY. */
export async function* logChunks(
  body: AsyncIterable<Uint8Array>,
  tty: boolean,
): AsyncGenerator<LogChunk, void, undefined> {
  if (tty) {
    for await (const chunk of body) yield { stream: 'tty', data: Buffer.from(chunk) };
    return;
  }
  const demuxer = new LogDemuxer();
  for await (const chunk of body) yield* demuxer.push(chunk);
  demuxer.end();
}
