// Statistics per model, provider and pool (DESIGN §7; names from reference/config-attributes.md). Fed by mesh
// events; every update is O(1) per attempt, and memory is bounded by the configured ids (never keyed by a
// name a client sent) times fixed-size histograms, whatever the traffic.
//
// Counting rules:
// - a pool counts client requests (latency: the whole request, failover included);
// - a model and its provider count attempts (a request that failed over from A to B is one failed request of
//   A and one successful request of B), latency per attempt;
// - tokens and cost go to the model that answered, its provider and the pool;
// - requests_total also counts cancelled requests (client went away): total − success − failed = cancelled;
// - downtime_total is ms in standby during this process's life, the current standby included. A pool is down
//   while every one of its members (or their providers) is in standby.
import type { MeshEvent, RequestEvent } from '../mesh/events.ts';
import type { MeshRuntime } from '../mesh/runtime.ts';
import { LatencyHistogram, PromHistogram } from './histogram.ts';

export const STAT_NAMES = [
  'requests_total', 'requests_success', 'requests_failed', 'tokens_in', 'tokens_out', 'cost_total',
  'latency_avg', 'latency_p95', 'downtime_total', 'standby_events', 'quota_resets', 'rotation_events',
] as const;
export type StatName = (typeof STAT_NAMES)[number];
export type StatValues = Record<StatName, number>;
export type Scope = 'model' | 'provider' | 'pool';

export interface StatsSnapshot {
  at: number;
  models: Record<string, StatValues>;
  providers: Record<string, StatValues>;
  pools: Record<string, StatValues>;
}

export class EntityStats {
  requests_total = 0;
  requests_success = 0;
  requests_failed = 0;
  tokens_in = 0;
  tokens_out = 0;
  cost_total = 0;
  readonly latency = new LatencyHistogram();
  downtime_ms = 0;
  /** Epoch ms the current standby began, null while active. */
  down_since: number | null = null;
  /** Epoch ms the current standby ends by itself (cooldown), null when open-ended. */
  down_until: number | null = null;
  standby_events = 0;
  quota_resets = 0;
  rotation_events = 0;

  count(outcome: 'success' | 'failure' | 'cancelled', latencyMs: number): void {
    this.requests_total++;
    if (outcome === 'success') this.requests_success++;
    else if (outcome === 'failure') this.requests_failed++;
    this.latency.record(latencyMs);
  }

  /** Returns true when this was a transition (it was up). */
  goDown(at: number, until: number | null = null): boolean {
    if (this.down_since !== null) {
      this.down_until = until; // a renewed standby moves its end
      return false;
    }
    this.down_since = at;
    this.down_until = until;
    this.standby_events++;
    return true;
  }

  goUp(at: number): void {
    if (this.down_since === null) return;
    this.downtime_ms += this.#current(at);
    this.down_since = null;
    this.down_until = null;
  }

  downtime(now: number): number {
    return this.downtime_ms + (this.down_since === null ? 0 : this.#current(now));
  }

  /** The state store ends a cooldown lazily (when the model is next looked at): the standby really ended at `until`. */
  #current(now: number): number {
    if (this.down_since === null) return 0;
    const end = this.down_until === null ? now : Math.min(now, this.down_until);
    return Math.max(0, end - this.down_since);
  }

  values(now: number): StatValues {
    return {
      requests_total: this.requests_total,
      requests_success: this.requests_success,
      requests_failed: this.requests_failed,
      tokens_in: this.tokens_in,
      tokens_out: this.tokens_out,
      cost_total: this.cost_total,
      latency_avg: round(this.latency.mean),
      latency_p95: round(this.latency.quantile(0.95)),
      downtime_total: this.downtime(now),
      standby_events: this.standby_events,
      quota_resets: this.quota_resets,
      rotation_events: this.rotation_events,
    };
  }
}

/** One Prometheus request series: client requests by pool and the model/provider that answered. */
export interface RouteSeries {
  readonly pool: string;
  readonly model: string;
  readonly provider: string;
  readonly outcomes: { success: number; failure: number; cancelled: number };
  readonly duration: PromHistogram;
}

export class Stats {
  readonly #mesh: MeshRuntime;
  /** Epoch ms the statistics began (process start, in practice). */
  readonly startedAt: number;
  readonly models = new Map<string, EntityStats>();
  readonly providers = new Map<string, EntityStats>();
  readonly pools = new Map<string, EntityStats>();
  /** Keyed `pool \0 model \0 provider`; bounded by pools × models. */
  readonly routes = new Map<string, RouteSeries>();

  constructor(mesh: MeshRuntime) {
    this.#mesh = mesh;
    this.startedAt = mesh.clock.now();
  }

