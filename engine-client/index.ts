// Our client of the Docker Engine REST API over its unix socket. Knows nothing of the
// supervisor or the app.
//
//   const engine = new DockerEngine();            // DOCKER_HOST or /var/run/docker.sock
//   const { id } = await engine.containers.create({ image: 'acts:latest', labels, ports });
//   await engine.containers.start(id);
//   for await (const e of engine.events({ labels: { 'selflessacts.service': true }, signal })) ...
//   await engine.close();
//
// Semantics: 304 on start/stop is success; failures are EngineError with a `code`
// (NOT_FOUND and CONFLICT as NotFoundError / ConflictError); an error line inside a 200 stream
// (build, import) fails the call with STREAM_ERROR and the engine's message.
import { Containers } from './containers.ts';
import { streamEvents } from './events.ts';
import { Images } from './images.ts';
import { Networks } from './networks.ts';
import { System } from './system.ts';
import { Transport } from './transport.ts';
import type { EngineEvent, EngineOptions, EventsOptions } from './types.ts';

export class DockerEngine {
  readonly containers: Containers;
  readonly images: Images;
  readonly networks: Networks;
  readonly system: System;
  readonly #transport: Transport;

  constructor(options: EngineOptions = {}) {
    this.#transport = new Transport(options);
    this.containers = new Containers(this.#transport);
    this.images = new Images(this.#transport);
    this.networks = new Networks(this.#transport);
    this.system = new System(this.#transport);
  }

  /** The unix socket this client talks to. */
  get socketPath(): string {
    return this.#transport.socketPath;
  }

  /** The API version in use, negotiated with the engine on first use. */
  apiVersion(): Promise<string> {
    return this.#transport.apiVersion();
  }

  /** The engine's event stream; ends quietly when `options.signal` aborts. */
  events(options: EventsOptions = {}): AsyncGenerator<EngineEvent, void, undefined> {
    return streamEvents(this.#transport, options);
  }

  /** Closes the connections; safe to call twice. Open streams are destroyed. */
  close(): Promise<void> {
    return this.#transport.close();
  }
}

export { Containers } from './containers.ts';
export { Images } from './images.ts';
export { Networks } from './networks.ts';
export { System } from './system.ts';
export { LogDemuxer } from './logs.ts';
export { JsonLinesSplitter } from './json-lines.ts';
export { tarStream, tarBuffer } from './tar.ts';
export type { TarEntry } from './tar.ts';
export {
  EngineError,
  NotFoundError,
  ConflictError,
  codeForStatus,
  engineErrorCode,
  fromWire,
  toWire,
  isEngineError,
  isNotFound,
  isConflict,
  isEngineUnavailable,
  isTimeout,
} from './errors.ts';
export type { EngineErrorCode, EngineErrorWire, EngineErrorDetails } from './errors.ts';
export { defaultSocketPath } from './transport.ts';
export type * from './types.ts';
