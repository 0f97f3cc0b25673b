// One value per worker thread that both sides type themselves by: the primary's WorkerHost (the
// messages it posts and receives, the config it hands over) and the thread's channel (the same,
// seen from inside). A worker's messages and config cannot drift apart on the two sides.
import type { BalancerSettings } from '../balancer/settings.ts';
import type { HeartbeatConfig } from '../heartbeat/heartbeat.ts';
import type { FromBalancer, FromHeartbeat, FromScaler, ToBalancer, ToHeartbeat, ToScaler } from '../protocol.ts';
import type { ScalerConfig } from '../scaler/scaler.ts';

export interface WorkerSpec<In, Out, Config> {
  /** For logs, events and POST /workers/<name>/kill. */
  readonly name: string;
  /** The thread's TypeScript entry: a thin shell around the worker's class. */
  readonly entry: URL;
  /** Types only, never set: what the primary posts, what the thread sends back, its config. */
  readonly types?: { in: In; out: Out; config: Config };
}

function spec<In, Out, Config>(name: string, file: string): WorkerSpec<In, Out, Config> {
  return { name, entry: new URL(file, import.meta.url) };
}

export const BALANCER = spec<ToBalancer, FromBalancer, BalancerSettings>('balancer', './balancer.ts');
export const HEARTBEAT = spec<ToHeartbeat, FromHeartbeat, HeartbeatConfig>('heartbeat', './heartbeat.ts');
export const SCALER = spec<ToScaler, FromScaler, ScalerConfig>('scaler', './scaler.ts');
