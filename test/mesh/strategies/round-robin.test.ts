import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildMesh, orderIds, routeMany, tally, UNUSED_URL, upstreams } from '../mesh-helpers.ts';

test('round-robin alternates exactly over the pool (end to end): A,B,C,A,B,C', async (t) => {
  const [a, b, c] = await upstreams(t, 3);
  const { mesh } = buildMesh(t, { providers: { a: a!.url, b: b!.url, c: c!.url }, pool: { strategy: 'modelmesh.round-robin.v1' } });
  assert.deepEqual(await routeMany(mesh, 6), ['a.m', 'b.m', 'c.m', 'a.m', 'b.m', 'c.m']);
  assert.deepEqual([a!.requests.length, b!.requests.length, c!.requests.length], [2, 2, 2]);
});

test('round-robin skips a model in standby and alternates over the rest, then takes it back in its turn', async (t) => {
  const [a, b, c] = await upstreams(t, 3);
  const { mesh } = buildMesh(t, { providers: { a: a!.url, b: b!.url, c: c!.url }, pool: { strategy: 'round-robin' } });
  mesh.state.holdModel('b.m', 'b', { reason: 'manual', until: null, cause: 'manual', pool: null, manual: true });
  assert.deepEqual(await routeMany(mesh, 4), ['a.m', 'c.m', 'a.m', 'c.m']);
  mesh.state.releaseModel('b.m', 'b', 'manual');
  assert.deepEqual(await routeMany(mesh, 3), ['a.m', 'b.m', 'c.m']);
});

test('round-robin follows the priority order and returns the rest of the ring as the fallback chain', (t) => {
  const { mesh } = buildMesh(t, { providers: { a: UNUSED_URL, b: UNUSED_URL, c: UNUSED_URL }, pool: { strategy: 'round-robin', model_priority: ['c.m'] } });
  assert.deepEqual(orderIds(mesh), ['c.m', 'a.m', 'b.m']);
  assert.deepEqual(orderIds(mesh), ['a.m', 'b.m', 'c.m']);
  assert.deepEqual(orderIds(mesh), ['b.m', 'c.m', 'a.m']);
  const picks = Array.from({ length: 300 }, () => orderIds(mesh)[0] as string);
  assert.deepEqual(tally(picks), { 'c.m': 100, 'a.m': 100, 'b.m': 100 });
});
