// Node's own HTTP parser (llhttp in C++, the one node:http uses), for the replica side of the
// proxy. It is reached through the built-in `_http_common` module, which Node keeps for
// compatibility but does not document; test/unit/balancer-upstream.test.ts pins the behaviour
// we rely on, so a Node upgrade that changes it fails there first. Strict mode (no lenient
// flags): a malformed or ambiguous response (bad chunking, CL with TE) is an error, never
// guessed at.
import { createRequire } from 'node:module';

export interface HttpParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  /** Reads from a stream handle in C++: no 'data' events, no Buffer per read in JavaScript. */
  consume(handle: object): void;
  unconsume(): void;
  execute(data: Buffer): number | Error;
  finish(): number | Error | undefined;
  close(): void;
  [key: number]: unknown;
}

interface ParserModule {
  HTTPParser: {
    new (): HttpParser;
    RESPONSE: number;
    kOnHeaders: number;
    kOnHeadersComplete: number;
    kOnBody: number;
    kOnMessageComplete: number;
    kOnExecute: number;
    kLenientNone: number;
  };
}

const { HTTPParser } = createRequire(import.meta.url)('_http_common') as ParserModule;

export const {
  RESPONSE,
  kOnHeaders: ON_HEADERS,
  kOnHeadersComplete: ON_HEADERS_COMPLETE,
  kOnBody: ON_BODY,
  kOnMessageComplete: ON_MESSAGE_COMPLETE,
  kOnExecute: ON_EXECUTE,
  kLenientNone: STRICT,
} = HTTPParser;

export function newParser(): HttpParser {
  return new HTTPParser();
}
