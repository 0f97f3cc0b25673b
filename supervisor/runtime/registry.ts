// Every runtime the supervisor can use, in the order `runtime: auto` tries them. A new runtime is
// one file that exports a RuntimePlugin (plugin.ts) and one line here; its settings appear under
// runtimes.<name> in the config, its name becomes a valid `runtime`.
import { dockerRuntime } from './docker.ts';
import { podmanRuntime } from './podman.ts';
import type { SettingsOf } from './plugin.ts';
import { processRuntime } from './process.ts';

export const RUNTIMES = [dockerRuntime, podmanRuntime, processRuntime] as const;

export type RuntimeName = (typeof RUNTIMES)[number]['name'];

/** The config's `runtimes` section: each runtime's settings under its name. */
export type RuntimeSettings = { [P in (typeof RUNTIMES)[number] as P['name']]: SettingsOf<P> };
