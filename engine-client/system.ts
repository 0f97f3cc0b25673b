// Whether the engine answers, and what it is.
import { header, type Transport } from './transport.ts';
import type { EngineInfo, PingResult, VersionInfo } from './types.ts';

export class System {
  readonly #transport: Transport;

  constructor(transport: Transport) {
    this.#transport = transport;
  }

  /** GET /_ping (unversioned): ENGINE_UNAVAILABLE when nothing answers. */
  async ping(): Promise<PingResult> {
    const { headers } = await this.#transport.request({ method: 'GET', path: '/_ping', versioned: false });
    return {
      apiVersion: header(headers, 'api-version') ?? '',
      osType: header(headers, 'ostype') ?? '',
      server: header(headers, 'server') ?? '',
    };
  }

  /** GET /info: what the engine's host has (memory, CPUs). */
  async info(): Promise<EngineInfo> {
    const { json } = await this.#transport.request({ method: 'GET', path: '/info' });
    const raw = (json ?? {}) as Record<string, unknown>;
    const number = (key: string) => (typeof raw[key] === 'number' ? (raw[key] as number) : 0);
    return { memTotal: number('MemTotal'), cpus: number('NCPU'), raw };
  }

  async version(): Promise<VersionInfo> {
    const { json } = await this.#transport.request({ method: 'GET', path: '/version' });
    const raw = (json ?? {}) as Record<string, unknown>;
    const text = (key: string) => String(raw[key] ?? '');
    return {
      version: text('Version'),
      apiVersion: text('ApiVersion'),
      minApiVersion: text('MinAPIVersion'),
      os: text('Os'),
      arch: text('Arch'),
      kernelVersion: text('KernelVersion'),
      raw,
    };
  }
}
