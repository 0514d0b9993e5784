// Router regressions: retries, Retry-After and the aggregated final error (DESIGN §4.4, §4.5).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/lib/clock.ts';
import type { MeshError } from '../../src/errors.ts';
import { NO_NEEDS } from '../../src/mesh/eligibility.ts';
import type { AttemptRecord } from '../../src/mesh/events.ts';
import { ModelMesh } from '../../src/mesh/mesh.ts';
import type { RouteRequest } from '../../src/mesh/router.ts';
import { buildMesh, fail, route, upstreams } from './mesh-helpers.ts';

function ask(model: string): RouteRequest {
  return {
    endpoint: 'chat', model, body: { messages: [{ role: 'user', content: 'hi' }] }, form: null, mode: 'buffer',
    needs: NO_NEEDS, sessionId: null, requestId: 'r', signal: new AbortController().signal,
  };
}

function meshOf(pools: Record<string, unknown>, clock = new ManualClock()): ModelMesh {
  return ModelMesh.fromConfig({
    providers: { bad: { connector: 'modelmesh.simulated.v1', failure_rate: 1 }, good: { connector: 'modelmesh.simulated.v1' } },
    models: {
      'bad.m': { provider: 'bad', capabilities: ['chat-completion'] },
      'good.m': { provider: 'good', capabilities: ['chat-completion'] },
    },
    pools,
  }, { clock, env: {} });
}

test('a retry waiting in its backoff skips a model whose provider went to standby meanwhile', async () => {
  const clock = new ManualClock();
  const mesh = meshOf({ p: { models: ['bad.m', 'good.m'], retry: { max_attempts: 3, backoff: 'fixed', initial_delay: '1s' }, deactivation: { retry_limit: 0 } } }, clock);
  const attempts: AttemptRecord[] = [];
  mesh.events.on((e) => {
    if (e.type === 'request') attempts.push(...e.attempts);
  });
  const routing = mesh.router.route(ask('p'));
  // The first attempt failed and the router sleeps its backoff (deadline timer + backoff timer).
  while (clock.pending < 2) await new Promise((r) => setImmediate(r));
  mesh.state.holdProvider('bad', { reason: 'auth failure (another request)', until: null, cause: 'auth', pool: null, manual: false });
  // Unfixed, the router retried bad.m and slept again: keep time moving so it still ends.
  let settled = false;
  void routing.finally(() => (settled = true)).catch(() => undefined);
  for (let i = 0; i < 10 && !settled; i++) {
    clock.advance(1_000);
    for (let j = 0; j < 5; j++) await new Promise((r) => setImmediate(r));
  }
  const routed = await routing;
  routed.finish({ usage: null });
  assert.equal(routed.model.id, 'good.m');
  assert.deepEqual(attempts.map((a) => a.model), ['bad.m', 'good.m'], 'no retry sent to the provider in standby');
  await mesh.shutdown();
});

test('no_available_models: Retry-After comes from the members of the pool asked for, not from another pool', async () => {
  const clock = new ManualClock();
  const mesh = meshOf({ p: { models: ['bad.m'] }, q: { models: ['good.m'] } }, clock);
  mesh.state.holdModel('bad.m', 'bad', { reason: 'failures', until: clock.now() + 3_600_000, cause: 'failure', pool: 'p', manual: false });
  mesh.state.holdModel('good.m', 'good', { reason: 'failures', until: clock.now() + 10_000, cause: 'failure', pool: 'q', manual: false });
  await assert.rejects(mesh.router.route(ask('p')), (err: MeshError) => {
    assert.equal(err.code, 'no_available_models');
    assert.equal(err.headers['retry-after'], '3600');
    return true;
  });
  // A member whose provider is held longer than the member itself is back only when both are.
  mesh.state.holdProvider('good', { reason: 'budget', until: clock.now() + 7_200_000, cause: 'budget', pool: null, manual: false });
  await assert.rejects(mesh.router.route(ask('q')), (err: MeshError) => err.headers['retry-after'] === '7200');
  await mesh.shutdown();
});

test('the same 401 from every upstream is a 502 for the client (the proxy\'s key was refused, not the client\'s); the same 400 passes on', async (t) => {
  const [a, b] = await upstreams(t, 2);
  const { mesh } = buildMesh(t, { providers: { a: a!.url, b: b!.url }, pool: {} });
  a!.handle(fail(401));
  b!.handle(fail(401));
  const refused = await route(mesh);
  assert.equal(refused.status, 502);
  assert.match(refused.error ?? '', /a\.m: 401/);
  mesh.state.releaseProvider('a', 'test');
  mesh.state.releaseProvider('b', 'test');
  a!.handle(fail(400));
  b!.handle(fail(400));
  assert.equal((await route(mesh)).status, 400);
});
