// Containers: create, start, stop, kill, remove, inspect, list, wait, logs.
import { isEngineError } from './errors.ts';
import { encodeFilters, labelFilterValues } from './filters.ts';
import { logChunks } from './logs.ts';
import { toContainerCreateBody, toContainerInfo, toContainerSummary } from './container-shapes.ts';
import { versionAtLeast, type Transport } from './transport.ts';
import type {
  ContainerInfo,
  ContainerSpec,
  ContainerSummary,
  CreatedContainer,
  KillOptions,
  ListContainersOptions,
  LogChunk,
  LogsOptions,
  LogsText,
  RemoveContainerOptions,
  StopOptions,
  WaitOptions,
  WaitResult,
} from './types.ts';

/** Extra time a stop call gets beyond its grace period: the engine answers only after SIGKILL. */
const STOP_MARGIN_MS = 15_000;
/** Docker's own default grace period, used to bound a stop that names none. */
const DEFAULT_GRACE_SECONDS = 10;

const enc = encodeURIComponent;

export class Containers {
  readonly #transport: Transport;

  constructor(transport: Transport) {
    this.#transport = transport;
  }

  async create(spec: ContainerSpec): Promise<CreatedContainer> {
    const { json } = await this.#transport.request({
      method: 'POST',
      path: '/containers/create',
      query: { name: spec.name },
      json: toContainerCreateBody(spec),
    });
    const body = json as { Id: string; Warnings?: string[] | null };
    return { id: body.Id, warnings: body.Warnings ?? [] };
  }

  /** Starting a running container is success (304). */
  async start(id: string): Promise<void> {
    await this.#transport.request({ method: 'POST', path: `/containers/${enc(id)}/start`, okStatuses: [304] });
  }

  /** Stopping a stopped container is success (304). */
  async stop(id: string, options: StopOptions = {}): Promise<void> {
    const grace = options.graceSeconds ?? DEFAULT_GRACE_SECONDS;
    const version = await this.#transport.apiVersion();
    await this.#transport.request({
      method: 'POST',
      path: `/containers/${enc(id)}/stop`,
      query: {
        t: options.graceSeconds,
        signal: options.signal !== undefined && versionAtLeast(version, '1.42') ? options.signal : undefined,
      },
      okStatuses: [304],
      timeoutMs: Math.max(this.#transport.timeoutMs, grace * 1000 + STOP_MARGIN_MS),
    });
  }

  /** Killing a container that is not running is a CONFLICT, as the engine says. */
  async kill(id: string, options: KillOptions = {}): Promise<void> {
    await this.#transport.request({
      method: 'POST',
      path: `/containers/${enc(id)}/kill`,
      query: { signal: options.signal },
    });
  }

  async remove(id: string, options: RemoveContainerOptions = {}): Promise<void> {
    await this.#transport.request({
      method: 'DELETE',
      path: `/containers/${enc(id)}`,
      query: { force: options.force, v: options.volumes },
    });
  }

  /**
   * CPU time and memory now (one-shot: no wait for a second sample). Memory is usage without
   * the page cache, as `docker stats` shows it (cgroup v2 `inactive_file`, v1 `total_inactive_file`).
   */
  async usage(id: string): Promise<{ cpuSeconds: number; memoryBytes: number }> {
    const { json } = await this.#transport.request({
      method: 'GET',
      path: `/containers/${enc(id)}/stats`,
      query: { stream: false, 'one-shot': true },
    });
    const body = json as {
      cpu_stats?: { cpu_usage?: { total_usage?: number } };
      memory_stats?: { usage?: number; stats?: Record<string, number> };
    };
    const memory = body.memory_stats ?? {};
    const cache = memory.stats?.inactive_file ?? memory.stats?.total_inactive_file ?? 0;
    return {
      cpuSeconds: (body.cpu_stats?.cpu_usage?.total_usage ?? 0) / 1e9,
      memoryBytes: Math.max(0, (memory.usage ?? 0) - cache),
    };
  }

  async inspect(id: string): Promise<ContainerInfo> {
    const { json } = await this.#transport.request({ method: 'GET', path: `/containers/${enc(id)}/json` });
    return toContainerInfo(json as Record<string, unknown>);
  }

  async list(options: ListContainersOptions = {}): Promise<ContainerSummary[]> {
    const { json } = await this.#transport.request({
      method: 'GET',
      path: '/containers/json',
      query: {
        all: options.all,
        filters: encodeFilters({
          label: labelFilterValues(options.labels),
          name: options.name === undefined ? undefined : [options.name],
          status: options.status,
        }),
      },
    });
    return (json as Record<string, unknown>[]).map(toContainerSummary);
  }

  /** Resolves when the condition is met (default: the container is not running). */
  async wait(id: string, options: WaitOptions = {}): Promise<WaitResult> {
    const { json } = await this.#transport.request({
      method: 'POST',
      path: `/containers/${enc(id)}/wait`,
      query: { condition: options.condition ?? 'not-running' },
      timeoutMs: options.timeoutMs ?? null,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const body = json as { StatusCode: number; Error?: { Message?: string } | null };
    const result: WaitResult = { statusCode: body.StatusCode };
    if (body.Error?.Message) result.error = body.Error.Message;
    return result;
  }

  /**
   * Output chunks in order. With `follow`, the iteration lasts until the container stops or
   * `signal` aborts (then it ends quietly). Breaking out of the loop closes the stream.
   */
  async *logs(id: string, options: LogsOptions = {}): AsyncGenerator<LogChunk, void, undefined> {
    const tty = options.tty ?? (await this.inspect(id)).tty;
    const stream = await this.#transport.stream({
      method: 'GET',
      path: `/containers/${enc(id)}/logs`,
      query: {
        stdout: options.stdout ?? true,
        stderr: options.stderr ?? true,
        follow: options.follow ?? false,
        since: options.since,
        tail: options.tail === undefined ? undefined : String(options.tail),
        timestamps: options.timestamps,
      },
      timeoutMs: options.follow ? null : this.#transport.timeoutMs,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    try {
      yield* logChunks(stream.body, tty);
    } catch (error) {
      const mapped = isEngineError(error) ? error : stream.mapError(error);
      if (mapped.code === 'ABORTED') return;
      throw mapped;
    } finally {
      if (!stream.body.destroyed) stream.body.destroy();
    }
  }

  /** The whole log so far as text, stdout and stderr apart (TTY output lands in stdout). */
  async logsText(id: string, options: Omit<LogsOptions, 'follow'> = {}): Promise<LogsText> {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    for await (const chunk of this.logs(id, { ...options, follow: false })) {
      (chunk.stream === 'stderr' ? err : out).push(chunk.data);
    }
    return { stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
  }
}
