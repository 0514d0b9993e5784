// Step 3 of a route (src/mesh/route/attempts.ts) on its own: the result of the attempt loop before any commit,
// over simulated providers (one always fails) and a manual clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CancelToken } from '../../../src/lib/cancel.ts';
import { ManualClock } from '../../../src/lib/clock.ts';
import { NO_NEEDS } from '../../../src/mesh/eligibility.ts';
import type { MeshEvent } from '../../../src/mesh/events.ts';
import { ModelMesh } from '../../../src/mesh/mesh.ts';
import { runAttempts } from '../../../src/mesh/route/attempts.ts';
import { planAttempts, resolveTarget } from '../../../src/mesh/route/plan.ts';
import { RequestScope } from '../../../src/mesh/route/request-scope.ts';
import type { RouteDeps } from '../../../src/mesh/route/request.ts';
import type { RouteRequest } from '../../../src/mesh/router.ts';

function setup(models: string[], signal = new CancelToken()) {
  const clock = new ManualClock();
  const mesh = ModelMesh.fromConfig(
    {
      providers: { bad: { connector: 'modelmesh.simulated.v1', failure_rate: 1 }, good: { connector: 'modelmesh.simulated.v1' } },
      models: { 'bad.m': { provider: 'bad', capabilities: ['chat-completion'] }, 'good.m': { provider: 'good', capabilities: ['chat-completion'] } },
      pools: { p: { models, strategy: 'modelmesh.priority-selection.v1', retry: { max_attempts: 1 } } },
    },
    { clock, env: {} },
  );
  const req: RouteRequest = {
    endpoint: 'chat', model: 'p', body: { messages: [{ role: 'user', content: 'hi' }] }, form: null, mode: 'buffer', needs: NO_NEEDS,
    sessionId: null, requestId: 'r', signal,
  };
  const deps: RouteDeps = { state: mesh.state, events: mesh.events, clock, deadlineMs: 60_000, redact: (text) => text };
  const plan = planAttempts(req, resolveTarget(mesh.registry, 'p'), mesh.state, clock, performance.now());
  const scope = new RequestScope(signal, clock, deps.deadlineMs);
  const seen: MeshEvent[] = [];
  mesh.events.on((e) => void seen.push(e));
  return { mesh, plan, scope, deps, seen };
}

test('a failed attempt rotates to the next candidate; the winner is returned, every attempt recorded', async (t) => {
  const { mesh, plan, scope, deps, seen } = setup(['bad.m', 'good.m']);
  t.after(() => mesh.shutdown());
  const result = await runAttempts(plan, scope, deps, (outcome) => outcome);
  assert.equal(result.ok, true);
  assert.equal(result.ok && result.model.id, 'good.m');
  assert.deepEqual(plan.attempts.map((a) => [a.model, a.outcome]), [['bad.m', 'failure'], ['good.m', 'success']]);
  assert.ok(seen.some((e) => e.type === 'rotation' && e.from === 'bad.m' && e.to === 'good.m'));
  assert.equal(seen.some((e) => e.type === 'request'), false, 'the request event is the commit step\'s, not this one\'s');
  scope.release();
});

test('every candidate failing ends with the final error and no model', async (t) => {
  const { mesh, plan, scope, deps } = setup(['bad.m']);
  t.after(() => mesh.shutdown());
  const result = await runAttempts(plan, scope, deps, (outcome) => outcome);
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.equal(result.outcome, 'failure');
  assert.equal(result.model, null);
  assert.equal(result.status, result.error.status);
  assert.match(result.error.message, /^All 1 attempt failed: bad\.m: /);
  scope.release();
});

test('a client gone before the first answer ends as cancelled (499) on the model being tried', async (t) => {
  const signal = new CancelToken();
  signal.abort();
  const { mesh, plan, scope, deps } = setup(['good.m'], signal);
  t.after(() => mesh.shutdown());
  const result = await runAttempts(plan, scope, deps, (outcome) => outcome);
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.deepEqual([result.outcome, result.status, result.error.code, result.model?.id], ['cancelled', 499, 'cancelled', 'good.m']);
  assert.deepEqual(plan.attempts.map((a) => a.outcome), ['cancelled']);
  scope.release();
});
