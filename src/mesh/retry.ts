// Retry and backoff for one model within the attempt loop (DESIGN §4.4).
import type { RetryConfig } from '../config/types.ts';

/** Statuses that are the client's fault: never counted toward deactivation (DESIGN §4.4). */
export const CLIENT_ERROR_STATUSES: ReadonlySet<number> = new Set([400, 404, 413, 422]);

/** Retry the same model, or rotate to the next one at once. Transport failures (status 0) retry. */
export function shouldRetry(status: number, retry: RetryConfig): boolean {
  if (status === 0) return true;
  if (retry.non_retryable_codes.includes(status)) return false;
  return retry.retryable_codes.includes(status);
}

/**
 * Delay before retry number `n` (1-based) of the same model, or 'rotate' when the upstream asked for a
 * longer wait than `max_delay` (then another model is a better bet than waiting).
 */
export function retryDelay(retry: RetryConfig, n: number, retryAfterMs: number | undefined, random: () => number = Math.random): number | 'rotate' {
  if (retryAfterMs !== undefined && retry.honor_retry_after) {
    if (retryAfterMs > retry.max_delay) return 'rotate';
    if (retry.backoff === 'retry_after' || retryAfterMs > 0) return retryAfterMs;
  }
  switch (retry.backoff) {
    case 'fixed':
    case 'retry_after':
      return Math.min(retry.initial_delay, retry.max_delay);
    case 'exponential_jitter': {
      // Same shape as the OpenAI SDKs: base * 2^(n-1), capped, minus up to 25% jitter.
      const base = Math.min(retry.max_delay, retry.initial_delay * 2 ** (n - 1));
      return Math.round(base * (1 - 0.25 * random()));
    }
  }
}
