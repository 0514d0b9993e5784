// Model and provider state (DESIGN §6): status, standby reason and until-when, counters per quota window,
// latency EWMA, provider spend. One store per mesh, shared by every pool (a model in standby is in standby
// everywhere). Transitions emit events with their reason. The shape is plain data so it can be saved and
// loaded as JSON (storage, issue "state that survives restarts").
import type { Clock } from '../lib/clock.ts';
import type { EventBus } from './events.ts';

export type Status = 'active' | 'standby';

export interface ModelState {
  status: Status;
  reason: string | null;
  /** Epoch ms when a standby model may be tried again; null = until probe, quota reset or manual activation. */
  until: number | null;
  /** Epoch ms of the last status change. */
  since: number;
  /** True when put in standby by an operator (only an operator brings it back). */
  manual: boolean;
  consecutive_failures: number;
  /** Last outcomes, newest last, bounded by the pool's error_rate_window (1 = failure). */
  recent: number[];
  /** Start (epoch ms) of the current quota window and its counters. */
  window_start: number;
  window_requests: number;
  window_tokens: number;
  window_cost: number;
  /** Exponentially weighted moving average of attempt latency (ms), null before the first sample. */
  latency_ewma: number | null;
  /** Last rate-limit reading from upstream headers (rate-limit-aware, load-balanced strategies). */
  rate: RateReading | null;
  /** Start times (epoch ms) of recent requests, for local rpm counting; bounded to one minute. */
  minute: number[];
}

export interface RateReading {
  limit_requests: number | null;
  remaining_requests: number | null;
  reset_requests_at: number | null;
  limit_tokens: number | null;
  remaining_tokens: number | null;
  reset_tokens_at: number | null;
  observed_at: number;
}

export interface ProviderState {
  status: Status;
  reason: string | null;
  until: number | null;
  since: number;
  manual: boolean;
  /** UTC day (YYYY-MM-DD) and month (YYYY-MM) the spend counters belong to. */
  day: string;
  month: string;
  spend_daily: number;
  spend_monthly: number;
}

export interface StateSnapshot {
  version: 1;
  saved_at: number;
  models: Record<string, ModelState>;
  providers: Record<string, ProviderState>;
}

const EWMA_ALPHA = 0.2;

export class StateStore {
  private models = new Map<string, ModelState>();
  private providers = new Map<string, ProviderState>();
  /** Bumped on every change, so periodic storage can skip clean saves. */
  version = 0;

  readonly clock: Clock;
  readonly events: EventBus;

  constructor(clock: Clock, events: EventBus) {
    this.clock = clock;
    this.events = events;
  }

  model(id: string): ModelState {
    let s = this.models.get(id);
    if (!s) {
      const now = this.clock.now();
      s = {
        status: 'active', reason: null, until: null, since: now, manual: false, consecutive_failures: 0, recent: [],
        window_start: now, window_requests: 0, window_tokens: 0, window_cost: 0, latency_ewma: null, rate: null, minute: [],
      };
      this.models.set(id, s);
    }
    return s;
  }

  provider(id: string): ProviderState {
    let s = this.providers.get(id);
    if (!s) {
      const now = this.clock.now();
      s = { status: 'active', reason: null, until: null, since: now, manual: false, day: utcDay(now), month: utcMonth(now), spend_daily: 0, spend_monthly: 0 };
      this.providers.set(id, s);
    }
    return s;
  }

  /** Active now? Lazily ends a standby whose `until` has passed (cooldown elapsed). */
  isModelActive(id: string, provider: string): boolean {
    const now = this.clock.now();
    const p = this.providers.get(provider);
    if (p && p.status === 'standby') {
      if (p.until !== null && now >= p.until) this.activateProvider(provider, 'cooldown elapsed');
      else return false;
    }
    const m = this.models.get(id);
    if (!m || m.status === 'active') return true;
    if (m.until !== null && now >= m.until) {
      this.activateModel(id, provider, 'cooldown elapsed');
      return true;
    }
    return false;
  }

  standbyModel(id: string, provider: string, reason: string, until: number | null, pool: string | null, manual = false): void {
    const s = this.model(id);
    const now = this.clock.now();
    const wasActive = s.status === 'active';
    s.status = 'standby';
    s.reason = reason;
    s.until = until;
    s.manual = manual;
    if (wasActive) s.since = now;
    this.version++;
    this.events.emit({ type: 'model_standby', at: now, model: id, provider, pool, reason, until });
  }

  activateModel(id: string, provider: string, reason: string): void {
    const s = this.model(id);
    if (s.status === 'active') return;
    const now = this.clock.now();
    Object.assign(s, { status: 'active', reason: null, until: null, since: now, manual: false, consecutive_failures: 0, recent: [] });
    this.version++;
    this.events.emit({ type: 'model_active', at: now, model: id, provider, reason });
  }

  standbyProvider(id: string, reason: string, until: number | null, manual = false): void {
    const s = this.provider(id);
    const now = this.clock.now();
    if (s.status === 'active') s.since = now;
    Object.assign(s, { status: 'standby', reason, until, manual });
    this.version++;
    this.events.emit({ type: 'provider_standby', at: now, provider: id, reason, until });
  }

  activateProvider(id: string, reason: string): void {
    const s = this.provider(id);
    if (s.status === 'active') return;
    Object.assign(s, { status: 'active', reason: null, until: null, since: this.clock.now(), manual: false });
    this.version++;
    this.events.emit({ type: 'provider_active', at: this.clock.now(), provider: id, reason });
  }

  recordLatency(id: string, ms: number): void {
    const s = this.model(id);
    s.latency_ewma = s.latency_ewma === null ? ms : s.latency_ewma + EWMA_ALPHA * (ms - s.latency_ewma);
  }

  /** Plain-data copy for storage. */
  snapshot(): StateSnapshot {
    return {
      version: 1,
      saved_at: this.clock.now(),
      models: Object.fromEntries(this.models),
      providers: Object.fromEntries(this.providers),
    };
  }

  /** Restore from storage; state of models and providers no longer configured is dropped. */
  restore(snapshot: StateSnapshot, keepModels: ReadonlySet<string>, keepProviders: ReadonlySet<string>): void {
    for (const [id, s] of Object.entries(snapshot.models)) if (keepModels.has(id)) this.models.set(id, s);
    for (const [id, s] of Object.entries(snapshot.providers)) if (keepProviders.has(id)) this.providers.set(id, s);
    this.version++;
  }

  modelIds(): IterableIterator<string> {
    return this.models.keys();
  }

  providerIds(): IterableIterator<string> {
    return this.providers.keys();
  }
}

export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function utcMonth(ms: number): string {
  return new Date(ms).toISOString().slice(0, 7);
}
