// Model and provider state (DESIGN §6): status, standby reason and until-when, counters per quota window,
// latency EWMA, provider spend. One store per mesh, shared by every pool (a model in standby is in standby
// everywhere). Transitions emit events with their reason. The shape is plain data so it can be saved and
// loaded as JSON (storage, issue "state that survives restarts").
import type { Clock } from '../lib/clock.ts';
import type { EventBus } from './events.ts';

export type Status = 'active' | 'standby';

/**
 * Why something is in standby; decides how it comes back (recovery.ts): `failure`, `auth` and `outage`
 * recover by cooldown or probe, `quota`/`budget` at the window boundary, `maintenance` at the window end,
 * `manual` only through the admin API.
 */
export type StandbyCause = 'failure' | 'auth' | 'outage' | 'quota' | 'budget' | 'maintenance' | 'manual';

/** Active or in standby, and why: the part models and providers share. */
export interface Standing {
  status: Status;
  reason: string | null;
  /** Epoch ms when it may be tried again; null = until probe, quota reset or manual activation. */
  until: number | null;
  /** Epoch ms of the last status change. */
  since: number;
  /** True when put in standby by an operator (only an operator brings it back). */
  manual: boolean;
  /** Why it is in standby (null when active; absent in state files written before it existed). */
  cause: StandbyCause | null;
}

export interface ModelState extends Standing {
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

export interface ProviderState extends Standing {
  /** Outage-class failures (transport errors, 5xx) of its models in a row, and which models (on_api_outage). */
  outage_failures: number;
  outage_models: string[];
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
/** Local request counting (rate_limit.max_rpm) looks back one minute. */
export const MINUTE_MS = 60_000;

function freshModel(now: number): ModelState {
  return {
    status: 'active', reason: null, until: null, since: now, manual: false, cause: null, consecutive_failures: 0, recent: [],
    window_start: now, window_requests: 0, window_tokens: 0, window_cost: 0, latency_ewma: null, rate: null, minute: [],
  };
}

function freshProvider(now: number): ProviderState {
  return {
    status: 'active', reason: null, until: null, since: now, manual: false, cause: null, outage_failures: 0, outage_models: [],
    day: utcDay(now), month: utcMonth(now), spend_daily: 0, spend_monthly: 0,
  };
}

/** The reason logged when a standby ends by itself because its `until` has passed. */
function expiryReason(cause: StandbyCause | null): string {
  switch (cause) {
    case 'quota':
      return 'quota reset';
    case 'budget':
      return 'budget period reset';
    case 'maintenance':
      return 'maintenance window ended';
    default:
      return 'cooldown elapsed';
  }
}

export class StateStore {
  private models = new Map<string, ModelState>();
  private providers = new Map<string, ProviderState>();
  /** provider id → ids of its models (set from the registry; on_api_outage needs "every model of a provider"). */
  private topology: ReadonlyMap<string, readonly string[]> | null = null;
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
      s = freshModel(this.clock.now());
      this.models.set(id, s);
    }
    return s;
  }

  provider(id: string): ProviderState {
    let s = this.providers.get(id);
    if (!s) {
      s = freshProvider(this.clock.now());
      this.providers.set(id, s);
    }
    return s;
  }

  /** Active now? Lazily ends a standby whose `until` has passed (cooldown elapsed). */
  isModelActive(id: string, provider: string): boolean {
    const now = this.clock.now();
    const p = this.providers.get(provider);
    if (p && p.status === 'standby') {
      if (p.until !== null && now >= p.until) this.activateProvider(provider, expiryReason(p.cause));
      else return false;
    }
    const m = this.models.get(id);
    if (!m || m.status === 'active') return true;
    if (m.until !== null && now >= m.until) {
      this.activateModel(id, provider, expiryReason(m.cause));
      return true;
    }
    return false;
  }

