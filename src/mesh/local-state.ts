// The in-memory StateStore (issue 10.3): one process, plain records, every change through a named operation
// and marked in #touch(). Quota and spend totals also go to WindowCounters (local-windows.ts, issue 13).
import { restoreInto } from './saved-fields.ts';
import type { Clock } from '../lib/clock.ts';
import { LocalWindowCounters, type WindowCounters } from '../lib/window-counters.ts';
import type { EventBus } from './events.ts';
import { CounterWindows } from './local-windows.ts';
import {
  MINUTE_MS, utcDay, utcMonth, type Hold, type ModelState, type ModelView, type ProviderState, type ProviderView,
  type RateReading, type SpendTotals, type StandbyCause, type StateSnapshot, type StateStore, type Usage, type WindowTotals,
} from './state.ts';

const EWMA_ALPHA = 0.2;

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

export class LocalStateStore implements StateStore {
  readonly #models = new Map<string, ModelState>();
  readonly #providers = new Map<string, ProviderState>();
  /** provider id → ids of its models (set from the registry; on_api_outage needs "every model of a provider"). */
  #topology: ReadonlyMap<string, readonly string[]> | null = null;
  #version = 0;
  readonly #windows: CounterWindows;

  readonly clock: Clock;
  readonly events: EventBus;

  readonly #refusing: () => boolean;

  constructor(clock: Clock, events: EventBus, counters: WindowCounters = new LocalWindowCounters(clock), refusing: () => boolean = () => false) {
    this.clock = clock;
    this.events = events;
    this.#windows = new CounterWindows(counters);
    this.#refusing = refusing;
  }

  sharedLimitsRefused(): boolean {
    return this.#refusing();
  }

  get version(): number {
    return this.#version;
  }

