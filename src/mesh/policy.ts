// Deactivation rules that run after every attempt (DESIGN §4.6, §6). The router reports outcomes here;
// this module decides standby transitions. Rotation-policy triggers (error rate, quotas, budgets) plug in
// through `afterSuccess` / `afterFailure`.
import type { PoolConfig } from '../config/types.ts';
import type { StateStore } from './state.ts';
import type { ModelEntry } from './types.ts';
import { CLIENT_ERROR_STATUSES } from './retry.ts';

export interface FailureInfo {
  status: number;
  reason: string;
}

/** A success resets the consecutive-failure count and feeds the error-rate window. */
export function afterSuccess(pool: PoolConfig, model: ModelEntry, state: StateStore): void {
  const s = state.model(model.id);
  s.consecutive_failures = 0;
  pushOutcome(s.recent, 0, pool.deactivation.error_rate_window);
}

/** Apply the pool's deactivation rules to a failed attempt. Returns true when the model is now unavailable. */
export function afterFailure(pool: PoolConfig, poolName: string | null, model: ModelEntry, failure: FailureInfo, state: StateStore): boolean {
  // The client's own mistakes say nothing about the model's health.
  if (CLIENT_ERROR_STATUSES.has(failure.status)) return false;
  const now = state.clock.now();
  const provider = model.config.provider;
  const rules = pool.deactivation;
  const cooldownUntil = now + pool.recovery.cooldown;

  if ((failure.status === 401 || failure.status === 403) && pool.provider_deactivation.includes('on_auth_failure')) {
    // Bad credentials affect every model of the provider, in every pool.
    const until = pool.provider_recovery === 'on_manual' ? null : cooldownUntil;
    state.standbyProvider(provider, `auth failure (${failure.reason})`, until);
    return true;
  }

  const s = state.model(model.id);
  s.consecutive_failures++;
  pushOutcome(s.recent, 1, rules.error_rate_window);

  if (rules.error_codes.includes(failure.status)) {
    state.standbyModel(model.id, provider, `error code ${failure.status} (${failure.reason})`, cooldownUntil, poolName);
    return true;
  }
  if (rules.retry_limit > 0 && s.consecutive_failures >= rules.retry_limit) {
    state.standbyModel(model.id, provider, `${s.consecutive_failures} consecutive failures (last: ${failure.reason})`, cooldownUntil, poolName);
    return true;
  }
  if (rules.error_rate_threshold !== null && s.recent.length >= rules.error_rate_window) {
    const rate = s.recent.reduce((a, b) => a + b, 0) / s.recent.length;
    if (rate >= rules.error_rate_threshold) {
      state.standbyModel(model.id, provider, `error rate ${(rate * 100).toFixed(0)}% over the last ${s.recent.length} requests`, cooldownUntil, poolName);
      return true;
    }
  }
  return false;
}

function pushOutcome(recent: number[], outcome: number, window: number): void {
  recent.push(outcome);
  if (recent.length > window) recent.splice(0, recent.length - window);
}

/** Usage of a finished request: quota-window counters and provider spend. */
export function afterUsage(_pool: PoolConfig, _poolName: string | null, model: ModelEntry, tokens: number, cost: number, state: StateStore): void {
  const s = state.model(model.id);
  s.window_requests++;
  s.window_tokens += tokens;
  s.window_cost += cost;
  const p = state.provider(model.config.provider);
  p.spend_daily += cost;
  p.spend_monthly += cost;
  state.version++;
}
