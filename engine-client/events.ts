// GET /events as an async iterator. The stream is long-lived and can be quiet for hours, so it
// has no body timeout. When the engine restarts the stream ends; with `reconnect` we dial again
// with `since` = the last event seen and drop the replayed duplicates (the engine's `since` is
// inclusive), so a caller sees each event once. Without reconnect, a stream the engine ends
// ends the iteration; a lost connection throws ENGINE_UNAVAILABLE.
import { setTimeout as sleep } from 'node:timers/promises';
import { EngineError, isEngineError } from './errors.ts';
import { encodeFilters, labelFilterValues } from './filters.ts';
import { JsonLinesSplitter, parseJsonLine } from './json-lines.ts';
import type { EngineStream, Transport } from './transport.ts';
import type { EngineEvent, EventsOptions } from './types.ts';

const NANOS = 1_000_000_000n;

/** A `since`/`until` value in the engine's "seconds.nanoseconds" form. */
export function toTimestamp(value: Date | number | string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  const ms = value instanceof Date ? value.getTime() : value * 1000;
  const whole = Math.floor(ms / 1000);
  const nanos = Math.round((ms - whole * 1000) * 1e6);
  return `${whole}.${String(nanos).padStart(9, '0')}`;
}

export function cursorOf(timeNano: bigint): string {
  return `${timeNano / NANOS}.${String(timeNano % NANOS).padStart(9, '0')}`;
}

/** Maps one line of the stream. timeNano is read from the text: it exceeds a double's precision. */
export function toEngineEvent(line: string): EngineEvent {
  const raw = parseJsonLine<Record<string, unknown>>(line);
  const actor = (raw.Actor ?? {}) as { ID?: string; Attributes?: Record<string, string> };
  const time = typeof raw.time === 'number' ? raw.time : 0;
  const exact = /"timeNano"\s*:\s*(\d+)/.exec(line)?.[1];
  const timeNano = exact !== undefined ? BigInt(exact) : BigInt(time) * NANOS;
  return {
    type: String(raw.Type ?? ''),
    action: String(raw.Action ?? raw.status ?? ''),
    id: String(actor.ID ?? raw.id ?? ''),
    attributes: actor.Attributes ?? {},
    scope: String(raw.scope ?? ''),
    time,
    timeNano: timeNano.toString(),
    cursor: cursorOf(timeNano),
  };
}

export async function* streamEvents(
  transport: Transport,
  options: EventsOptions,
): AsyncGenerator<EngineEvent, void, undefined> {
  const { signal } = options;
  const retry = options.reconnect === true ? {} : options.reconnect || undefined;
  const filters = encodeFilters({
    type: options.types,
    label: labelFilterValues(options.labels),
    event: options.actions,
    container: options.containers,
  });
  const until = toTimestamp(options.until);
  let since = toTimestamp(options.since);
  // Events at the newest timestamp seen, to drop them when a resumed stream replays them.
  let lastNano = -1n;
  let seenAtLast = new Set<string>();
  let attempt = 0;

  for (;;) {
    if (signal?.aborted) return;
    let stream: EngineStream | undefined;
    let lost: EngineError;
    try {
      stream = await transport.stream({
        method: 'GET',
        path: '/events',
        query: { since, until, filters },
        timeoutMs: null,
        ...(signal ? { signal } : {}),
      });
      attempt = 0;
      // Without a `since`, a resumed stream starts from when this one opened, so events that
      // happen while the engine is away are not lost even if none came before.
      since ??= toTimestamp(new Date());
      const splitter = new JsonLinesSplitter();
      for await (const chunk of stream.body) {
        for (const line of splitter.push(chunk)) {
          const event = toEngineEvent(line);
          const nano = BigInt(event.timeNano);
          const key = `${event.type}|${event.action}|${event.id}`;
          if (nano < lastNano || (nano === lastNano && seenAtLast.has(key))) continue;
          if (nano > lastNano) {
            lastNano = nano;
            seenAtLast = new Set();
          }
          seenAtLast.add(key);
          yield event;
        }
      }
      if (until !== undefined) return; // the engine ends the stream at `until`
      lost = new EngineError('STREAM_ERROR', 'the engine closed the events stream', { method: 'GET', path: '/events' });
    } catch (error) {
      const mapped = isEngineError(error) ? error : (stream?.mapError(error) ?? toUnknown(error));
      if (mapped.code === 'ABORTED' || signal?.aborted) return;
      lost = mapped;
    } finally {
      if (stream && !stream.body.destroyed) stream.body.destroy();
    }

    if (!retry) {
      if (lost.code === 'STREAM_ERROR') return; // a clean end without reconnect: iteration ends
      throw lost;
    }
    attempt += 1;
    options.onReconnect?.(lost, attempt);
    if (lastNano >= 0n) since = cursorOf(lastNano);
    const delay = Math.min((retry.delayMs ?? 500) * 2 ** (attempt - 1), retry.maxDelayMs ?? 10_000);
    try {
      await sleep(delay, undefined, signal ? { signal } : {});
    } catch {
      return; // aborted while waiting
    }
  }
}

function toUnknown(error: unknown): EngineError {
  return new EngineError('ENGINE_UNAVAILABLE', error instanceof Error ? error.message : String(error), {
    cause: error,
  });
}