  /** The one place a change is marked. */
  #touch(): void {
    this.#version++;
  }

  #model(id: string): ModelState {
    let s = this.#models.get(id);
    if (!s) {
      s = freshModel(this.clock.now());
      this.#models.set(id, s);
    }
    return s;
  }

  #provider(id: string): ProviderState {
    let s = this.#providers.get(id);
    if (!s) {
      s = freshProvider(this.clock.now());
      this.#providers.set(id, s);
    }
    return s;
  }

  model(id: string): ModelView {
    return this.#model(id);
  }

  provider(id: string): ProviderView {
    return this.#provider(id);
  }

  isModelActive(id: string, provider: string): boolean {
    const now = this.clock.now();
    const p = this.#providers.get(provider);
    if (p && p.status === 'standby') {
      if (p.until !== null && now >= p.until) this.releaseProvider(provider, expiryReason(p.cause));
      else return false;
    }
    const m = this.#models.get(id);
    if (!m || m.status === 'active') return true;
    if (m.until !== null && now >= m.until) {
      this.releaseModel(id, provider, expiryReason(m.cause));
      return true;
    }
    return false;
  }

  requestsLastMinute(id: string): number {
    const minute = this.#models.get(id)?.minute;
    if (minute === undefined || minute.length === 0) return 0;
    return minute.length - firstWithin(minute, this.clock.now());
  }

  windowTotals(id: string): WindowTotals {
    return this.#windows.windowTotals(id, this.#model(id));
  }

  spendTotals(id: string): SpendTotals {
    return this.#windows.spendTotals(id, this.#provider(id));
  }

  providerModels(provider: string): readonly string[] | null {
    return this.#topology?.get(provider) ?? null;
  }

  modelIds(): IterableIterator<string> {
    return this.#models.keys();
  }

  providerIds(): IterableIterator<string> {
    return this.#providers.keys();
  }

  snapshot(): StateSnapshot {
    return { version: 1, saved_at: this.clock.now(), models: Object.fromEntries(this.#models), providers: Object.fromEntries(this.#providers) };
  }

  holdModel(id: string, provider: string, hold: Hold): void {
    const s = this.#model(id);
    const now = this.clock.now();
    if (s.status === 'active') s.since = now;
    Object.assign(s, { status: 'standby', reason: hold.reason, until: hold.until, manual: hold.manual, cause: hold.cause });
    this.#touch();
    this.events.emit({ type: 'model_standby', at: now, model: id, provider, pool: hold.pool, reason: hold.reason, until: hold.until });
  }

  releaseModel(id: string, provider: string, reason: string): void {
    const s = this.#model(id);
    if (s.status === 'active') return;
    const now = this.clock.now();
    Object.assign(s, { status: 'active', reason: null, until: null, since: now, manual: false, cause: null, consecutive_failures: 0, recent: [] });
    this.#touch();
    this.events.emit({ type: 'model_active', at: now, model: id, provider, reason });
  }

  holdProvider(id: string, hold: Hold): void {
    const s = this.#provider(id);
    const now = this.clock.now();
    if (s.status === 'active') s.since = now;
    Object.assign(s, { status: 'standby', reason: hold.reason, until: hold.until, manual: hold.manual, cause: hold.cause });
    this.#touch();
    this.events.emit({ type: 'provider_standby', at: now, provider: id, reason: hold.reason, until: hold.until });
  }

  releaseProvider(id: string, reason: string): void {
    const s = this.#provider(id);
    if (s.status === 'active') return;
    Object.assign(s, { status: 'active', reason: null, until: null, since: this.clock.now(), manual: false, cause: null, outage_failures: 0, outage_models: [] });
    this.#touch();
    this.events.emit({ type: 'provider_active', at: this.clock.now(), provider: id, reason });
  }

  endHoldAt(kind: 'model' | 'provider', id: string, until: number): void {
    const s = kind === 'model' ? this.#model(id) : this.#provider(id);
    s.until = until;
    this.#touch();
  }

  recordOutcome(id: string, provider: string, outcome: 0 | 1, window: number): number {
    const s = this.#model(id);
    if (outcome === 0) s.consecutive_failures = 0;
    else s.consecutive_failures++;
    s.recent.push(outcome);
    // shift() for the usual one extra: splice allocates the array of what it removed, on every request.
    if (s.recent.length === window + 1) s.recent.shift();
    else if (s.recent.length > window) s.recent.splice(0, s.recent.length - window);
    if (outcome === 0) {
      // A success from any of its models ends the provider's outage run.
      const p = this.#provider(provider);
      if (p.outage_failures > 0) {
        p.outage_failures = 0;
        p.outage_models = [];
      }
    }
    this.#touch();
    return s.consecutive_failures;
  }

  noteOutage(provider: string, model: string): number {
    const p = this.#provider(provider);
    p.outage_failures++;
    if (!p.outage_models.includes(model)) p.outage_models.push(model);
    this.#touch();
    return p.outage_failures;
  }

  addUsage(id: string, provider: string, usage: Usage): void {
    const s = this.#model(id);
    s.window_requests++;
    s.window_tokens += usage.tokens;
    s.window_cost += usage.cost;
    this.#windows.addModelUsage(id, usage);
    const p = this.#provider(provider);
    p.spend_daily += usage.cost;
    p.spend_monthly += usage.cost;
    this.#windows.addSpend(provider, p, usage);
    this.#touch();
  }

  rollWindow(id: string, start: number, window: 'daily' | 'monthly'): boolean {
    const s = this.#model(id);
    if (s.window_start >= start) return false;
    const hadUsage = s.window_requests > 0 || s.window_tokens > 0 || s.window_cost > 0;
    Object.assign(s, { window_start: start, window_requests: 0, window_tokens: 0, window_cost: 0 });
    this.#touch();
    if (hadUsage) this.events.emit({ type: 'quota_reset', at: this.clock.now(), model: id, window });
    return true;
  }

  resetWindow(id: string, window: 'daily' | 'monthly'): void {
    const now = this.clock.now();
    this.#windows.resetWindow(id);
    Object.assign(this.#model(id), { window_start: now, window_requests: 0, window_tokens: 0, window_cost: 0 });
    this.#touch();
    this.events.emit({ type: 'quota_reset', at: now, model: id, window });
  }

  rollSpend(id: string, day: string, month: string): void {
    const p = this.#provider(id);
    if (p.day === day && p.month === month) return;
    if (p.day !== day) Object.assign(p, { day, spend_daily: 0 });
    if (p.month !== month) Object.assign(p, { month, spend_monthly: 0 });
    this.#touch();
  }

  recordLatency(id: string, ms: number): void {
    const s = this.#model(id);
    s.latency_ewma = s.latency_ewma === null ? ms : s.latency_ewma + EWMA_ALPHA * (ms - s.latency_ewma);
  }

  recordRate(id: string, reading: RateReading): void {
    this.#model(id).rate = reading;
  }

  noteRequest(id: string): void {
    const minute = this.#model(id).minute;
    const now = this.clock.now();
    minute.push(now);
    if (minute.length > 0 && (minute[0] as number) <= now - MINUTE_MS) minute.splice(0, firstWithin(minute, now));
  }

  setTopology(providerModels: ReadonlyMap<string, readonly string[]>): void {
    this.#topology = providerModels;
  }

  restore(snapshot: StateSnapshot, keepModels: ReadonlySet<string>, keepProviders: ReadonlySet<string>): number {
    // Fields added after a file was written take their defaults; so do fields of the wrong type.
    const now = this.clock.now();
    const reset = restoreInto(this.#models, snapshot.models, keepModels, () => freshModel(now))
      + restoreInto(this.#providers, snapshot.providers, keepProviders, () => freshProvider(now));
    this.#touch();
    return reset;
  }
}

/** Index of the first timestamp within the last minute (timestamps ascending). */
function firstWithin(minute: readonly number[], now: number): number {
  const cutoff = now - MINUTE_MS;
  let i = 0;
  while (i < minute.length && (minute[i] as number) <= cutoff) i++;
  return i;
}
