// Which replicas no longer match the config (rolling replacement): each replica carries its
// effective spec as a label (spec-hash.ts); the spec a replica on that port would get now is
// computed from the config, the rendered environment and the image's current id (looked up
// again every few seconds, so a rebuild under the same tag counts as a change). The fleet
// replaces drifted replicas one at a time (reconcile.ts); a spec that cannot be computed (the
// image is missing) drifts nothing: no rollout towards an image that is not there.
import type { Clock } from '../core/clock.ts';
import type { ServiceConfig } from '../config/config.ts';
import type { Logger } from '../core/log.ts';
import type { Runtime } from '../runtime/runtime.ts';
import { HASHED_INSTANCE, formatSpec, specDrift, specParts, type SpecParts } from './spec-hash.ts';

/** How often image ids are looked up again (a rebuild is noticed within this). */
export const IMAGE_CHECK_MS = 5000;

export interface RolloutDeps {
  runtime: Runtime;
  clock: Clock;
  logger: Logger;
  /** The environment a replica of `service` on `port` would get, with `instance` as its id. */
  envFor: (service: ServiceConfig, port: number, instance: string) => Record<string, string>;
}

/** What drift() needs of a replica. */
export interface SpecHolder {
  id: string;
  service: string;
  port: number;
  state: string;
  spec?: string | undefined;
}

export class SpecTracker {
  readonly #d: RolloutDeps;
  /** Image name → its id at the last look (undefined: not found). */
  readonly #imageIds = new Map<string, string | undefined>();
  #checkedAt = Number.NEGATIVE_INFINITY;

  constructor(deps: RolloutDeps) {
    this.#d = deps;
  }

  /** The next refresh() looks the images up whatever the time (a reload, an image rebuilt). */
  invalidate(): void {
    this.#checkedAt = Number.NEGATIVE_INFINITY;
  }

  /** Looks the services' image ids up again when the last look is older than IMAGE_CHECK_MS. */
  async refresh(services: readonly ServiceConfig[]): Promise<void> {
    const { runtime, clock } = this.#d;
    if (!runtime.imageId || clock.now() - this.#checkedAt < IMAGE_CHECK_MS) return;
    this.#checkedAt = clock.now();
    for (const image of new Set(services.map((s) => s.image).filter((i): i is string => i !== undefined))) {
      try {
        const id = await runtime.imageId(image);
        const before = this.#imageIds.get(image);
        if (this.#imageIds.has(image) && before !== id)
          this.#d.logger.info('image changed', { image, from: before, to: id });
        this.#imageIds.set(image, id);
      } catch (err) {
        // The engine not answering is no change of spec: keep what we knew.
        this.#d.logger.warn('image lookup failed', { image, error: (err as Error).message });
      }
    }
  }

  /** The spec label of a replica of `s` on `port` started now; undefined while it cannot be told. */
  wanted(s: ServiceConfig, port: number): string | undefined {
    const parts = this.#wantedParts(s, port);
    return parts && formatSpec(parts);
  }

  #wantedParts(s: ServiceConfig, port: number): SpecParts | undefined {
    let imageId = '';
    if (this.#d.runtime.imageId && s.image !== undefined) {
      const id = this.#imageIds.get(s.image);
      if (id === undefined) return undefined;
      imageId = id;
    }
    return specParts({
      imageId,
      env: this.#d.envFor(s, port, HASHED_INSTANCE),
      command: s.command,
      build: s.build,
      resources: s.resources,
      containerPort: s.containerPort,
    });
  }

  /**
   * Replicas whose spec differs, and why, whatever their state: one still starting (adopted after
   * a restart) or already leaving still means a roll is under way, which keeps its surge replica
   * (reconcile.ts isRolling); the plan replaces only once every replica of the service is ready.
   */
  drift(replicas: Iterable<SpecHolder>, services: readonly ServiceConfig[]): Map<string, string> {
    const out = new Map<string, string>();
    const byName = new Map(services.map((s) => [s.name, s]));
    for (const r of replicas) {
      const s = byName.get(r.service);
      if (!s) continue;
      const wanted = this.#wantedParts(s, r.port);
      if (wanted === undefined) continue;
      const parts = specDrift(r.spec, wanted);
      if (parts.length > 0) out.set(r.id, parts.join(', '));
    }
    return out;
  }
}
