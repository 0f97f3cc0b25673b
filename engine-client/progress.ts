// JSON progress streams (build, import): the engine answers 200 at once and reports a failure
// later as a line {"error": ..., "errorDetail": {...}}. That line must fail the call.
import { EngineError, isEngineError } from './errors.ts';
import { jsonLines } from './json-lines.ts';
import type { EngineStream, Query, RequestSpec, Transport } from './transport.ts';
import type { JsonMessage, ProgressCallback, TarBody } from './types.ts';

/**
 * POSTs a tar to a progress route (build, import) and reads the stream to its end. No deadline:
 * a build takes as long as its steps do; the caller's `signal` cancels it.
 */
export async function postTarWithProgress(
  transport: Transport,
  path: string,
  query: Query,
  tar: TarBody,
  options: { onProgress?: ProgressCallback; signal?: AbortSignal },
): Promise<JsonMessage[]> {
  const spec: RequestSpec = {
    method: 'POST',
    path,
    query,
    body: tar,
    contentType: 'application/x-tar',
    timeoutMs: null,
    ...(options.signal ? { signal: options.signal } : {}),
  };
  const stream = await transport.stream(spec);
  return consumeProgress(stream, spec, options.onProgress);
}

/** Reads the whole stream, reporting each message; returns them all. */
async function consumeProgress(
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
