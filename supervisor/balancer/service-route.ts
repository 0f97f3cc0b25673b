// One service as this balancer thread sees it: its replicas from the latest routes snapshot,
// a connection pool per replica, and the strategy that picks among them. Pools come from a
// factory, so tests can give fakes.
import type { RouteReplica } from '../core/protocol.ts';
import type { SharedLayout } from './shared-state.ts';
import type { AttemptOutcome, Member, Strategy } from './strategy.ts';
import type { UpstreamExchange } from './upstream.ts';

export interface PoolLike {
  /** Sockets open, busy or idle. */
  readonly connections: number;
  dispatch(ex: UpstreamExchange, now: number): boolean;
  sweep(now: number): void;
  /** Requests in flight finish; nothing new starts. */
  close(): void;
  destroy(): void;
}

export interface ReplicaMember extends Member {
  pool: PoolLike;
  /** The replica's base URL, for calls the balancer makes itself (a shared link's preview). */
  url: string;
}

/** `streams`: the upstream serves long-lived responses (event streams): no response deadline. */
export type PoolFactory = (upstream: { host: string; port: number; url: string; streams?: boolean }) => PoolLike;

/** Where an exchange's attempts go: a service's replicas, or one fixed upstream. */
export interface Backend {
  readonly name: string;
  readonly readyCount: number;
  acquire(tried?: readonly ReplicaMember[]): ReplicaMember | undefined;
}

/** One upstream that is always there (the admin listener): no strategy, no shared state. */
export class FixedBackend implements Backend {
  readonly name: string;
  readonly readyCount = 1;
  readonly #member: ReplicaMember;

  constructor(name: string, pool: PoolLike) {
    this.name = name;
    this.#member = { id: name, port: 0, slot: -1, ready: true, live: true, pool, url: '' };
  }

  acquire(tried?: readonly ReplicaMember[]): ReplicaMember | undefined {
    return tried?.includes(this.#member) ? undefined : this.#member;
  }

  sweep(now: number): void {
    this.#member.pool.sweep(now);
  }

  destroy(): void {
    this.#member.pool.destroy();
  }
}

export class ServiceRoute implements Backend {
  readonly name: string;
  readonly index: number;
  readonly strategy: Strategy<ReplicaMember>;
  readonly #layout: SharedLayout;
  readonly #pools: PoolFactory;
  #members = new Map<string, ReplicaMember>();
  /** Pools of replicas that left, by replica id, until their last response is done (their deadlines still apply). */
  readonly #leaving = new Map<PoolLike, string>();

  constructor(name: string, strategy: Strategy<ReplicaMember>, layout: SharedLayout, pools: PoolFactory) {
    this.name = name;
    this.index = layout.serviceIndex(name);
    this.strategy = strategy;
    this.#layout = layout;
    this.#pools = pools;
  }

  /** Takes a routes snapshot: new replicas get a pool, gone ones have theirs closed (gently). */
  update(replicas: readonly RouteReplica[]): void {
    const next = new Map<string, ReplicaMember>();
    for (const r of replicas) {
      const known = this.#members.get(r.id);
      if (known && known.port === r.port) {
        known.ready = r.ready;
        known.live = r.live;
        next.set(r.id, known);
        continue;
      }
      const { hostname, port } = new URL(r.url);
      const host = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
      next.set(r.id, {
        id: r.id,
        port: r.port,
        slot: this.#layout.slotOf(this.name, r.port),
        ready: r.ready,
        live: r.live,
        pool: this.#pools({ host, port: Number(port || 80), url: r.url }),
        url: r.url,
      });
    }
    for (const [id, member] of this.#members) if (!next.has(id)) this.#retire(member);
    this.#members = next;
    this.strategy.setMembers([...next.values()]);
  }

  member(id: string): ReplicaMember | undefined {
    return this.#members.get(id);
  }

  /** Members a request may go to: in rotation, or (in panic) every live one. */
  get readyCount(): number {
    return this.strategy.eligibleCount;
  }

  acquire(tried?: readonly ReplicaMember[]): ReplicaMember | undefined {
    return this.strategy.acquire(tried);
  }

  release(member: ReplicaMember, outcome: AttemptOutcome): boolean {
    return this.strategy.release(member, outcome);
  }

  sweep(now: number): void {
    for (const m of this.#members.values()) m.pool.sweep(now);
    for (const pool of this.#leaving.keys()) {
      pool.sweep(now);
      if (pool.connections === 0) this.#leaving.delete(pool);
    }
  }

  /** When the service itself leaves the routes: every pool closes. */
  closeAll(): void {
    for (const m of this.#members.values()) this.#retire(m);
    this.#members.clear();
    this.strategy.setMembers([]);
  }

  destroyAll(): void {
    for (const m of this.#members.values()) m.pool.destroy();
    for (const pool of this.#leaving.keys()) pool.destroy();
    this.#leaving.clear();
  }

  /** Ends every request in flight to the replica, in rotation or leaving (it failed). */
  abandon(id: string): void {
    this.#members.get(id)?.pool.destroy();
    for (const [pool, leaving] of this.#leaving) {
      if (leaving !== id) continue;
      pool.destroy();
      this.#leaving.delete(pool);
    }
  }

  #retire(member: ReplicaMember): void {
    member.pool.close();
    if (member.pool.connections > 0) this.#leaving.set(member.pool, member.id);
  }
}
