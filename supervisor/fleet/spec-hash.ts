// What a replica was started from, as a label it carries (<prefix>.spec): a short hash of each
// part of its effective spec (the image's id, not its tag; the rendered environment; the
// command; the resources), so a replica that no longer matches the config is found, and the
// event that replaces it can say which part changed.
import { createHash } from 'node:crypto';

export interface SpecInput {
  /** The image's id (sha256:...), or '' without an image (process runtime). */
  imageId: string;
  /** Rendered with a fixed instance id: an instance's own id is no change of spec. */
  env: Record<string, string>;
  command: readonly string[] | undefined;
  /** The process runtime's build step: part of the command (it decides what runs). */
  build?: { command: readonly string[]; run: readonly string[] } | undefined;
  /** What the replica is held to; a request (what capacity counts) changes nothing in it. */
  resources: { memoryMb: number; cpus: number; memoryRequestMb?: number };
  containerPort: number;
}

const PARTS = ['image', 'env', 'command', 'resources'] as const;
export type SpecPart = (typeof PARTS)[number];
export type SpecParts = Record<SpecPart, string>;

/** The instance id templates get when a spec is hashed. */
export const HASHED_INSTANCE = 'spec';

function short(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 12);
}

export function specParts(input: SpecInput): SpecParts {
  const env = Object.fromEntries(Object.entries(input.env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return {
    image: input.imageId === '' ? '-' : input.imageId.replace(/^sha256:/, '').slice(0, 12),
    env: short(env),
    // Without a build, the hash of the command alone: replicas of services that declare none keep their labels.
    command: short(input.build ? { command: input.command ?? null, build: input.build } : (input.command ?? null)),
    resources: short({ ...withoutRequest(input.resources), containerPort: input.containerPort }),
  };
}

function withoutRequest(resources: SpecInput['resources']): Omit<SpecInput['resources'], 'memoryRequestMb'> {
  const { memoryRequestMb: _request, ...limits } = resources;
  return limits;
}

/** "image=0123456789ab,env=...,command=...,resources=..." */
export function formatSpec(parts: SpecParts): string {
  return PARTS.map((p) => `${p}=${parts[p]}`).join(',');
}

export function parseSpec(label: string | undefined): SpecParts | undefined {
  if (label === undefined) return undefined;
  const entries = new Map(label.split(',').map((kv) => kv.split('=', 2) as [string, string]));
  if (!PARTS.every((p) => typeof entries.get(p) === 'string' && entries.get(p) !== '')) return undefined;
  return Object.fromEntries(PARTS.map((p) => [p, entries.get(p)!])) as SpecParts;
}

/**
 * Why a replica carrying `label` differs from `wanted`: the parts that changed; empty when it
 * matches, and when it carries no readable spec (an older supervisor's replica: what it was
 * started from cannot be told, and replacing every replica on an upgrade is no one's wish).
 */
export function specDrift(label: string | undefined, wanted: SpecParts): string[] {
  const have = parseSpec(label);
  if (!have) return [];
  return PARTS.filter((p) => have[p] !== wanted[p]).map((p) =>
    p === 'image' ? `image ${have.image} → ${wanted.image}` : p,
  );
}
