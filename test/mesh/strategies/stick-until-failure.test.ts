import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildMesh, fail, ok, routeMany, upstreams } from '../mesh-helpers.ts';

test('stick-until-failure keeps the model that last succeeded, even after the preferred one is back', async (t) => {
  const [a, b] = await upstreams(t, 2);
  const { mesh, clock } = buildMesh(t, {
    providers: { a: a!.url, b: b!.url },
    pool: { deactivation: { retry_limit: 1 }, recovery: { cooldown: '10s' } },
  });
  assert.deepEqual(await routeMany(mesh, 2), ['a.m', 'a.m']);
  a!.sequence(fail(500), ok());
  assert.deepEqual(await routeMany(mesh, 2), ['b.m', 'b.m']);
  clock.advance(10_000);
  assert.deepEqual(await routeMany(mesh, 2), ['b.m', 'b.m'], 'sticks with b until b fails');
  b!.handle(fail(502));
  assert.deepEqual(await routeMany(mesh, 1), ['a.m']);
});
