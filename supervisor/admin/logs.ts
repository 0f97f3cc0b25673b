// GET /logs/{service} (docs/status-api.md): the output of a service's replicas through the
// runtime (the engine's container logs, or the process runtime's log files), one JSON object per
// line, so `selflessacts logs` needs neither the engine's socket nor the data directory. With
// follow, replicas that appear later (a replacement, a scale-up) are followed too.
import { StringDecoder } from 'node:string_decoder';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ReplicaLogOptions, ReplicaOutput, Runtime } from '../runtime/runtime.ts';

export interface LogQuery {
  follow: boolean;
  /** Lines from the end of each replica's output; all when undefined. */
  tail: number | undefined;
}

/** One line of output, as the endpoint sends it. */
export interface ReplicaLogLine {
  service: string;
  id: string;
  port: number;
  stream: ReplicaOutput['stream'];
  line: string;
}

export interface LogSource {
  /** The service's replicas now, by port; undefined when there is no such service. */
  replicas(service: string): Array<{ id: string; port: number }> | undefined;
  logs(id: string, options: ReplicaLogOptions): AsyncIterable<ReplicaOutput>;
}

const MAX_TAIL = 100_000;
const NEW_REPLICAS_EVERY_MS = 1000;

/** `?tail=N&follow=1` → a query, or the reason it is not one. */
export function parseLogQuery(params: URLSearchParams): LogQuery | { error: string } {
  const follow = params.get('follow') ?? 'false';
  if (!['1', '0', 'true', 'false'].includes(follow)) return { error: 'follow must be true or false' };
  const tail = params.get('tail') ?? 'all';
  if (tail !== 'all' && (!/^\d{1,6}$/.test(tail) || Number(tail) > MAX_TAIL))
    return { error: `tail must be "all" or an integer from 0 to ${MAX_TAIL}` };
  return { follow: follow === '1' || follow === 'true', tail: tail === 'all' ? undefined : Number(tail) };
}

/**
 * Sends each replica's lines through `send` (which resolves when the receiver can take more).
 * Without follow: replica after replica, then done. With follow: all at once until `signal`.
 */
export async function streamServiceLogs(
  source: LogSource,
  service: string,
  query: LogQuery,
  send: (line: ReplicaLogLine) => Promise<void>,
  signal: AbortSignal,
): Promise<void> {
  const pump = async (replica: { id: string; port: number }) => {
    const decoders = new Map<string, StringDecoder>();
    const pending = new Map<ReplicaOutput['stream'], string>();
    const emit = async (stream: ReplicaOutput['stream'], text: string) => {
      const lines = ((pending.get(stream) ?? '') + text).split('\n');
      pending.set(stream, lines.pop() ?? '');
      for (const line of lines)
        await send({ service, id: replica.id, port: replica.port, stream, line: line.replace(/\r$/, '') });
    };
    for await (const chunk of source.logs(replica.id, { follow: query.follow, tail: query.tail, signal })) {
      let decoder = decoders.get(chunk.stream);
      if (!decoder) decoders.set(chunk.stream, (decoder = new StringDecoder('utf8')));
      await emit(chunk.stream, decoder.write(chunk.data));
      if (signal.aborted) return;
    }
    // A last line without a newline is still a line.
    for (const [stream, rest] of pending)
      if (rest !== '') await send({ service, id: replica.id, port: replica.port, stream, line: rest });
  };

  if (!query.follow) {
    for (const replica of source.replicas(service) ?? []) await pump(replica);
    return;
  }
  const followed = new Map<string, Promise<void>>();
  while (!signal.aborted) {
    for (const replica of source.replicas(service) ?? []) {
      if (followed.has(replica.id)) continue;
      // A replica's stream failing (it was removed meanwhile) ends that stream, not the others.
      followed.set(
        replica.id,
        pump(replica).catch(() => undefined),
      );
    }
    await sleep(NEW_REPLICAS_EVERY_MS, undefined, { signal }).catch(() => undefined);
  }
  await Promise.all(followed.values());
}

/** The fleet's replicas of each configured service, through the runtime's logs; undefined if it keeps none. */
export function runtimeLogSource(
  runtime: Runtime,
  services: readonly string[],
  replicas: () => Iterable<{ id: string; service: string; port: number }>,
): LogSource | undefined {
  const logs = runtime.logs?.bind(runtime);
  if (!logs) return undefined;
  return {
    replicas: (service) =>
      services.includes(service)
        ? [...replicas()]
            .filter((r) => r.service === service)
            .sort((a, b) => a.port - b.port)
            .map(({ id, port }) => ({ id, port }))
        : undefined,
    logs,
  };
}
