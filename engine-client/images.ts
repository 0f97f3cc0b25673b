// Images: inspect, list, remove, tag, build from a tar context, import a rootfs tar.
import { EngineError, isNotFound } from './errors.ts';
import { encodeFilters, labelFilterValues } from './filters.ts';
import { postTarWithProgress } from './progress.ts';
import type { Transport } from './transport.ts';
import type {
  BuildOptions,
  BuildResult,
  ImageInfo,
  ImageSummary,
  ImportOptions,
  ImportResult,
  JsonMessage,
  Labels,
  ListImagesOptions,
  RemovedImage,
  RemoveImageOptions,
  TarBody,
} from './types.ts';

type Json = Record<string, unknown>;
const enc = encodeURIComponent;
const obj = (value: unknown): Json => (typeof value === 'object' && value !== null ? (value as Json) : {});
const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v) => typeof v === 'string') : []);

export class Images {
  readonly #transport: Transport;

  constructor(transport: Transport) {
    this.#transport = transport;
  }

  async inspect(ref: string): Promise<ImageInfo> {
    const { json } = await this.#transport.request({ method: 'GET', path: `/images/${enc(ref)}/json` });
    const raw = obj(json);
    const config = obj(raw.Config);
    return {
      id: String(raw.Id ?? ''),
      repoTags: strings(raw.RepoTags),
      labels: obj(config.Labels) as Labels,
      size: Number(raw.Size ?? 0),
      created: String(raw.Created ?? ''),
      env: strings(config.Env),
      cmd: strings(config.Cmd),
      entrypoint: strings(config.Entrypoint),
      user: String(config.User ?? ''),
      workingDir: String(config.WorkingDir ?? ''),
      raw,
    };
  }

  /** inspect() that answers undefined instead of NOT_FOUND. */
  async find(ref: string): Promise<ImageInfo | undefined> {
    try {
      return await this.inspect(ref);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async list(options: ListImagesOptions = {}): Promise<ImageSummary[]> {
    const { json } = await this.#transport.request({
      method: 'GET',
      path: '/images/json',
      query: {
        filters: encodeFilters({
          label: labelFilterValues(options.labels),
          reference: options.reference === undefined ? undefined : [options.reference],
          dangling: options.dangling === undefined ? undefined : [String(options.dangling)],
        }),
      },
    });
    return (json as Json[]).map((raw) => ({
      id: String(raw.Id ?? ''),
      repoTags: strings(raw.RepoTags).filter((tag) => tag !== '<none>:<none>'),
      labels: obj(raw.Labels) as Labels,
      size: Number(raw.Size ?? 0),
      created: Number(raw.Created ?? 0),
    }));
  }

  async remove(ref: string, options: RemoveImageOptions = {}): Promise<RemovedImage[]> {
    const { json } = await this.#transport.request({
      method: 'DELETE',
      path: `/images/${enc(ref)}`,
      query: { force: options.force, noprune: options.noPrune },
    });
    return (Array.isArray(json) ? (json as Json[]) : []).map((item) => {
      const removed: RemovedImage = {};
      if (typeof item.Untagged === 'string') removed.untagged = item.Untagged;
      if (typeof item.Deleted === 'string') removed.deleted = item.Deleted;
      return removed;
    });
  }

  /** Tags `ref` as `target` ("repo:tag"; the tag defaults to latest). */
  async tag(ref: string, target: string): Promise<void> {
    const { repo, tag } = splitReference(target);
    await this.#transport.request({ method: 'POST', path: `/images/${enc(ref)}/tag`, query: { repo, tag } });
  }

  /**
   * POST /build with the classic builder (version=1: BuildKit over the raw API needs a gRPC
   * session we do not speak). Fails with STREAM_ERROR when the stream reports an error.
   */
  async build(context: TarBody, options: BuildOptions = {}): Promise<BuildResult> {
    const query = {
      t: options.tags,
      dockerfile: options.dockerfile,
      buildargs: options.buildArgs ? JSON.stringify(options.buildArgs) : undefined,
      labels: options.labels ? JSON.stringify(options.labels) : undefined,
      nocache: options.noCache,
      rm: true,
      forcerm: true, // no intermediate containers left behind by a failed step
      version: '1',
    };
    const messages = await postTarWithProgress(this.#transport, '/build', query, context, options);
    const imageId = await this.#builtImageId(messages, options.tags);
    if (imageId === undefined) {
      throw new EngineError('PROTOCOL_ERROR', 'the build stream ended without naming the image it built', {
        method: 'POST',
        path: '/build',
      });
    }
    return { imageId, tags: options.tags ?? [] };
  }

  /** The id a build stream names: its aux ID, or on older engines the "Successfully built" line. */
  async #builtImageId(messages: JsonMessage[], tags: string[] | undefined): Promise<string | undefined> {
    const auxId = messages.findLast((m) => typeof m.aux?.ID === 'string')?.aux?.ID;
    if (auxId !== undefined) return auxId;
    const built = messages
      .map((m) => /Successfully built ([0-9a-f]+)/.exec(m.stream ?? '')?.[1])
      .findLast((id) => id !== undefined);
    if (built !== undefined) return (await this.inspect(built)).id;
    if (tags?.[0] !== undefined) return (await this.inspect(tags[0])).id;
    return undefined;
  }

  /** POST /images/create?fromSrc=- : a root filesystem tar becomes a one-layer image. */
  async import(rootfs: TarBody, options: ImportOptions): Promise<ImportResult> {
    const query = {
      fromSrc: '-',
      repo: options.repo,
      tag: options.tag ?? 'latest',
      changes: options.changes,
      message: options.message,
    };
    const messages = await postTarWithProgress(this.#transport, '/images/create', query, rootfs, options);
    const ref = `${options.repo}:${query.tag}`;
    // The last status line of an import is the new image's id.
    const status = messages.findLast((m) => /^sha256:[0-9a-f]{64}$/.test(m.status ?? ''))?.status;
    const imageId = status ?? (await this.inspect(ref)).id;
    // Podman's compatible API (4.3) ignores `tag` and names the import repo:latest: tag it.
    if ((await this.find(ref))?.id !== imageId) await this.tag(imageId, ref);
    return { imageId };
  }
}

/** "repo:tag" → parts; a colon inside a registry host ("host:5000/repo") is not a tag. */
export function splitReference(ref: string): { repo: string; tag: string } {
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > slash) return { repo: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { repo: ref, tag: 'latest' };
}
