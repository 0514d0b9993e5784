import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RetryConfig } from '../../src/config/types.ts';
import { CLIENT_ERROR_STATUSES, retryDelay, shouldRetry } from '../../src/mesh/retry.ts';

function retry(over: Partial<RetryConfig> = {}): RetryConfig {
  return {
    max_attempts: 3, backoff: 'exponential_jitter', initial_delay: 500, max_delay: 8_000,
    retryable_codes: [429, 500, 502, 503, 504], non_retryable_codes: [400, 401], scope: 'same_model', honor_retry_after: true,
    ...over,
  };
}

test('shouldRetry: transport failures always, listed codes only, the non-retryable list wins', () => {
  assert.equal(shouldRetry(0, retry()), true);
  assert.equal(shouldRetry(503, retry()), true);
  assert.equal(shouldRetry(418, retry()), false);
  assert.equal(shouldRetry(401, retry({ retryable_codes: [401] })), false);
  assert.equal(shouldRetry(0, retry({ retryable_codes: [] })), true);
});

test('client error statuses are the request\'s fault', () => {
  assert.deepEqual([...CLIENT_ERROR_STATUSES].sort(), [400, 404, 413, 422]);
});

test('exponential_jitter: base * 2^(n-1), capped at max_delay, minus at most 25% jitter', () => {
  const r = retry();
  assert.deepEqual([1, 2, 3, 4, 5, 6].map((n) => retryDelay(r, n, undefined, () => 0)), [500, 1000, 2000, 4000, 8000, 8000]);
  assert.deepEqual([1, 2, 3].map((n) => retryDelay(r, n, undefined, () => 1)), [375, 750, 1500]);
  assert.equal(retryDelay(r, 2, undefined, () => 0.5), 875);
  for (let i = 0; i < 100; i++) {
    const d = retryDelay(r, 3, undefined);
    assert.ok(typeof d === 'number' && d >= 1500 && d <= 2000, String(d));
  }
});

test('fixed and retry_after backoff: initial_delay, never above max_delay', () => {
  assert.equal(retryDelay(retry({ backoff: 'fixed' }), 1, undefined), 500);
  assert.equal(retryDelay(retry({ backoff: 'fixed' }), 5, undefined), 500);
  assert.equal(retryDelay(retry({ backoff: 'fixed', initial_delay: 10_000 }), 1, undefined), 8_000);
  assert.equal(retryDelay(retry({ backoff: 'retry_after' }), 1, undefined), 500);
});

test('Retry-After: honoured when asked, rotate when longer than max_delay, ignored when not honoured', () => {
  assert.equal(retryDelay(retry(), 1, 2_000, () => 0), 2_000);
  assert.equal(retryDelay(retry(), 1, 8_000, () => 0), 8_000);
  assert.equal(retryDelay(retry(), 1, 8_001, () => 0), 'rotate');
  assert.equal(retryDelay(retry({ honor_retry_after: false }), 1, 60_000, () => 0), 500);
  // retry-after 0: the backoff decides, except for the retry_after strategy, which takes it as said.
  assert.equal(retryDelay(retry(), 2, 0, () => 0), 1000);
  assert.equal(retryDelay(retry({ backoff: 'retry_after' }), 2, 0, () => 0), 0);
});
