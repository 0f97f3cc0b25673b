// One value per worker thread that both sides type themselves by: the primary's WorkerHost (the
// messages it posts and receives, the config it hands over) and the thread's channel (the same,
// seen from inside). A worker's messages and config cannot drift apart on the two sides.
import type { BalancerSettings } from '../balancer/settings.ts';
import type { HeartbeatConfig } from '../heartbeat/heartbeat.ts';
import type { FromBalancer, FromHeartbeat, FromScaler, ToBalancer, ToHeartbeat, ToScaler } from '../core/protocol.ts';
import type { ScalerConfig } from '../scaler/scaler.ts';

export interface WorkerSpec<In, Out, Config> {
  /** For logs, events and POST /workers/<name>/kill. */
  readonly name: string;
  /**
   * The thread's entry, a thin shell around the worker's class: its TypeScript file when the
   * supervisor runs from its sources, its bundled file (dist/supervisor/workers/<name>.mjs,
   * supervisor/bundle.mjs) when it runs from the bundle.
   */
  readonly entry: URL;
  /**
   * A cap on the thread's young generation (MB), for a thread that allocates little: V8 sizes
   * it for throughput otherwise, and keeps the pages.
   */
  readonly youngGenerationMb?: number;
  /** Types only, never set: what the primary posts, what the thread sends back, its config. */
  readonly types?: { in: In; out: Out; config: Config };
}

/** This module is in dist/supervisor/main.mjs when bundled: the workers' bundles are beside it. */
const BUNDLED = !import.meta.url.endsWith('.ts');

function spec<In, Out, Config>(name: string, file: string, youngGenerationMb?: number): WorkerSpec<In, Out, Config> {
  const entry = BUNDLED ? new URL(`./workers/${name}.mjs`, import.meta.url) : new URL(file, import.meta.url);
  return youngGenerationMb === undefined ? { name, entry } : { name, entry, youngGenerationMb };
}

export const BALANCER = spec<ToBalancer, FromBalancer, BalancerSettings>('balancer', './balancer.ts');
// A check a second and a window report a second: a few kilobytes each.
export const HEARTBEAT = spec<ToHeartbeat, FromHeartbeat, HeartbeatConfig>('heartbeat', './heartbeat.ts', 1);
export const SCALER = spec<ToScaler, FromScaler, ScalerConfig>('scaler', './scaler.ts', 1);
