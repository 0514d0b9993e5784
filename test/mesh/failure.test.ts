import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MeshError } from '../../src/errors.ts';
import type { AttemptRecord } from '../../src/mesh/events.ts';
import { finalError } from '../../src/mesh/failure.ts';

const attempt = (model: string, status: number, reason: string | null, outcome: AttemptRecord['outcome'] = 'failure'): AttemptRecord =>
  ({ model, provider: model.split('.')[0] ?? model, status, outcome, reason, latency_ms: 1 });

const upstream = (status: number, reason: string, retryAfterMs?: number): MeshError =>
  new MeshError('upstream_error', reason, { upstream: { status, reason, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) } });

test('the message lists every failed attempt (successes and cancels are not failures)', () => {
  const err = finalError([attempt('a.m', 503, '503 overloaded'), attempt('b.m', 0, null), attempt('c.m', 0, null, 'cancelled')], null, false);
  assert.equal(err.message, 'All 2 attempts failed: a.m: 503 overloaded; b.m: failed');
  assert.equal(finalError([attempt('a.m', 0, 'connection refused')], null, false).message, 'All 1 attempt failed: a.m: connection refused');
});

test('mixed failures are a 502 upstream_error', () => {
  const err = finalError([attempt('a.m', 503, '503 x'), attempt('b.m', 500, '500 y')], upstream(500, '500 y'), false);
  assert.equal(err.code, 'upstream_error');
  assert.equal(err.status, 502);
  assert.deepEqual(err.headers, {});
});

test('a passed deadline is a 504 timeout whatever the attempts were', () => {
  const err = finalError([attempt('a.m', 429, '429 slow down')], upstream(429, '429 slow down'), true);
  assert.equal(err.code, 'timeout');
  assert.equal(err.status, 504);
});

test('all rate limited: 429 with Retry-After in whole seconds from the last failure (at least 1)', () => {
  const all429 = [attempt('a.m', 429, '429 a'), attempt('b.m', 429, '429 b')];
  const err = finalError(all429, upstream(429, '429 b', 2_500), false);
  assert.equal(err.code, 'rate_limit_exceeded');
  assert.equal(err.status, 429);
  assert.deepEqual(err.headers, { 'retry-after': '3' });
  assert.deepEqual(finalError(all429, upstream(429, '429 b', 10), false).headers, { 'retry-after': '1' });
  assert.deepEqual(finalError(all429, upstream(429, '429 b'), false).headers, { 'retry-after': '1' });
  // An upstream's absurd wait is capped at a day, in whole seconds (never "1e+23", not a header value).
  assert.deepEqual(finalError(all429, upstream(429, '429 b', 1e26), false).headers, { 'retry-after': '86400' });
});

test('the same client error everywhere passes its status on, with x-should-retry: false', () => {
  const err = finalError([attempt('a.m', 400, '400 bad'), attempt('b.m', 400, '400 bad')], upstream(400, '400 bad'), false);
  assert.equal(err.code, 'upstream_error');
  assert.equal(err.status, 400);
  assert.equal(err.type, 'invalid_request_error');
  assert.deepEqual(err.headers, { 'x-should-retry': 'false' });
  // A proxy-side error (no upstream) keeps its own code and param.
  const own = new MeshError('invalid_param', 'bad n', { param: 'n' });
  const passed = finalError([attempt('a.m', 400, '400 bad n')], own, false);
  assert.deepEqual([passed.code, passed.status, passed.param], ['invalid_param', 400, 'n']);
});

test('upstream-side 4xx (the proxy\'s key refused, upstream timeout) are a 502, never passed on', () => {
  for (const status of [401, 403, 407, 408]) {
    const err = finalError([attempt('a.m', status, `${status} x`)], upstream(status, `${status} x`), false);
    assert.equal(err.status, 502, String(status));
    assert.equal(err.code, 'upstream_error');
  }
});
