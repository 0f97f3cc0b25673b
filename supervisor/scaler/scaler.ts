// The scaler's logic, with no thread or timer of its own (the worker shell gives it a clock, the
// balancer's shared request counters and a way to send): counts each autoscaled service's
// requests in windows (the first opens at the first counted request), and at each window's end
// reads the counts once more, straight from shared memory, asks the service's policy
// (policy.ts) for the replica count and tells the primary. It reports each open window as it
// grows, for the dashboard and for a replay should this thread be restarted.
import type { SharedMemory } from '../balancer/settings.ts';
import type { ServiceCount } from '../balancer/shared-state.ts';
import type { Clock, Timer } from '../core/clock.ts';
import type { ScaleMessage, WindowMessage, WindowStatus } from '../core/protocol.ts';
import { scalingPolicy, type PolicySettings, type RequestWindow, type ScalingPolicy } from './policy.ts';

export interface ScalerConfig {
  /** Autoscaled services only. */
  policies: Record<string, PolicySettings>;
  shared: SharedMemory;
}

/** Counted requests per service since the last take (balancer/shared-state.ts RequestCounters). */
export interface CountSource {
  take(now: number): Record<string, ServiceCount>;
}

export interface ScalerDeps {
  policies: Record<string, PolicySettings>;
  clock: Clock;
  counts: CountSource;
  send: (message: WindowMessage | ScaleMessage) => void;
  /** How often open windows take the counts (for the dashboard); a window's end takes them too. */
  pollMs?: number;
}

interface Track {
  window: RequestWindow;
  /** Recommendations of recent windows, newest last (damping). */
  history: number[];
  timer?: Timer;
}

const HISTORY = 20;
const POLL_MS = 1000;

export class Scaler {
  readonly #d: ScalerDeps;
  readonly #policies = new Map<string, ScalingPolicy>();
  readonly #tracks = new Map<string, Track>();
  #current: Record<string, number> = {};
  #poller: Timer | undefined;
  #started = false;
  #stopped = false;

  constructor(deps: ScalerDeps) {
    this.#d = deps;
    for (const [service, settings] of Object.entries(deps.policies))
      this.#policies.set(service, scalingPolicy(settings));
  }

  /** Starts taking the counts every pollMs; again is a no-op. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    const tick = () => {
      if (this.#stopped) return;
      this.#takeCounts();
      this.#poller = this.#d.clock.after(this.#d.pollMs ?? POLL_MS, tick);
    };
    tick();
  }

  stop(): void {
    this.#stopped = true;
    this.#poller?.cancel();
    for (const track of this.#tracks.values()) track.timer?.cancel();
  }

  /** How many replicas each service has now (damping never goes above it). */
  setCurrent(current: Record<string, number>): void {
    this.#current = current;
  }

  /** A window opens now without a request (the service adopted more replicas than its minimum). */
  openWindow(service: string, at: number): void {
    const policy = this.#policies.get(service);
    if (policy && !this.#tracks.has(service)) this.#begin(service, policy.openWindow(at), []);
  }

  /**
   * The primary's first word to a (re)started scaler: the windows as it last reported them, then
   * counting starts, so requests counted meanwhile go into those windows, not a new one.
   */
  resume(windows: readonly WindowStatus[], current: Record<string, number>): void {
    this.#current = current;
    for (const w of windows) {
      if (!this.#policies.has(w.service) || this.#tracks.has(w.service)) continue;
      this.#begin(w.service, { startedAt: w.startedAt, endsAt: w.endsAt, requests: w.requests }, w.history);
    }
    this.start();
  }

  #takeCounts(): void {
    for (const [service, { count, firstAt }] of Object.entries(this.#d.counts.take(this.#d.clock.now()))) {
      const policy = this.#policies.get(service);
      if (!policy || count <= 0) continue;
      const track = this.#tracks.get(service);
      if (track) {
        track.window.requests += count;
        this.#report(service);
      } else {
        this.#begin(service, { ...policy.openWindow(firstAt), requests: count }, []);
      }
    }
  }

  #begin(service: string, window: RequestWindow, history: number[]): void {
    const track: Track = { window, history };
    this.#tracks.set(service, track);
    this.#schedule(service, track);
    this.#report(service);
  }

  #schedule(service: string, track: Track): void {
    track.timer?.cancel();
    // A scaler that was down past several window ends catches up one window at a time.
    track.timer = this.#d.clock.after(track.window.endsAt - this.#d.clock.now(), () => this.#close(service, track));
  }

  #close(service: string, track: Track): void {
    if (this.#stopped || this.#tracks.get(service) !== track) return;
    this.#takeCounts(); // requests made up to now belong to the window that is closing
    const policy = this.#policies.get(service)!;
    const { window } = track;
    const decision = policy.decide(window.requests, track.history, this.#current[service] ?? policy.settings.min);
    this.#d.send({
      type: 'scale',
      service,
      desired: decision.replicas,
      code: decision.code,
      reason: decision.reason,
      requests: window.requests,
      windowStartedAt: window.startedAt,
      windowEndsAt: window.endsAt,
    });
    track.history = [...track.history, policy.recommend(window.requests).replicas].slice(-HISTORY);
    if (policy.keepWindowing(window, decision.replicas)) {
      track.window = policy.nextWindow(window);
      this.#schedule(service, track);
      this.#report(service);
    } else {
      this.#tracks.delete(service);
      this.#d.send({ type: 'window', window: { service, closed: true } });
    }
  }

  #report(service: string): void {
    const track = this.#tracks.get(service)!;
    const policy = this.#policies.get(service)!;
    const projection = policy.recommend(track.window.requests);
    this.#d.send({
      type: 'window',
      window: {
        service,
        startedAt: track.window.startedAt,
        endsAt: track.window.endsAt,
        windowSeconds: policy.settings.windowSeconds,
        requestsPerReplica: policy.settings.requestsPerReplica,
        requests: track.window.requests,
        nextDesired: projection.replicas,
        nextThreshold: policy.nextThreshold(track.window.requests),
        reason: projection.reason,
        history: track.history,
      },
    });
  }
}
