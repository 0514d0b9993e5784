// Model and provider state (DESIGN §6): status, standby reason and until-when, counters per quota window,
// latency EWMA, provider spend. One store per mesh, shared by every pool (a model in standby is in standby
// everywhere). Transitions emit events with their reason. The shape is plain data so it can be saved and
// loaded as JSON (storage, issue "state that survives restarts").
// The store owns every write (issue 10.3): everyone else reads through read-only views and changes state
// only through the named operations of `StateStore`. Reads are synchronous and local; operations are coarse,
// so a shared implementation (issue 13: Redis) can publish them. The in-memory one is local-state.ts.
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

/** Deeply read-only view of a state record (arrays and readings included). */
export type View<T> = { readonly [K in keyof T]: T[K] extends readonly (infer U)[] ? readonly U[] : T[K] extends object | null ? Readonly<T[K]> : T[K] };
export type ModelView = View<ModelState>;
export type ProviderView = View<ProviderState>;

/** A standby to put in force (`pool` is where it was decided, for the event; null for provider holds). */
export interface Hold {
  reason: string;
  /** Epoch ms when it may be tried again; null = until probe, quota reset or manual activation. */
  until: number | null;
  cause: StandbyCause;
  pool: string | null;
  manual: boolean;
}

/** Usage of one finished request, and when the quota window it counts in ends (epoch ms). */
export interface Usage {
  tokens: number;
  cost: number;
  /** Epoch ms the usage was recorded at (the caller's clock reading, passed on to the counters). */
  at?: number;
  /** The model's quota window (start and end, epoch ms) and the provider's UTC day/month and their ends. */
  windowEnd: number;
  dayEnd: number;
  monthEnd: number;
}

/** A model's quota-window totals and a provider's spend, as the decisions see them (all instances when shared). */
export interface WindowTotals {
  requests: number;
  tokens: number;
  cost: number;
}

export interface SpendTotals {
  daily: number;
  monthly: number;
}

export interface StateStore {
  readonly clock: Clock;
  readonly events: EventBus;
  /** Moves on every change, so periodic storage can skip clean saves. */
  readonly version: number;

  // Reads (synchronous, local).
  model(id: string): ModelView;
  provider(id: string): ProviderView;
  /** Active now? Lazily ends a standby whose `until` has passed (cooldown elapsed). */
  isModelActive(id: string, provider: string): boolean;
  /** Requests started in the last minute (local rpm counting, rate_limit.max_rpm). */
  requestsLastMinute(id: string): number;
  /** The model's quota-window counters (the total of every instance when state is shared). */
  windowTotals(id: string): WindowTotals;
  /** The provider's spend this UTC day and month (the total of every instance when state is shared). */
  spendTotals(id: string): SpendTotals;
  /** True while shared state is unreachable and `on_unavailable: closed`: traffic under a shared limit is refused. */
  sharedLimitsRefused(): boolean;
  /** The models of a provider, or null when no topology was set. */
  providerModels(provider: string): readonly string[] | null;
  modelIds(): IterableIterator<string>;
  providerIds(): IterableIterator<string>;
  /** Plain-data copy for storage. */
  snapshot(): StateSnapshot;

  // Operations (each one marks the change).
  holdModel(id: string, provider: string, hold: Hold): void;
  releaseModel(id: string, provider: string, reason: string): void;
  holdProvider(id: string, hold: Hold): void;
  releaseProvider(id: string, reason: string): void;
  /** Give an open-ended hold an end (a hold waiting for a probe no pool runs any more). */
  endHoldAt(kind: 'model' | 'provider', id: string, until: number): void;
  /** A success (0) or failure (1) of an attempt: consecutive failures and the error-rate window; returns the consecutive failures. */
  recordOutcome(id: string, provider: string, outcome: 0 | 1, window: number): number;
  /** One outage-class failure of a model counted against its provider's run; returns the run length. */
  noteOutage(provider: string, model: string): number;
  addUsage(id: string, provider: string, usage: Usage): void;
  /** Start the model's quota window at `start` when the current one is older; emits quota_reset if it had usage. */
  rollWindow(id: string, start: number, window: 'daily' | 'monthly'): boolean;
  /** Fresh quota counters from now (an operator ending a quota hold). */
  resetWindow(id: string, window: 'daily' | 'monthly'): void;
  /** Move the provider's spend counters to UTC `day` / `month` (zeroing what changed). */
  rollSpend(id: string, day: string, month: string): void;
  recordLatency(id: string, ms: number): void;
  recordRate(id: string, reading: RateReading): void;
  /** Note one request start for local rpm counting; keeps only the last minute. */
  noteRequest(id: string): void;
  /** Tell the store which models each provider has (registry build and reload). */
  setTopology(providerModels: ReadonlyMap<string, readonly string[]>): void;
  /**
   * Restore from storage; state of models and providers no longer configured is dropped. Returns how many
   * fields held a value of the wrong type (a hand-edited or damaged file) and took their default instead.
   */
  restore(snapshot: StateSnapshot, keepModels: ReadonlySet<string>, keepProviders: ReadonlySet<string>): number;
}

/** Local request counting (rate_limit.max_rpm) looks back one minute. */
export const MINUTE_MS = 60_000;

export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function utcMonth(ms: number): string {
  return new Date(ms).toISOString().slice(0, 7);
}
