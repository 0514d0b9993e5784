// The errors a request ends with when routing fails (DESIGN §4.2 and §4.5). Messages list every
// attempt or exclusion so an operator reading one client error knows what happened.
import { MeshError } from '../errors.ts';
import type { AttemptRecord } from './events.ts';
import type { StateStore } from './state.ts';
import type { ModelEntry } from './types.ts';

/** Nothing eligible: 503 when capacity is the problem (standby, empty pool), 400 when the request is. */
export function noCandidatesError(
  requested: string, pool: string | null, members: readonly ModelEntry[], excluded: string[], standby: number, state: StateStore,
): MeshError {
  const name = pool === null ? `model \`${requested}\`` : `pool \`${pool}\``;
  if (members.length === 0) {
    return new MeshError('no_available_models', `The ${name} has no models: no enabled provider offers its capability.`, { headers: { 'retry-after': '60' } });
  }
  const why = excluded.join('; ');
  if (standby > 0) {
    const retryAfter = secondsUntilFirstRecovery(members, state);
    const headers: Record<string, string> = retryAfter === null ? {} : { 'retry-after': String(retryAfter) };
    return new MeshError('no_available_models', `No model of the ${name} is available: ${why}`, { headers });
  }
  return new MeshError('no_eligible_models', `No model of the ${name} can serve this request: ${why}`, {
    param: 'model',
    headers: { 'x-should-retry': 'false' },
  });
}

/** Seconds until the first of these members is back by itself; null when none has a known end. */
function secondsUntilFirstRecovery(members: readonly ModelEntry[], state: StateStore): number | null {
  // Only this request's members: another pool's short cooldown says nothing about when this one recovers.
  let first: number | null = null;
  for (const member of members) {
    const back = backAt(member, state);
    if (back !== null && (first === null || back < first)) first = back;
  }
  return first === null ? null : Math.max(1, Math.ceil((first - state.clock.now()) / 1000));
}

/** When a member in standby is available again: the later of its own and its provider's hold (null: a probe or an operator decides). */
function backAt(member: ModelEntry, state: StateStore): number | null {
  let at: number | null = null;
  for (const s of [state.provider(member.config.provider), state.model(member.id)]) {
    if (s.status !== 'standby') continue;
    if (s.until === null) return null;
    at = Math.max(at ?? s.until, s.until);
  }
  return at;
}

/**
 * 4xx answers that are not the client's fault: the proxy's own key refused upstream (401, 403, 407) or an
 * upstream timeout (408). Passed on, a 401 would tell an SDK that the *client's* key is wrong.
 */
const UPSTREAM_SIDE_4XX: ReadonlySet<number> = new Set([401, 403, 407, 408]);
/** The longest Retry-After passed on to a client (a day). */
const MAX_RETRY_AFTER_S = 86_400;

/**
 * Every attempt failed (DESIGN §4.5): the common 4xx if all failed with the same client error, 429 with
 * Retry-After if all were rate limits, 504 when the request deadline passed, else 502.
 */
export function finalError(attempts: AttemptRecord[], last: MeshError | null, deadlineHit: boolean): MeshError {
  const failed = attempts.filter((a) => a.outcome === 'failure');
  const message = `All ${failed.length} attempt${failed.length === 1 ? '' : 's'} failed: ` + failed.map((a) => `${a.model}: ${a.reason ?? 'failed'}`).join('; ');
  if (deadlineHit) return new MeshError('timeout', message);
  const statuses = new Set(failed.map((a) => a.status));
  const only = statuses.size === 1 ? [...statuses][0] : undefined;
  if (only === 429) {
    const wait = last?.upstream?.retryAfterMs;
    // Whole seconds within a day: an upstream's 1e23 would be written as "1e+23", not a valid header value.
    const headers: Record<string, string> = { 'retry-after': String(wait === undefined ? 1 : Math.min(MAX_RETRY_AFTER_S, Math.max(1, Math.ceil(wait / 1000)))) };
    return new MeshError('rate_limit_exceeded', message, { headers });
  }
  if (only !== undefined && only >= 400 && only < 500 && !UPSTREAM_SIDE_4XX.has(only)) {
    // The same client error everywhere: the request itself is at fault, pass its status and param on.
    const code = last && !last.upstream ? last.code : 'upstream_error';
    return new MeshError(code, message, { status: only, type: 'invalid_request_error', param: last?.param ?? null, headers: { 'x-should-retry': 'false' } });
  }
  return new MeshError('upstream_error', message);
}