  standbyModel(
    id: string, provider: string, reason: string, until: number | null, pool: string | null, manual = false,
    cause: StandbyCause = manual ? 'manual' : 'failure',
  ): void {
    const s = this.model(id);
    const now = this.clock.now();
    const wasActive = s.status === 'active';
    s.status = 'standby';
    s.reason = reason;
    s.until = until;
    s.manual = manual;
    s.cause = cause;
    if (wasActive) s.since = now;
    this.version++;
    this.events.emit({ type: 'model_standby', at: now, model: id, provider, pool, reason, until });
  }

  activateModel(id: string, provider: string, reason: string): void {
    const s = this.model(id);
    if (s.status === 'active') return;
    const now = this.clock.now();
    Object.assign(s, { status: 'active', reason: null, until: null, since: now, manual: false, cause: null, consecutive_failures: 0, recent: [] });
    this.version++;
    this.events.emit({ type: 'model_active', at: now, model: id, provider, reason });
  }

  standbyProvider(id: string, reason: string, until: number | null, manual = false, cause: StandbyCause = manual ? 'manual' : 'auth'): void {
    const s = this.provider(id);
    const now = this.clock.now();
    if (s.status === 'active') s.since = now;
    Object.assign(s, { status: 'standby', reason, until, manual, cause });
    this.version++;
    this.events.emit({ type: 'provider_standby', at: now, provider: id, reason, until });
  }

  activateProvider(id: string, reason: string): void {
    const s = this.provider(id);
    if (s.status === 'active') return;
    Object.assign(s, { status: 'active', reason: null, until: null, since: this.clock.now(), manual: false, cause: null, outage_failures: 0, outage_models: [] });
    this.version++;
    this.events.emit({ type: 'provider_active', at: this.clock.now(), provider: id, reason });
  }

  recordLatency(id: string, ms: number): void {
    const s = this.model(id);
    s.latency_ewma = s.latency_ewma === null ? ms : s.latency_ewma + EWMA_ALPHA * (ms - s.latency_ewma);
  }

  /** Note one request start for local rpm counting (rate_limit.max_rpm); keeps only the last minute. */
  noteRequest(id: string): void {
    const minute = this.model(id).minute;
    const now = this.clock.now();
    minute.push(now);
    if (minute.length > 0 && (minute[0] as number) <= now - MINUTE_MS) minute.splice(0, firstWithin(minute, now));
  }

  /** Requests started in the last minute (read-only: the window is trimmed by noteRequest). */
  requestsLastMinute(id: string): number {
    const minute = this.models.get(id)?.minute;
    if (minute === undefined || minute.length === 0) return 0;
    return minute.length - firstWithin(minute, this.clock.now());
  }

  /** Tell the store which models each provider has (registry build and reload). */
  setTopology(providerModels: ReadonlyMap<string, readonly string[]>): void {
    this.topology = providerModels;
  }

  /** The models of a provider, or null when no topology was set. */
  providerModels(provider: string): readonly string[] | null {
    return this.topology?.get(provider) ?? null;
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
    // Fields added after a file was written take their defaults.
    const now = this.clock.now();
    for (const [id, s] of Object.entries(snapshot.models)) if (keepModels.has(id)) this.models.set(id, { ...freshModel(now), ...s });
    for (const [id, s] of Object.entries(snapshot.providers)) if (keepProviders.has(id)) this.providers.set(id, { ...freshProvider(now), ...s });
    this.version++;
  }

  modelIds(): IterableIterator<string> {
    return this.models.keys();
  }

  providerIds(): IterableIterator<string> {
    return this.providers.keys();
  }
}

/** Index of the first timestamp within the last minute (timestamps ascending). */
function firstWithin(minute: readonly number[], now: number): number {
  const cutoff = now - MINUTE_MS;
  let i = 0;
  while (i < minute.length && (minute[i] as number) <= cutoff) i++;
  return i;
}

export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function utcMonth(ms: number): string {
  return new Date(ms).toISOString().slice(0, 7);
}
