import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Behaviour } from '../../helpers/fake-upstream.ts';
import { buildMesh, ok, orderIds, pool, ctxOf, routeMany, tally, UNUSED_URL, upstreams } from '../mesh-helpers.ts';

function delayed(ms: number): Behaviour {
  return (req, res, recorded) => new Promise<void>((resolve) => setTimeout(resolve, ms)).then(() => ok()(req, res, recorded));
}

test('latency-first explores unmeasured models first, then prefers the lowest EWMA', (t) => {
  const { mesh } = buildMesh(t, { providers: { a: UNUSED_URL, b: UNUSED_URL, c: UNUSED_URL }, pool: { strategy: 'latency-first' } });
  assert.deepEqual(orderIds(mesh), ['a.m', 'b.m', 'c.m'], 'no data: priority order');
  mesh.state.recordLatency('a.m', 300);
  assert.deepEqual(orderIds(mesh), ['b.m', 'c.m', 'a.m'], 'unexplored first');
  mesh.state.recordLatency('b.m', 50);
  mesh.state.recordLatency('c.m', 120);
  assert.deepEqual(orderIds(mesh), ['b.m', 'c.m', 'a.m']);
  for (let i = 0; i < 10; i++) mesh.state.recordLatency('b.m', 1000); // b got slow: its EWMA climbs past c and a
  assert.deepEqual(orderIds(mesh), ['c.m', 'a.m', 'b.m']);
});

test('latency-first puts a model that was tried but never succeeded last', (t) => {
  const { mesh } = buildMesh(t, { providers: { a: UNUSED_URL, b: UNUSED_URL }, pool: { strategy: 'latency-first' } });
  const p = pool(mesh);
  p.strategy.observe?.(p.members[0]!, { ok: false, status: 503, latencyMs: 3, headers: null }, ctxOf(mesh));
  assert.deepEqual(orderIds(mesh), ['b.m', 'a.m']);
});

test('latency-first moves to the faster upstream (5 ms vs 60 ms, end to end)', async (t) => {
  const [slow, fast] = await upstreams(t, 2);
  slow!.handle(delayed(60));
  fast!.handle(delayed(5));
  const { mesh } = buildMesh(t, { providers: { a: slow!.url, b: fast!.url }, pool: { strategy: 'modelmesh.latency-first.v1' } });
  const served = await routeMany(mesh, 8);
  assert.deepEqual(served.slice(0, 2), ['a.m', 'b.m'], 'each is measured once');
  assert.deepEqual(tally(served.slice(2)), { 'b.m': 6 }, 'then the fast one only');
  assert.ok((mesh.state.model('a.m').latency_ewma ?? 0) > (mesh.state.model('b.m').latency_ewma ?? Infinity));
});
