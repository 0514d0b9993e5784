// Quota windows (DESIGN §6, config-attributes.md pools: deactivation/recovery): per-model counters of
// requests, tokens and cost that reset at a UTC boundary, and per-provider spend per UTC day and month.
// Counters roll lazily (at the next usage or status read) and eagerly from the recovery service's midnight
// timer, so a reset happens on time even with no traffic. All arithmetic is UTC: Date.UTC never sees DST.
import type { PoolConfig, QuotaWindow, RecoveryConfig } from '../config/types.ts';
import { utcDay, utcMonth, type StateStore } from './state.ts';

/**
 * The UTC day holding the last time asked about: afterUsage runs on every request, and this keeps it to two
 * comparisons instead of Date objects and ISO strings (a pure function of time, so one cache serves every mesh).
 */
let today = { from: 0, to: 0, monthFrom: 0, monthTo: 0, day: '', month: '' };

function calendar(now: number): typeof today {
  if (now < today.from || now >= today.to) {
    today = { from: windowStart(now, 'daily'), to: nextBoundary(now, 'daily'), monthFrom: windowStart(now, 'monthly'), monthTo: nextBoundary(now, 'monthly'), day: utcDay(now), month: utcMonth(now) };
  }
  return today;
}

/** Start (epoch ms) of the UTC day or month holding `ms`. */
export function windowStart(ms: number, window: QuotaWindow): number {
  const d = new Date(ms);
  return window === 'daily'
    ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate())
    : Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

/** The next UTC midnight (daily) or first of the month 00:00 UTC (monthly) strictly after `ms`. */
export function nextBoundary(ms: number, window: QuotaWindow): number {
  const d = new Date(ms);
  return window === 'daily'
    ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1)
    : Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/** `quota_reset_schedule` as a window: `daily_utc` → daily, `monthly` → monthly. */
export function scheduleWindow(schedule: RecoveryConfig['quota_reset_schedule']): QuotaWindow {
  return schedule === 'monthly' ? 'monthly' : 'daily';
}

/**
 * The window a pool's quota counters use: `quota_window`, else the reset schedule's (so a `request_limit`
 * without `quota_window` is per UTC day by default, never "forever").
 */
export function quotaWindow(pool: PoolConfig): QuotaWindow {
  return pool.deactivation.quota_window ?? scheduleWindow(pool.recovery.quota_reset_schedule);
}

/** True when the pool sets any quota (request, token or budget limit). */
export function hasQuota(pool: PoolConfig): boolean {
  const d = pool.deactivation;
  return d.request_limit !== null || d.token_limit !== null || d.budget_limit !== null;
}

/**
 * Starts a new quota window for a model when the current one has ended: counters to zero, a
 * `quota_reset` event when there was usage to reset. Returns true when it rolled.
 */
export function rollModelWindow(state: StateStore, modelId: string, window: QuotaWindow, now = state.clock.now()): boolean {
  const day = calendar(now);
  return state.rollWindow(modelId, window === 'daily' ? day.from : day.monthFrom, window);
}

/** Zero a provider's daily / monthly spend when the UTC day / month has changed. */
export function rollProviderSpend(state: StateStore, providerId: string, now = state.clock.now()): void {
  const { day, month } = calendar(now);
  state.rollSpend(providerId, day, month);
}

/** When the windows a usage counts in end: the model's quota window, the provider's UTC day and month. */
export function usageWindows(now: number, window: QuotaWindow): { windowEnd: number; dayEnd: number; monthEnd: number } {
  const day = calendar(now);
  return { windowEnd: window === 'daily' ? day.to : day.monthTo, dayEnd: day.to, monthEnd: day.monthTo };
}

/** Which quota limit the model's window counters have reached, as a reason; null when none. */
export function quotaExceeded(pool: PoolConfig, state: StateStore, modelId: string): string | null {
  const d = pool.deactivation;
  // Per request (afterUsage): no limit, nothing to read (the totals cost a counter lookup each).
  if (d.request_limit === null && d.token_limit === null && d.budget_limit === null) return null;
  const s = state.windowTotals(modelId);
  const window = quotaWindow(pool);
  if (d.request_limit !== null && s.requests >= d.request_limit) return `request limit ${d.request_limit} reached (${window} quota)`;
  if (d.token_limit !== null && s.tokens >= d.token_limit) return `token limit ${d.token_limit} reached (${window} quota)`;
  if (d.budget_limit !== null && s.cost >= d.budget_limit) {
    return `budget limit $${d.budget_limit} reached ($${s.cost.toFixed(4)} spent, ${window} quota)`;
  }
  return null;
}

/** Which provider budget has been reached and until when; null when none. */
export function budgetExceeded(
  budget: { daily_limit: number | null; monthly_limit: number | null }, state: StateStore, providerId: string,
): { reason: string; until: number } | null {
  if (budget.monthly_limit === null && budget.daily_limit === null) return null; // per request: nothing to read
  const p = state.provider(providerId);
  const spend = state.spendTotals(providerId);
  const now = state.clock.now();
  // The monthly budget first: its standby lasts longer, so it must win over a simultaneous daily one.
  if (budget.monthly_limit !== null && spend.monthly >= budget.monthly_limit) {
    return { reason: `monthly budget $${budget.monthly_limit} reached ($${spend.monthly.toFixed(4)} spent in ${p.month})`, until: nextBoundary(now, 'monthly') };
  }
  if (budget.daily_limit !== null && spend.daily >= budget.daily_limit) {
    return { reason: `daily budget $${budget.daily_limit} reached ($${spend.daily.toFixed(4)} spent on ${p.day})`, until: nextBoundary(now, 'daily') };
  }
  return null;
}

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

/**
 * A daily UTC `maintenance_window` (`HH:MM-HH:MM`, the end may be past midnight) seen from `now`: whether
 * `now` is inside it and when that occurrence ends, and when the next occurrence starts.
 */
export function maintenanceAt(window: string, now: number): { inside: boolean; end: number; nextStart: number } {
  const [from = '00:00', to = '00:00'] = window.split('-');
  const minutes = (hhmm: string): number => {
    const [h = '0', m = '0'] = hhmm.trim().split(':');
    return Number(h) * 60 + Number(m);
  };
  const day = windowStart(now, 'daily');
  const start = day + minutes(from) * MINUTE_MS;
  let end = day + minutes(to) * MINUTE_MS;
  if (end <= start) end += DAY_MS; // across midnight
  const nextStart = now < start ? start : start + DAY_MS;
  if (now >= start && now < end) return { inside: true, end, nextStart };
  // Still in yesterday's occurrence (a window across midnight, e.g. 23:00-01:00 at 00:30)?
  if (now < end - DAY_MS && now >= start - DAY_MS) return { inside: true, end: end - DAY_MS, nextStart };
  return { inside: false, end, nextStart };
}
