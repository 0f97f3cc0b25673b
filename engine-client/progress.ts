// JSON progress streams (build, import): the engine answers 200 at once and reports a failure
// later as a line {"error": ..., "errorDetail": {...}}. That line must fail the call.
import { EngineError, isEngineError } from './errors.ts';
import { jsonLines } from './json-lines.ts';
import type { EngineStream, RequestSpec } from './transport.ts';
import type { JsonMessage, ProgressCallback } from './types.ts';

/** Reads the whole stream, reporting each message; returns them all. */
export async function consumeProgress(
  stream: EngineStream,
  spec: RequestSpec,
  onProgress: ProgressCallback | undefined,
): Promise<JsonMessage[]> {
  const messages: JsonMessage[] = [];
  try {
    for await (const message of jsonLines<JsonMessage>(stream.body)) {
      messages.push(message);
      onProgress?.(message);
      const failure = message.error ?? message.errorDetail?.message;
      if (failure !== undefined) {
        throw new EngineError('STREAM_ERROR', `${failure.trim()} (${spec.method} ${spec.path})`, {
          status: stream.status,
          method: spec.method,
          path: spec.path,
          engineMessage: failure.trim(),
        });
      }
    }
  } catch (error) {
    throw isEngineError(error) ? error : stream.mapError(error);
  } finally {
    if (!stream.body.destroyed) stream.body.destroy();
  }
  return messages;
}
