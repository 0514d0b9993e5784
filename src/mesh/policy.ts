// Deactivation rules that run after every attempt (DESIGN §4.6, §6). The router reports outcomes here;
// this module decides standby transitions and until when:
// - per model: retry_limit (consecutive failures), error_rate_threshold over error_rate_window requests,
//   error_codes, and the quota triggers request_limit / token_limit / budget_limit per quota window;
// - per provider: on_auth_failure (401/403), on_api_outage (every model failing with transport errors or
//   5xx, retry_limit times in a row), budget.daily_limit / monthly_limit.
// How a standby ends is decided here too (its `until` and cause): see recoverAt / recovery.ts.
import type { PoolConfig } from '../config/types.ts';
import { MeshError } from '../errors.ts';
import { servesEndpoint } from './eligibility.ts';
import { budgetExceeded, hasQuota, nextBoundary, quotaExceeded, quotaWindow, rollModelWindow, rollProviderSpend, scheduleWindow, usageWindows } from './quota.ts';
import { CLIENT_ERROR_STATUSES } from './retry.ts';
import type { StandbyCause, StateStore, Status } from './state.ts';
import type { ModelEntry } from './types.ts';

export interface FailureInfo {
  status: number;
  reason: string;
}

/** on_api_outage: N outage failures in a row, N = the pool's retry_limit (this when retry_limit is 0). */
const DEFAULT_OUTAGE_RUN = 3;

/** A success resets the consecutive-failure count, feeds the error-rate window and ends an outage run. */
export function afterSuccess(pool: PoolConfig, model: ModelEntry, state: StateStore): void {
  state.recordOutcome(model.id, model.config.provider, 0, pool.deactivation.error_rate_window);
}

/** Apply the pool's deactivation rules to a failed attempt. Returns true when the model is now unavailable. */
export function afterFailure(pool: PoolConfig, poolName: string | null, model: ModelEntry, failure: FailureInfo, state: StateStore): boolean {
  // The client's own mistakes say nothing about the model's health.
  if (CLIENT_ERROR_STATUSES.has(failure.status)) return false;
  const now = state.clock.now();
  const provider = model.config.provider;
  const rules = pool.deactivation;

  if ((failure.status === 401 || failure.status === 403) && pool.provider_deactivation.includes('on_auth_failure')) {
    // Bad credentials affect every model of the provider, in every pool.
    standbyProvider(state, provider, `auth failure (${failure.reason})`, providerRecoverAt(pool, model, now), 'auth');
    return true;
  }

  state.recordOutcome(model.id, provider, 1, rules.error_rate_window);
  const s = state.model(model.id);
  if (isOutage(failure.status) && outageRun(pool, model, state)) {
    const p = state.provider(provider);
    const reason = `API outage: ${p.outage_failures} failures in a row across its models (last: ${model.id}: ${failure.reason})`;
    standbyProvider(state, provider, reason, providerRecoverAt(pool, model, now), 'outage');
    return true;
  }

  const until = recoverAt(pool, model, now);
  if (rules.error_codes.includes(failure.status)) {
    return standbyModel(state, model, poolName, `error code ${failure.status} (${failure.reason})`, until, 'failure');
  }
  if (rules.retry_limit > 0 && s.consecutive_failures >= rules.retry_limit) {
    return standbyModel(state, model, poolName, `${s.consecutive_failures} consecutive failures (last: ${failure.reason})`, until, 'failure');
  }
  if (rules.error_rate_threshold !== null && s.recent.length >= rules.error_rate_window) {
    let failures = 0;
    for (const outcome of s.recent) failures += outcome;
    const rate = failures / s.recent.length;
    if (rate >= rules.error_rate_threshold) {
      const reason = `error rate ${(rate * 100).toFixed(0)}% over the last ${s.recent.length} requests (threshold ${(rules.error_rate_threshold * 100).toFixed(0)}%)`;
      return standbyModel(state, model, poolName, reason, until, 'failure');
    }
  }
  return false;
}

/**
 * Usage of a finished request: quota-window counters (rolled at the UTC boundary first) and provider
 * spend, then the quota and budget triggers.
 */
export function afterUsage(pool: PoolConfig, poolName: string | null, model: ModelEntry, tokens: number, cost: number, state: StateStore): void {
  const provider = model.config.provider;
  const window = quotaWindow(pool);
  // One clock reading for the whole step: it was five per request (the clock is a system call's worth here).
  const now = state.clock.now();
  rollModelWindow(state, model.id, window, now);
  rollProviderSpend(state, provider, now);
  const ends = usageWindows(now, window);
  // A literal, not a spread: hot path (issue 16).
  state.addUsage(model.id, provider, { tokens, cost, at: now, windowEnd: ends.windowEnd, dayEnd: ends.dayEnd, monthEnd: ends.monthEnd });

  const quota = quotaExceeded(pool, state, model.id);
  if (quota !== null) {
    // on_quota_reset: back at the next reset of quota_reset_schedule; otherwise only an operator brings it back.
    const until = pool.recovery.on_quota_reset ? nextBoundary(state.clock.now(), scheduleWindow(pool.recovery.quota_reset_schedule)) : null;
    standbyModel(state, model, poolName, quota, until, 'quota');
  }
  const budget = budgetExceeded(model.provider.config.budget, state, provider);
  if (budget !== null) standbyProvider(state, provider, budget.reason, budget.until, 'budget');
}

