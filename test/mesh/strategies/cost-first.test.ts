import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildMesh, fail, orderIds, route, UNUSED_URL, upstreams } from '../mesh-helpers.ts';

const MODELS = {
  'a.m': { provider: 'a', capabilities: ['chat-completion'], pricing: { input_per_1m: 5, output_per_1m: 15 } },
  'b.m': { provider: 'b', capabilities: ['chat-completion'], pricing: { input_per_1m: 0.15, output_per_1m: 0.6 } },
  'c.m': { provider: 'c', capabilities: ['chat-completion'], pricing: { input_per_1m: 1, output_per_1m: 2 } },
};

test('cost-first orders by input + output price per 1M tokens, cheapest first', (t) => {
  const { mesh } = buildMesh(t, { providers: { a: UNUSED_URL, b: UNUSED_URL, c: UNUSED_URL }, models: MODELS, pool: { strategy: 'modelmesh.cost-first.v1' } });
  assert.deepEqual(orderIds(mesh), ['b.m', 'c.m', 'a.m']);
});

test('cost-first keeps the priority order between equal prices', (t) => {
  const same = { capabilities: ['chat-completion'], pricing: { input_per_1m: 1, output_per_1m: 1 } };
  const models = { 'a.m': { provider: 'a', ...same }, 'b.m': { provider: 'b', ...same }, 'c.m': { provider: 'c', ...same, pricing: { input_per_1m: 0, output_per_1m: 0 } } };
  const { mesh } = buildMesh(t, { providers: { a: UNUSED_URL, b: UNUSED_URL, c: UNUSED_URL }, models, pool: { strategy: 'cost-first', model_priority: ['b.m'] } });
  assert.deepEqual(orderIds(mesh), ['c.m', 'b.m', 'a.m']);
});

test('cost-first picks the cheapest eligible model and falls back in price order when it fails (end to end)', async (t) => {
  const [a, b, c] = await upstreams(t, 3);
  const { mesh } = buildMesh(t, { providers: { a: a!.url, b: b!.url, c: c!.url }, models: MODELS, pool: { strategy: 'cost-first' } });
  assert.equal((await route(mesh)).model, 'b.m');
  b!.handle(fail(503));
  assert.equal((await route(mesh)).model, 'c.m', 'cheapest failed: next cheapest');
  c!.handle(fail(500));
  assert.equal((await route(mesh)).model, 'a.m', 'then the most expensive');
  assert.deepEqual([b!.requests.length, c!.requests.length, a!.requests.length], [3, 2, 1]);
});
