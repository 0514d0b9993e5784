import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventBus } from '../../src/mesh/events.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { absoluteHeadroom, parseReset, parseResetDuration, readRateLimit, recordRate, relativeHeadroom } from '../../src/mesh/ratelimit.ts';
import { LocalStateStore } from '../../src/mesh/local-state.ts';

function store(): { state: LocalStateStore; clock: ManualClock } {
  const clock = new ManualClock();
  return { state: new LocalStateStore(clock, new EventBus()), clock };
}

test('reset durations in the OpenAI (Go) format', () => {
  const cases: [string, number][] = [['12ms', 12], ['1s', 1000], ['1m30s', 90_000], ['6m0s', 360_000], ['2h', 7_200_000], ['17.28s', 17_280], ['0s', 0], ['1h2m3s', 3_723_000], ['500us', 0.5], ['20', 20_000]];
  for (const [text, ms] of cases) assert.equal(parseResetDuration(text), ms, text);
  for (const bad of ['', 'soon', '1x', 's', '1m30', '-1s']) assert.equal(parseResetDuration(bad), null, bad);
});

test('a reset value becomes an absolute time: duration from now, or a date as is', () => {
  const now = Date.UTC(2026, 0, 1, 12);
  assert.equal(parseReset('1m30s', now), now + 90_000);
  assert.equal(parseReset('2026-01-01T12:05:00Z', now), Date.UTC(2026, 0, 1, 12, 5));
  assert.equal(parseReset('whenever', now), null);
});

test('readRateLimit reads the six x-ratelimit-* headers; none → null', () => {
  const now = 1_000_000;
  const r = readRateLimit({
    'x-ratelimit-limit-requests': '60', 'x-ratelimit-remaining-requests': ['59'], 'x-ratelimit-reset-requests': '1s',
    'x-ratelimit-limit-tokens': '150000', 'x-ratelimit-remaining-tokens': '149984', 'x-ratelimit-reset-tokens': '6m0s',
  }, now);
  assert.deepEqual(r, { limit_requests: 60, remaining_requests: 59, reset_requests_at: now + 1000, limit_tokens: 150_000, remaining_tokens: 149_984, reset_tokens_at: now + 360_000, observed_at: now });
  assert.equal(readRateLimit({ 'content-type': 'application/json' }, now), null);
  assert.equal(readRateLimit({ 'x-ratelimit-remaining-requests': 'lots' }, now), null);
});

test('relative headroom: the tighter of requests and tokens; full again once the reset has passed', () => {
  const { state, clock } = store();
  recordRate(state, 'm', { ok: true, status: 200, latencyMs: 1, headers: {
    'x-ratelimit-limit-requests': '100', 'x-ratelimit-remaining-requests': '40', 'x-ratelimit-reset-requests': '10s',
    'x-ratelimit-limit-tokens': '1000', 'x-ratelimit-remaining-tokens': '100', 'x-ratelimit-reset-tokens': '20s',
  } }, null);
  assert.equal(relativeHeadroom(state, 'm', null), 0.1);
  clock.advance(20_000);
  assert.equal(relativeHeadroom(state, 'm', null), 1);
  assert.equal(relativeHeadroom(state, 'unknown', null), null);
});

test('a reading without reset times expires after a minute; without a limit only "nothing left" counts', () => {
  const { state, clock } = store();
  recordRate(state, 'm', { ok: true, status: 200, latencyMs: 1, headers: { 'x-ratelimit-remaining-requests': '0' } }, null);
  assert.equal(relativeHeadroom(state, 'm', null), 0);
  assert.equal(absoluteHeadroom(state, 'm', null), 0);
  clock.advance(60_000);
  assert.equal(relativeHeadroom(state, 'm', null), null);
  recordRate(state, 'm', { ok: true, status: 200, latencyMs: 1, headers: { 'x-ratelimit-remaining-requests': '5' } }, null);
  assert.equal(relativeHeadroom(state, 'm', null), null);
  assert.equal(absoluteHeadroom(state, 'm', null), 5);
});

test('local counting against max_rpm over a sliding minute', () => {
  const { state, clock } = store();
  const outcome = { ok: true, status: 200, latencyMs: 1, headers: null };
  for (let i = 0; i < 3; i++) {
    recordRate(state, 'm', outcome, 10);
    clock.advance(10_000);
  }
  assert.equal(state.requestsLastMinute('m'), 3);
  assert.equal(relativeHeadroom(state, 'm', 10), 0.7);
  assert.equal(absoluteHeadroom(state, 'm', 10), 7);
  clock.advance(31_000); // the first request is now 61 s old
  assert.equal(state.requestsLastMinute('m'), 2);
  recordRate(state, 'm', outcome, 10);
  assert.equal(state.model('m').minute.length, 3, 'trimmed to the last minute');
});
