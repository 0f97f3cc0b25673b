// Splits a byte stream of newline-separated JSON documents into lines. Chunk boundaries fall
// anywhere, even inside a multi-byte UTF-8 character, so bytes are decoded with a streaming
// TextDecoder that holds an incomplete character back until its next bytes arrive.
import { EngineError } from './errors.ts';

export class JsonLinesSplitter {
  readonly #decoder = new TextDecoder('utf-8');
  #pending = '';

  /** Feeds bytes; returns the complete, non-blank lines they finish. */
  push(chunk: Uint8Array): string[] {
    this.#pending += this.#decoder.decode(chunk, { stream: true });
    const parts = this.#pending.split('\n');
    this.#pending = parts.pop() ?? '';
    return clean(parts);
  }

  /** Flushes what is left at the end of the stream (a last line without its newline). */
  end(): string[] {
    const rest = this.#pending + this.#decoder.decode();
    this.#pending = '';
    return clean([rest]);
  }
}

function clean(lines: string[]): string[] {
  const out: string[] = [];
  for (const line of lines) {
    const trimmed = line.trim(); // the engine ends build lines with \r\n
    if (trimmed !== '') out.push(trimmed);
  }
  return out;
}

export function parseJsonLine<T>(line: string): T {
  try {
    return JSON.parse(line) as T;
  } catch (error) {
    throw new EngineError('PROTOCOL_ERROR', `the engine sent a line that is not JSON: ${line.slice(0, 200)}`, {
      cause: error,
    });
  }
}

/** Parsed JSON documents from a byte stream, one per line. */
export async function* jsonLines<T>(body: AsyncIterable<Uint8Array>): AsyncGenerator<T, void, undefined> {
  const splitter = new JsonLinesSplitter();
  for await (const chunk of body) {
    for (const line of splitter.push(chunk)) yield parseJsonLine<T>(line);
  }
  for (const line of splitter.end()) yield parseJsonLine<T>(line);
}
