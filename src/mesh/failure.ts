// The errors a request ends with when routing fails (DESIGN §4.2 and §4.5). Messages list every
// attempt or exclusion so an operator reading one client error knows what happened.
import { MeshError } from '../errors.ts';
import type { AttemptRecord } from './events.ts';
import type { StateStore } from './state.ts';

/** Nothing eligible: 503 when capacity is the problem (standby, empty pool), 400 when the request is. */
export function noCandidatesError(
  requested: string, pool: string | null, members: number, excluded: string[], standby: number, state: StateStore,
): MeshError {
  const name = pool === null ? `model \`${requested}\`` : `pool \`${pool}\``;
  if (members === 0) {
    return new MeshError('no_available_models', `The ${name} has no models: no enabled provider offers its capability.`, { headers: { 'retry-after': '60' } });
  }
  const why = excluded.join('; ');
  if (standby > 0) {
    const retryAfter = secondsUntilFirstRecovery(state);
    const headers: Record<string, string> = retryAfter === null ? {} : { 'retry-after': String(retryAfter) };
    return new MeshError('no_available_models', `No model of the ${name} is available: ${why}`, { headers });
  }
  return new MeshError('no_eligible_models', `No model of the ${name} can serve this request: ${why}`, {
    param: 'model',
    headers: { 'x-should-retry': 'false' },
  });
}

function secondsUntilFirstRecovery(state: StateStore): number | null {
  const now = state.clock.now();
  let first: number | null = null;
  for (const id of state.modelIds()) {
    const s = state.model(id);
    if (s.status === 'standby' && s.until !== null && (first === null || s.until < first)) first = s.until;
  }
  for (const id of state.providerIds()) {
    const s = state.provider(id);
    if (s.status === 'standby' && s.until !== null && (first === null || s.until < first)) first = s.until;
  }
  return first === null ? null : Math.max(1, Math.ceil((first - now) / 1000));
}

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
    const headers: Record<string, string> = { 'retry-after': String(wait === undefined ? 1 : Math.max(1, Math.ceil(wait / 1000))) };
    return new MeshError('rate_limit_exceeded', message, { headers });
  }
  if (only !== undefined && only >= 400 && only < 500) {
    // The same client error everywhere: the request itself is at fault, pass its status and param on.
    const code = last && !last.upstream ? last.code : 'upstream_error';
    return new MeshError(code, message, { status: only, type: 'invalid_request_error', param: last?.param ?? null, headers: { 'x-should-retry': 'false' } });
  }
  return new MeshError('upstream_error', message);
}