  /** The event listener. Never throws into the router (EventBus also guards). */
  record(event: MeshEvent): void {
    switch (event.type) {
      case 'request':
        this.#request(event);
        return;
      case 'rotation': {
        if (event.pool !== null) entity(this.pools, event.pool).rotation_events++;
        entity(this.models, event.from).rotation_events++;
        const provider = this.#providerOf(event.from);
        if (provider !== null) entity(this.providers, provider).rotation_events++;
        return;
      }
      case 'model_standby':
        if (entity(this.models, event.model).goDown(event.at, event.until)) {
          entity(this.providers, event.provider).standby_events++;
          for (const pool of this.#poolsWith(event.model)) entity(this.pools, pool).standby_events++;
          this.#poolsDown(event.at);
        }
        return;
      case 'model_active':
        entity(this.models, event.model).goUp(event.at);
        this.#poolsDown(event.at);
        return;
      case 'provider_standby':
        if (entity(this.providers, event.provider).goDown(event.at, event.until)) this.#poolsDown(event.at);
        return;
      case 'provider_active':
        entity(this.providers, event.provider).goUp(event.at);
        this.#poolsDown(event.at);
        return;
      case 'quota_reset': {
        entity(this.models, event.model).quota_resets++;
        const provider = this.#providerOf(event.model);
        if (provider !== null) entity(this.providers, provider).quota_resets++;
        for (const pool of this.#poolsWith(event.model)) entity(this.pools, pool).quota_resets++;
        return;
      }
    }
  }

  #request(e: RequestEvent): void {
    if (e.pool !== null) {
      const pool = entity(this.pools, e.pool);
      pool.count(e.outcome, e.latency_ms);
      pool.tokens_in += e.tokens_in;
      pool.tokens_out += e.tokens_out;
      pool.cost_total += e.cost;
    }
    for (const a of e.attempts) {
      entity(this.models, a.model).count(a.outcome, a.latency_ms);
      entity(this.providers, a.provider).count(a.outcome, a.latency_ms);
    }
    if (e.model !== null) {
      const model = entity(this.models, e.model);
      model.tokens_in += e.tokens_in;
      model.tokens_out += e.tokens_out;
      model.cost_total += e.cost;
    }
    if (e.provider !== null) {
      const provider = entity(this.providers, e.provider);
      provider.tokens_in += e.tokens_in;
      provider.tokens_out += e.tokens_out;
      provider.cost_total += e.cost;
    }
    const pool = e.pool ?? '';
    const model = e.model ?? '';
    const provider = e.provider ?? '';
    const key = `${pool}\u0000${model}\u0000${provider}`;
    let series = this.routes.get(key);
    if (series === undefined) {
      series = { pool, model, provider, outcomes: { success: 0, failure: 0, cancelled: 0 }, duration: new PromHistogram() };
      this.routes.set(key, series);
    }
    series.outcomes[e.outcome]++;
    series.duration.observe(e.latency_ms / 1000);
  }

  /**
   * Seeds standby models/providers from the state store (a standby restored from the state file started
   * before this process: its downtime counts from now). Call after state is loaded.
   */
  seed(): void {
    const now = this.#mesh.clock.now();
    const snapshot = this.#mesh.state.snapshot();
    for (const [id, s] of Object.entries(snapshot.models)) {
      if (s.status === 'standby') seedDown(entity(this.models, id), Math.max(now, s.since), s.until);
    }
    for (const [id, s] of Object.entries(snapshot.providers)) {
      if (s.status === 'standby') seedDown(entity(this.providers, id), Math.max(now, s.since), s.until);
    }
    this.#poolsDown(now);
  }

  /**
   * Ends standbys whose cooldown has passed (the state store ends them lazily, when a model is next looked
   * at; a model nobody asks for would otherwise count downtime forever). O(models in standby).
   */
  refresh(): void {
    const state = this.#mesh.state;
    for (const [id, s] of this.models) {
      if (s.down_since === null) continue;
      const provider = this.#providerOf(id);
      if (provider !== null) state.isModelActive(id, provider); // emits model_active when it ends
    }
  }

  snapshot(): StatsSnapshot {
    this.refresh();
    const now = this.#mesh.clock.now();
    const values = (map: Map<string, EntityStats>): Record<string, StatValues> => {
      const out: Record<string, StatValues> = {};
      for (const [id, s] of map) out[id] = s.values(now);
      return out;
    };
    return { at: now, models: values(this.models), providers: values(this.providers), pools: values(this.pools) };
  }

  #providerOf(model: string): string | null {
    return this.#mesh.registry.models.get(model)?.config.provider ?? this.#mesh.config.models.get(model)?.provider ?? null;
  }

  #poolsWith(model: string): string[] {
    const out: string[] = [];
    for (const pool of this.#mesh.registry.pools.values()) if (pool.members.some((m) => m.id === model)) out.push(pool.name);
    return out;
  }

  /** Recomputes which pools have every member down (runs on transitions only, which are rare). */
  #poolsDown(at: number): void {
    for (const pool of this.#mesh.registry.pools.values()) {
      if (pool.members.length === 0) continue;
      const allDown = pool.members.every(
        (m) => this.models.get(m.id)?.down_since != null || this.providers.get(m.config.provider)?.down_since != null,
      );
      const s = this.pools.get(pool.name);
      if (allDown) entity(this.pools, pool.name).down_since ??= at;
      else s?.goUp(at);
    }
  }
}

function seedDown(s: EntityStats, since: number, until: number | null): void {
  if (s.down_since !== null) return;
  s.down_since = since;
  s.down_until = until;
}

function entity(map: Map<string, EntityStats>, id: string): EntityStats {
  let s = map.get(id);
  if (s === undefined) map.set(id, (s = new EntityStats()));
  return s;
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
