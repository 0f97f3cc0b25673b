// Node's own HTTP parser (llhttp in C++, the one node:http uses), for the replica side's fast
// reader (upstream-reader.ts). It is reached through the built-in `_http_common` module, which
// Node keeps for compatibility but does not document (DEP0199): so it is loaded on demand, and
// used only once a self-test at start has it parse exactly as our own parser does; the raw-TCP
// matrix in test/unit/upstream-readers.test.ts runs every response shape through both. Strict
// mode (no lenient flags): a malformed or ambiguous response (bad chunking, CL with TE) is an
// error, never guessed at.
import { createRequire } from 'node:module';

export interface LlhttpParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  /** Reads from a stream handle in C++: no 'data' events, no Buffer per read in JavaScript. */
  consume(handle: object): void;
  unconsume(): void;
  execute(data: Buffer): number | Error;
  finish(): number | Error | undefined;
  close(): void;
  [key: number]: unknown;
}

export interface LlhttpBinding {
  newParser(): LlhttpParser;
  RESPONSE: number;
  ON_HEADERS: number;
  ON_HEADERS_COMPLETE: number;
  ON_BODY: number;
  ON_MESSAGE_COMPLETE: number;
  ON_EXECUTE: number;
  STRICT: number;
}

interface ParserModule {
  HTTPParser: {
    new (): LlhttpParser;
    RESPONSE: number;
    kOnHeaders: number;
    kOnHeadersComplete: number;
    kOnBody: number;
    kOnMessageComplete: number;
    kOnExecute: number;
    kLenientNone: number;
  };
}

/** The binding; throws when this Node has no such module. */
export function loadLlhttp(): LlhttpBinding {
  const { HTTPParser } = createRequire(import.meta.url)('_http_common') as ParserModule;
  return {
    newParser: () => new HTTPParser(),
    RESPONSE: HTTPParser.RESPONSE,
    ON_HEADERS: HTTPParser.kOnHeaders,
    ON_HEADERS_COMPLETE: HTTPParser.kOnHeadersComplete,
    ON_BODY: HTTPParser.kOnBody,
    ON_MESSAGE_COMPLETE: HTTPParser.kOnMessageComplete,
    ON_EXECUTE: HTTPParser.kOnExecute,
    STRICT: HTTPParser.kLenientNone,
  };
}
