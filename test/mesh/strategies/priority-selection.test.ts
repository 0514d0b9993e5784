import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalStrategyName, createStrategy, strategyNames } from '../../../src/mesh/strategies/index.ts';
import { buildMesh, fail, ok, orderIds, pool, routeMany, UNUSED_URL, upstreams } from '../mesh-helpers.ts';

test('every strategy is registered and accepted with or without the modelmesh. prefix and .v1 suffix', () => {
  const names = ['stick-until-failure', 'priority-selection', 'round-robin', 'cost-first', 'latency-first', 'session-stickiness', 'rate-limit-aware', 'load-balanced'];
  assert.deepEqual(strategyNames().sort(), names.map((n) => `modelmesh.${n}.v1`).sort());
  for (const n of names) {
    for (const spelling of [n, `modelmesh.${n}`, `${n}.v1`, `modelmesh.${n}.v1`]) assert.equal(canonicalStrategyName(spelling), `modelmesh.${n}.v1`);
  }
});

test('an unknown strategy name is a config error with a suggestion', (t) => {
  const { mesh } = buildMesh(t, { providers: { a: UNUSED_URL }, pool: {} });
  assert.throws(() => createStrategy('round-robbin', pool(mesh).config, 'pools.p.strategy'), /pools\.p\.strategy: unknown strategy "round-robbin", did you mean "modelmesh\.round-robin\.v1"\?/);
});

test('priority-selection orders by model_priority, then provider_priority, then member order', (t) => {
  const providers = { a: UNUSED_URL, b: UNUSED_URL, c: UNUSED_URL, d: UNUSED_URL };
  const { mesh } = buildMesh(t, { providers, pool: { strategy: 'priority-selection', model_priority: ['c.m'], provider_priority: ['d', 'b'] } });
  assert.equal(pool(mesh).strategy.id, 'modelmesh.priority-selection.v1');
  assert.deepEqual(orderIds(mesh), ['c.m', 'd.m', 'b.m', 'a.m']);
});

test('priority-selection goes back to the preferred model as soon as it is active again (end to end)', async (t) => {
  const [a, b] = await upstreams(t, 2);
  const { mesh, clock } = buildMesh(t, {
    providers: { a: a!.url, b: b!.url },
    pool: { strategy: 'modelmesh.priority-selection.v1', model_priority: ['b.m'], deactivation: { retry_limit: 1 }, recovery: { cooldown: '30s' } },
  });
  assert.deepEqual(await routeMany(mesh, 3), ['b.m', 'b.m', 'b.m']);
  b!.sequence(fail(503), ok());
  assert.deepEqual(await routeMany(mesh, 2), ['a.m', 'a.m'], 'b failed once (retry_limit 1): standby, a serves');
  clock.advance(30_000);
  assert.deepEqual(await routeMany(mesh, 2), ['b.m', 'b.m'], 'cooldown over: strict priority returns to b');
});

test('priority-selection with fallback_strategy: the named models first, the rest in the fallback order', (t) => {
  const price = (p: number) => ({ capabilities: ['chat-completion'], pricing: { input_per_1m: p, output_per_1m: p } });
  const models = { 'a.m': { provider: 'a', ...price(1) }, 'b.m': { provider: 'b', ...price(9) }, 'c.m': { provider: 'c', ...price(5) }, 'd.m': { provider: 'd', ...price(0.5) } };
  const { mesh } = buildMesh(t, {
    providers: { a: UNUSED_URL, b: UNUSED_URL, c: UNUSED_URL, d: UNUSED_URL }, models,
    pool: { strategy: 'priority-selection', model_priority: ['b.m', 'c.m'], fallback_strategy: 'modelmesh.cost-first.v1' },
  });
  assert.deepEqual(orderIds(mesh), ['b.m', 'c.m', 'd.m', 'a.m']);
});