/**
 * When a model put in standby for failures may be tried again. With `probe_interval` the probe decides
 * (until null: no live request is risked on a model that may still be down); models the probe cannot
 * reach (speech, images, transcriptions: no cheap request) and pools without probes use `cooldown`.
 */
export function recoverAt(pool: PoolConfig, model: ModelEntry, now: number): number | null {
  if (pool.recovery.probe_interval !== null && probeRequest(model) !== null) return null;
  return now + pool.recovery.cooldown;
}

/** The same for a provider: `provider_recovery: on_manual` waits for the admin API. */
export function providerRecoverAt(pool: PoolConfig, model: ModelEntry, now: number): number | null {
  if (pool.provider_recovery === 'on_manual') return null;
  return recoverAt(pool, model, now);
}

/** The minimal real request a probe sends (DESIGN §6 probe_interval); null when there is no cheap one. */
export function probeRequest(model: ModelEntry): { endpoint: 'chat' | 'embeddings'; body: Record<string, unknown> } | null {
  if (servesEndpoint(model, 'chat')) return { endpoint: 'chat', body: { messages: [{ role: 'user', content: 'ping' }], max_tokens: 1 } };
  if (servesEndpoint(model, 'embeddings')) return { endpoint: 'embeddings', body: { input: 'ping' } };
  return null;
}

/** Transport failures and 5xx say the API is down; 429 and 4xx say nothing about an outage. */
function isOutage(status: number): boolean {
  return status === 0 || status >= 500;
}

/**
 * Count an outage failure against the provider; true when the run triggers on_api_outage: at least N
 * failures in a row (no success from any of its models in between) and every model of the provider has
 * failed during the run or is already in standby. Without topology (state.setTopology) the count alone decides.
 */
function outageRun(pool: PoolConfig, model: ModelEntry, state: StateStore): boolean {
  const run = state.noteOutage(model.config.provider, model.id);
  if (!pool.provider_deactivation.includes('on_api_outage')) return false;
  const needed = pool.deactivation.retry_limit > 0 ? pool.deactivation.retry_limit : DEFAULT_OUTAGE_RUN;
  if (run < needed) return false;
  const p = state.provider(model.config.provider);
  const siblings = state.providerModels(model.config.provider);
  if (siblings === null) return true;
  return siblings.every((id) => p.outage_models.includes(id) || state.model(id).status === 'standby');
}

interface CurrentHold {
  status: Status;
  manual: boolean;
  until: number | null;
  cause: StandbyCause | null;
}

/**
 * Whether an automatic standby may replace the current one. An operator's decision stands; otherwise a
 * standby is only ever lengthened (a failure cooldown must not cut a quota standby short, and a request
 * still in flight must not turn an indefinite hold into a timed one).
 */
function mayReplace(current: CurrentHold, until: number | null): boolean {
  if (current.status !== 'standby') return true;
  if (current.manual || current.until === null) return false;
  return until === null || until > current.until;
}

/** Put a model in standby (unless a longer hold is in force). Returns true: the model is unavailable. */
export function standbyModel(
  state: StateStore, model: ModelEntry, poolName: string | null, reason: string, until: number | null, cause: StandbyCause,
): boolean {
  if (mayReplace(state.model(model.id), until)) state.holdModel(model.id, model.config.provider, { reason, until, cause, pool: poolName, manual: false });
  return true;
}

/** Put a provider (every model of it, in every pool) in standby, unless a longer hold is in force. */
export function standbyProvider(state: StateStore, provider: string, reason: string, until: number | null, cause: StandbyCause): void {
  if (mayReplace(state.provider(provider), until)) state.holdProvider(provider, { reason, until, cause, pool: null, manual: false });
}

/**
 * `on_unavailable: closed` while the shared state is unreachable (issue 13): a request under a shared limit
 * (a pool quota, or a budget of a member's provider) is refused with 429 rather than counted locally only.
 */
export function sharedLimitRefusal(pool: PoolConfig, members: readonly ModelEntry[], state: StateStore): MeshError | null {
  if (!state.sharedLimitsRefused()) return null;
  const budgeted = members.some((m) => m.provider.config.budget.daily_limit !== null || m.provider.config.budget.monthly_limit !== null);
  if (!hasQuota(pool) && !budgeted) return null;
  return new MeshError('rate_limit_exceeded', 'Shared limits cannot be checked: the shared state store is unreachable (storage.on_unavailable: closed). Retry shortly.', {
    headers: { 'retry-after': '1' },
  });
}
