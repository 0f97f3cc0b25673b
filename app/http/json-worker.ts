// The JSON worker thread: large request bodies are decoded and parsed here, so a 16 MiB body
// costs the replica's event loop (health checks, other requests) nothing but a message. The
// parsed value comes back as a tree of plain arrays (see json-pool.ts), because the raw JSON
// numbers that keep an actId's digits cannot cross a MessagePort as they are.
import { parentPort } from 'node:worker_threads';
import { JSONX, MalformedJson, parseJsonBody } from './json-parse.ts';
import type { EncodedJson, ParseReply, ParseRequest } from './json-pool.ts';

export function encodeJson(value: unknown): EncodedJson {
  if (JSONX.isRawJSON(value)) return ['n', value.rawJSON];
  if (Array.isArray(value)) return ['a', ...value.map(encodeJson)];
  if (value !== null && typeof value === 'object') {
    const members: EncodedJson[] = ['o'];
    for (const [key, inner] of Object.entries(value)) members.push(key, encodeJson(inner));
    return members;
  }
  return value as string | boolean | null;
}

function reply(request: ParseRequest): ParseReply {
  try {
    return { id: request.id, ok: true, value: encodeJson(parseJsonBody(new Uint8Array(request.bytes))) };
  } catch (err) {
    if (err instanceof MalformedJson) return { id: request.id, ok: false, reason: err.message };
    return { id: request.id, ok: false, reason: 'malformed JSON' };
  }
}

parentPort?.on('message', (request: ParseRequest) => parentPort?.postMessage(reply(request)));
