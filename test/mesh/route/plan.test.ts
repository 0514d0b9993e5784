// Steps 1 and 2 of a route (src/mesh/route/plan.ts) without any attempt: where a name leads, which members are
// eligible, in which order, and why a request is refused before its first attempt.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../src/lib/clock.ts';
import { MeshError } from '../../../src/errors.ts';
import { NO_NEEDS } from '../../../src/mesh/eligibility.ts';
import { ModelMesh } from '../../../src/mesh/mesh.ts';
import { planAttempts, resolveTarget } from '../../../src/mesh/route/plan.ts';
import type { RouteRequest } from '../../../src/mesh/router.ts';

function meshWith(pool: Record<string, unknown> = {}): ModelMesh {
  return ModelMesh.fromConfig(
    {
      providers: { a: { connector: 'modelmesh.simulated.v1' }, b: { connector: 'modelmesh.simulated.v1' } },
      models: {
        'a.m': { provider: 'a', capabilities: ['chat-completion'] },
        'b.m': { provider: 'b', capabilities: ['chat-completion'] },
        'b.embed': { provider: 'b', capabilities: ['text-embeddings'] },
      },
      pools: { p: { models: ['a.m', 'b.m'], ...pool } },
    },
    { clock: new ManualClock(), env: {} },
  );
}

function ask(model: string, extra: Partial<RouteRequest> = {}): RouteRequest {
  return {
    endpoint: 'chat', model, body: {}, form: null, mode: 'buffer', needs: NO_NEEDS, sessionId: null, requestId: 'r',
    signal: new AbortController().signal, ...extra,
  };
}

test('resolve: a pool leads to its members; a model id to that model under its home pool\'s policy', async (t) => {
  const mesh = meshWith();
  t.after(() => mesh.shutdown());
  const pool = resolveTarget(mesh.registry, 'p');
  assert.equal(pool.pool?.name, 'p');
  assert.deepEqual(pool.members.map((m) => m.id), ['a.m', 'b.m']);
  const model = resolveTarget(mesh.registry, 'b.m');
  assert.equal(model.pool, null);
  assert.deepEqual(model.members.map((m) => m.id), ['b.m']);
  assert.equal(model.home, mesh.registry.homePool(model.members[0]!));
});

test('plan: the strategy orders the eligible members; nothing is attempted yet', async (t) => {
  const mesh = meshWith({ strategy: 'modelmesh.priority-selection.v1', model_priority: ['b.m'] });
  t.after(() => mesh.shutdown());
  const plan = planAttempts(ask('p'), resolveTarget(mesh.registry, 'p'), mesh.state, mesh.clock, 0);
  assert.equal(plan.refusal, null);
  assert.deepEqual(plan.candidates, ['b.m', 'a.m']);
  assert.deepEqual(plan.order.map((m) => m.id), ['b.m', 'a.m']);
  assert.equal(plan.poolName, 'p');
  assert.deepEqual(plan.attempts, []);
});

test('plan: a member in standby is excluded with its reason, the others still planned', async (t) => {
  const mesh = meshWith();
  t.after(() => mesh.shutdown());
  mesh.state.holdModel('a.m', 'a', { reason: 'operator', until: null, cause: 'manual', pool: null, manual: true });
  const plan = planAttempts(ask('p'), resolveTarget(mesh.registry, 'p'), mesh.state, mesh.clock, 0);
  assert.deepEqual(plan.candidates, ['b.m']);
  assert.equal(plan.excluded.length, 1);
  assert.match(plan.excluded[0]!, /^a\.m: /);
});

test('plan: nothing eligible is a refusal with no candidates (the translation\'s own error when it has one)', async (t) => {
  const mesh = meshWith();
  t.after(() => mesh.shutdown());
  const plan = planAttempts(ask('b.embed'), resolveTarget(mesh.registry, 'b.embed'), mesh.state, mesh.clock, 0);
  assert.ok(plan.refusal instanceof MeshError);
  assert.equal(plan.refusal.code, 'no_eligible_models');
  assert.deepEqual(plan.candidates, []);
  const untranslatable = new MeshError('invalid_request', 'cannot be said in chat');
  const messages = ask('p', { endpoint: 'messages', translated: { error: untranslatable } });
  const refused = planAttempts(messages, resolveTarget(mesh.registry, 'p'), mesh.state, mesh.clock, 0);
  assert.equal(refused.refusal, untranslatable);
});
