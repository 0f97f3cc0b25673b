// Request JSON → a value whose numbers keep their source text, in time proportional to the
// bytes and never more than a few thousand reviver calls. An actId may have any number of
// digits, so numbers must keep their source: Node 24's JSON.parse hands a reviver each number's
// source (`context.source`), kept as a raw JSON value that JSON.stringify writes back verbatim.
// A reviver runs once per value, though, and JSON.parse itself builds millions of tiny arrays
// or keys slowly (16 MiB of `[],` took 0.7-1.2 s and 600 MB; as many distinct keys, 2-5 s):
// so the text is scanned first, and a document with more structure than any request of any
// route has (row 15, the largest, has 12 brackets, commas and colons) is refused unparsed.
// Pure and free of Express, so the JSON worker (json-worker.ts) runs the same code.

/** A JSON number kept as its source text (a frozen object JSON.stringify writes verbatim). */
export interface RawJson {
  readonly rawJSON: string;
}

type Reviver = (this: unknown, key: string, value: unknown, context: { source?: string }) => unknown;

/** Node 24's JSON additions, not yet in TypeScript's lib. */
export const JSONX = JSON as unknown as {
  parse(text: string, reviver?: Reviver): unknown;
  rawJSON(text: string): RawJson;
  isRawJSON(value: unknown): value is RawJson;
};

/**
 * Brackets, commas and colons outside strings that a request may hold. Far above any valid
 * request (12), far below what makes JSON.parse slow: below it, a document has at most a few
 * thousand values, and parsing costs what reading its strings costs.
 */
export const MAX_STRUCTURE = 1000;

export class MalformedJson extends Error {}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Counts `[`, `{`, `,` and `:` outside strings, up to `cap` + 1, and the colons (object
 * members) among them. Strings are skipped with indexOf, so the scan costs little more than
 * one pass over the text's quotes.
 */
export function scanStructure(text: string, cap: number): { structure: number; members: number } {
  let structure = 0;
  let members = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      i = closingQuote(text, i);
      if (i === -1) break; // unterminated: JSON.parse says so
    } else if (c === 0x5b /* [ */ || c === 0x7b /* { */ || c === 0x2c /* , */ || c === 0x3a /* : */) {
      structure += 1;
      if (c === 0x3a) members += 1;
      if (structure > cap) break;
    }
  }
  return { structure, members };
}

/** The index of the quote closing the string that opens at `open`: the next one not escaped. */
function closingQuote(text: string, open: number): number {
  let close = open;
  for (;;) {
    close = text.indexOf('"', close + 1);
    if (close === -1) return -1;
    let backslashes = 0;
    while (text.charCodeAt(close - 1 - backslashes) === 0x5c) backslashes += 1;
    if (backslashes % 2 === 0) return close;
  }
}

const keepNumberSource: Reviver = (_key, value, context) =>
  typeof value === 'number' && context.source !== undefined ? JSONX.rawJSON(context.source) : value;

function children(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  return value !== null && typeof value === 'object' && !JSONX.isRawJSON(value) ? Object.values(value) : [];
}

/** Object keys in a parsed document (a small one: its structure was counted first). */
function countKeys(root: unknown): number {
  let keys = 0;
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    const inner = children(value);
    if (!Array.isArray(value)) keys += inner.length;
    for (const child of inner) stack.push(child);
  }
  return keys;
}

/**
 * Text → value with exact numbers. Refuses (MalformedJson) what is not JSON, a document with
 * more structure than MAX_STRUCTURE, and an object with a duplicated key (JSON.parse would
 * keep the last one silently; members written against keys that came out finds it).
 */
export function parseJsonText(text: string): unknown {
  const { structure, members } = scanStructure(text, MAX_STRUCTURE);
  if (structure > MAX_STRUCTURE) {
    throw new MalformedJson(
      `JSON document refused: more than ${MAX_STRUCTURE} brackets, commas and colons, far more than any request needs`,
    );
  }
  let exact: unknown;
  try {
    exact = JSONX.parse(text, keepNumberSource);
  } catch (err) {
    throw new MalformedJson(`malformed JSON: ${(err as Error).message.slice(0, 200)}`);
  }
  if (members !== countKeys(exact)) throw new MalformedJson('malformed JSON: an object has a duplicated key');
  return exact;
}

/** Body bytes → value (undefined for an empty body); MalformedJson when not UTF-8 JSON. */
export function parseJsonBody(bytes: Uint8Array): unknown {
  if (bytes.length === 0) return undefined;
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new MalformedJson('request body is not valid UTF-8');
  }
  return parseJsonText(text);
}
