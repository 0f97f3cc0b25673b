// Networks: user-defined bridges let replicas reach each other by container name.
import { encodeFilters, labelFilterValues } from './filters.ts';
import type { Transport } from './transport.ts';
import type {
  ConnectOptions,
  Labels,
  ListNetworksOptions,
  NetworkEndpoint,
  NetworkInfo,
  NetworkSpec,
} from './types.ts';

type Json = Record<string, unknown>;
const enc = encodeURIComponent;
const obj = (value: unknown): Json => (typeof value === 'object' && value !== null ? (value as Json) : {});

function toNetworkInfo(raw: Json): NetworkInfo {
  const containers: Record<string, NetworkEndpoint> = {};
  for (const [id, value] of Object.entries(obj(raw.Containers))) {
    const c = obj(value);
    containers[id] = { name: String(c.Name ?? ''), ipv4Address: String(c.IPv4Address ?? '') };
  }
  return {
    id: String(raw.Id ?? ''),
    name: String(raw.Name ?? ''),
    driver: String(raw.Driver ?? ''),
    internal: raw.Internal === true,
    labels: obj(raw.Labels) as Labels,
    containers,
    raw,
  };
}

export class Networks {
  readonly #transport: Transport;

  constructor(transport: Transport) {
    this.#transport = transport;
  }

  /** A second network with the same name is a CONFLICT. */
  async create(spec: NetworkSpec): Promise<{ id: string; warning: string }> {
    const { json } = await this.#transport.request({
      method: 'POST',
      path: '/networks/create',
      json: {
        Name: spec.name,
        Driver: spec.driver ?? 'bridge',
        Labels: spec.labels ?? {},
        Internal: spec.internal ?? false,
        Attachable: spec.attachable ?? false,
        CheckDuplicate: true, // the default from API 1.44; older engines need asking
      },
    });
    const body = obj(json);
    return { id: String(body.Id ?? ''), warning: String(body.Warning ?? '') };
  }

  async inspect(idOrName: string): Promise<NetworkInfo> {
    const { json } = await this.#transport.request({ method: 'GET', path: `/networks/${enc(idOrName)}` });
    return toNetworkInfo(obj(json));
  }

  async list(options: ListNetworksOptions = {}): Promise<NetworkInfo[]> {
    const { json } = await this.#transport.request({
      method: 'GET',
      path: '/networks',
      query: {
        filters: encodeFilters({
          label: labelFilterValues(options.labels),
          name: options.name === undefined ? undefined : [options.name],
        }),
      },
    });
    return (Array.isArray(json) ? (json as Json[]) : []).map(toNetworkInfo);
  }

  async remove(idOrName: string): Promise<void> {
    await this.#transport.request({ method: 'DELETE', path: `/networks/${enc(idOrName)}` });
  }

  async connect(network: string, container: string, options: ConnectOptions = {}): Promise<void> {
    await this.#transport.request({
      method: 'POST',
      path: `/networks/${enc(network)}/connect`,
      json: { Container: container, EndpointConfig: { Aliases: options.aliases ?? [] } },
    });
  }

  async disconnect(network: string, container: string, options: { force?: boolean } = {}): Promise<void> {
    await this.#transport.request({
      method: 'POST',
      path: `/networks/${enc(network)}/disconnect`,
      json: { Container: container, Force: options.force ?? false },
    });
  }
}
