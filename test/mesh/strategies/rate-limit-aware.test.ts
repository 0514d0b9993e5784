import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RateReading } from '../../../src/mesh/state.ts';
import type { Behaviour } from '../../helpers/fake-upstream.ts';
import { buildMesh, ctxOf, ok, orderIds, pool, route, routeMany, UNUSED_URL, upstreams } from '../mesh-helpers.ts';

/** Answers 200 with x-ratelimit-* headers; remaining requests from the list, one per request (the last repeats). */
function limited(limit: number, remaining: number[], reset = '1s'): Behaviour {
  let i = 0;
  return (req, res, rec) => {
    const left = remaining[Math.min(i++, remaining.length - 1)] as number;
    return ok({
      'x-ratelimit-limit-requests': String(limit), 'x-ratelimit-remaining-requests': String(left), 'x-ratelimit-reset-requests': reset,
      'x-ratelimit-limit-tokens': '100000', 'x-ratelimit-remaining-tokens': '99000', 'x-ratelimit-reset-tokens': '6m0s',
    })(req, res, rec);
  };
}

function reading(limit: number, remaining: number, at: number, resetAt: number | null = null): RateReading {
  return { limit_requests: limit, remaining_requests: remaining, reset_requests_at: resetAt, limit_tokens: null, remaining_tokens: null, reset_tokens_at: null, observed_at: at };
}

test('rate-limit-aware switches when x-ratelimit-remaining-requests drops under the threshold, and back after the reset (end to end)', async (t) => {
  const [a, b] = await upstreams(t, 2);
  a!.handle(limited(100, [50, 20, 8]));
  b!.handle(limited(100, [90]));
  const { mesh, clock } = buildMesh(t, { providers: { a: a!.url, b: b!.url }, pool: { strategy: 'modelmesh.rate-limit-aware.v1', rate_limit: { threshold: 0.1 } } });
  assert.deepEqual(await routeMany(mesh, 3), ['a.m', 'a.m', 'a.m']);
  assert.equal(mesh.state.model('a.m').rate?.remaining_requests, 8);
  assert.equal(mesh.state.model('a.m').rate?.reset_requests_at, clock.now() + 1000, '`1s` is an absolute time at reading');
  assert.deepEqual(await routeMany(mesh, 2), ['b.m', 'b.m'], '8/100 < 10%: switched before the limit');
  clock.advance(1000);
  a!.handle(limited(100, [99]));
  assert.equal((await route(mesh)).model, 'a.m', 'a reset its window: back to the preferred model');
});

test('rate-limit-aware counts locally against max_rpm when the upstream sends no headers', async (t) => {
  const [a, b] = await upstreams(t, 2);
  const { mesh, clock } = buildMesh(t, { providers: { a: a!.url, b: b!.url }, pool: { strategy: 'rate-limit-aware', rate_limit: { threshold: 0.5, max_rpm: 4 } } });
  // a: 1/4 used → 75% left, 2/4 → 50% (still ok), 3/4 → 25% < 50%: switch.
  assert.deepEqual(await routeMany(mesh, 4), ['a.m', 'a.m', 'a.m', 'b.m']);
  clock.advance(60_000);
  assert.equal((await route(mesh)).model, 'a.m', 'a minute later a has its headroom back');
});

test('rate-limit-aware keeps every model: under the threshold they go last, most headroom first', (t) => {
  const { mesh, clock } = buildMesh(t, { providers: { a: UNUSED_URL, b: UNUSED_URL, c: UNUSED_URL }, pool: { strategy: 'rate-limit-aware', rate_limit: { threshold: 0.2 } } });
  const now = clock.now();
  mesh.state.recordRate('a.m', reading(100, 5, now));
  mesh.state.recordRate('b.m', reading(100, 15, now));
  mesh.state.recordRate('c.m', reading(100, 60, now));
  assert.deepEqual(orderIds(mesh), ['c.m', 'b.m', 'a.m']);
  mesh.state.recordRate('c.m', reading(100, 1, now));
  assert.deepEqual(orderIds(mesh), ['b.m', 'a.m', 'c.m'], 'nothing ok: the most headroom first, never an empty order');
});

test('rate-limit-aware min_delta: no switching back and forth unless the headroom differs by at least min_delta', (t) => {
  const { mesh, clock } = buildMesh(t, { providers: { a: UNUSED_URL, b: UNUSED_URL }, pool: { strategy: 'rate-limit-aware', rate_limit: { threshold: 0.1, min_delta: 0.3 } } });
  const now = clock.now();
  const set = (a: number, b: number): void => {
    mesh.state.recordRate('a.m', reading(100, a, now));
    mesh.state.recordRate('b.m', reading(100, b, now));
  };
  set(50, 90);
  assert.equal(orderIds(mesh)[0], 'a.m', 'first pick: priority');
  set(5, 90);
  assert.equal(orderIds(mesh)[0], 'b.m', 'a under the threshold: switch');
  set(70, 90);
  assert.equal(orderIds(mesh)[0], 'b.m', 'a is ok again but has less headroom than b: stay');
  set(100, 80);
  assert.equal(orderIds(mesh)[0], 'b.m', '100% vs 80%: differs by less than min_delta 0.3: stay');
  set(100, 60);
  assert.equal(orderIds(mesh)[0], 'a.m', '100% vs 60%: switch back');
});

test('rate-limit-aware: a 429 marks the model exhausted until the known reset', (t) => {
  const { mesh, clock } = buildMesh(t, { providers: { a: UNUSED_URL, b: UNUSED_URL }, pool: { strategy: 'rate-limit-aware' } });
  const p = pool(mesh);
  p.strategy.observe?.(p.members[0]!, { ok: false, status: 429, latencyMs: 1, headers: null }, ctxOf(mesh));
  assert.deepEqual(orderIds(mesh), ['b.m', 'a.m']);
  clock.advance(60_000);
  assert.deepEqual(orderIds(mesh), ['a.m', 'b.m'], 'no known reset: exhausted for a minute');
});
