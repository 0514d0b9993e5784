import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RateReading } from '../../../src/mesh/state.ts';
import { buildMesh, ok, orderIds, routeMany, tally, UNUSED_URL, upstreams } from '../mesh-helpers.ts';

function reading(limit: number, remaining: number, at: number): RateReading {
  return { limit_requests: limit, remaining_requests: remaining, reset_requests_at: null, limit_tokens: null, remaining_tokens: null, reset_tokens_at: null, observed_at: at };
}

function picks(mesh: Parameters<typeof orderIds>[0], n: number): Record<string, number> {
  return tally(Array.from({ length: n }, () => orderIds(mesh)[0] as string));
}

test('load-balanced, absolute: 1000 orderings with 3:1 remaining requests → 75% ± 5%', (t) => {
  const { mesh, clock } = buildMesh(t, { providers: { a: UNUSED_URL, b: UNUSED_URL }, pool: { strategy: 'modelmesh.load-balanced.v1', balance_mode: 'absolute' } });
  mesh.state.recordRate('a.m', reading(1000, 300, clock.now()));
  mesh.state.recordRate('b.m', reading(100, 100, clock.now()));
  const counts = picks(mesh, 1000);
  assert.ok(Math.abs((counts['a.m'] ?? 0) - 750) <= 50, JSON.stringify(counts));
  assert.equal(counts['a.m'], 750, 'smooth weighted round-robin is exact');
});

test('load-balanced, relative: weighs remaining / limit, not the raw count', (t) => {
  const { mesh, clock } = buildMesh(t, { providers: { a: UNUSED_URL, b: UNUSED_URL }, pool: { strategy: 'load-balanced', balance_mode: 'relative' } });
  mesh.state.recordRate('a.m', reading(10_000, 3000, clock.now())); // 30%
  mesh.state.recordRate('b.m', reading(100, 10, clock.now())); // 10%
  const counts = picks(mesh, 1000);
  assert.ok(Math.abs((counts['a.m'] ?? 0) - 750) <= 50, JSON.stringify(counts));
});

test('load-balanced interleaves (A,A,B,A …) and splits equally without data', (t) => {
  const { mesh, clock } = buildMesh(t, { providers: { a: UNUSED_URL, b: UNUSED_URL, c: UNUSED_URL }, pool: { strategy: 'load-balanced' } });
  assert.deepEqual(picks(mesh, 999), { 'a.m': 333, 'b.m': 333, 'c.m': 333 });
  mesh.state.recordRate('a.m', reading(100, 0, clock.now()));
  const counts = picks(mesh, 100);
  assert.equal(counts['a.m'], undefined, 'no headroom: never the pick');
  assert.equal(orderIds(mesh).at(-1), 'a.m', 'but kept last in the fallback chain');
});

test('load-balanced splits traffic in proportion to upstream headroom (end to end, 75% ± 5%)', async (t) => {
  const [a, b] = await upstreams(t, 2);
  a!.handle(ok({ 'x-ratelimit-limit-requests': '1000', 'x-ratelimit-remaining-requests': '600' }));
  b!.handle(ok({ 'x-ratelimit-limit-requests': '1000', 'x-ratelimit-remaining-requests': '200' }));
  const { mesh } = buildMesh(t, { providers: { a: a!.url, b: b!.url }, pool: { strategy: 'load-balanced' } });
  const counts = tally(await routeMany(mesh, 200));
  const share = (counts['a.m'] ?? 0) / 200;
  assert.ok(Math.abs(share - 0.75) <= 0.05, `a served ${share * 100}%`);
});
