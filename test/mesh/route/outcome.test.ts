// The one place a request is priced and its event built (src/mesh/route/outcome.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../src/lib/clock.ts';
import { EventBus, type MeshEvent, type RequestEvent } from '../../../src/mesh/events.ts';
import { NO_NEEDS } from '../../../src/mesh/eligibility.ts';
import { costOf, emitRequest, leastCostOf } from '../../../src/mesh/route/outcome.ts';
import type { Plan } from '../../../src/mesh/route/plan.ts';
import type { RouteDeps } from '../../../src/mesh/route/request.ts';
import type { ModelEntry } from '../../../src/mesh/types.ts';
import type { StateStore } from '../../../src/mesh/state.ts';

test('costOf: USD per million prompt and completion tokens; no usage costs nothing', () => {
  const pricing = { input_per_1m: 2.5, output_per_1m: 10 };
  assert.equal(costOf(pricing, { prompt_tokens: 1_000_000, completion_tokens: 0 }), 2.5);
  assert.equal(costOf(pricing, { prompt_tokens: 1000, completion_tokens: 500 }), (1000 * 2.5 + 500 * 10) / 1e6);
  assert.equal(costOf(pricing, null), 0);
  assert.equal(costOf({ input_per_1m: 0, output_per_1m: 0 }, { prompt_tokens: 9, completion_tokens: 9 }), 0);
});

test('leastCostOf: every token at the cheapest rate of the cheapest model; nothing known costs nothing', () => {
  const model = (input: number, output: number): ModelEntry => ({ id: `m${input}`, config: { pricing: { input_per_1m: input, output_per_1m: output } } }) as unknown as ModelEntry;
  assert.equal(leastCostOf([model(3, 15), model(1, 4)], 1_000_000), 1);
  assert.equal(leastCostOf([model(3, 2)], 500_000), 1);
  assert.equal(leastCostOf([], 1000), 0);
  assert.equal(leastCostOf([model(3, 15)], 0), 0);
});

function fixture(): { deps: RouteDeps; plan: Plan; events: EventBus; seen: RequestEvent[] } {
  const events = new EventBus();
  const clock = new ManualClock();
  const deps: RouteDeps = { state: {} as StateStore, events, clock, deadlineMs: 1000, redact: (text) => text };
  const plan = {
    req: {
      endpoint: 'chat', model: 'p', body: { messages: [] }, form: null, mode: 'buffer', needs: NO_NEEDS, sessionId: null, requestId: 'req-1',
      signal: new AbortController().signal, client: 'app1',
    },
    started: performance.now(), pool: null, poolName: 'p', excluded: ['x.m: standby'], candidates: ['a.m'],
    attempts: [{ model: 'a.m', provider: 'a', status: 200, outcome: 'success', reason: null, latency_ms: 1 }],
  } as unknown as Plan;
  const seen: RequestEvent[] = [];
  return { deps, plan, events, seen };
}

test('emitRequest builds nothing when no one listens', () => {
  const { deps, plan, events } = fixture();
  assert.equal(events.active, false);
  emitRequest(deps, plan, { outcome: 'failure', status: 502, error: 'x', model: null }); // no listener: must not throw
});

test('one request event per call, with the plan\'s routing record and how it ended', () => {
  const { deps, plan, events, seen } = fixture();
  events.on((e: MeshEvent) => void (e.type === 'request' && seen.push(e)));
  const model = { id: 'a.m', config: { provider: 'a' } } as ModelEntry;
  emitRequest(deps, plan, { outcome: 'success', status: 200, error: null, model, ttfbMs: 3, tokensIn: 10, tokensOut: 5, cost: 0.01 });
  assert.equal(seen.length, 1);
  const e = seen[0]!;
  assert.equal(e.requestId, 'req-1');
  assert.equal(e.pool, 'p');
  assert.deepEqual(e.candidates, ['a.m']);
  assert.deepEqual(e.excluded, ['x.m: standby']);
  assert.equal(e.attempts.length, 1);
  assert.equal(e.model, 'a.m');
  assert.equal(e.provider, 'a');
  assert.equal(e.client, 'app1');
  assert.equal(e.ttfb_ms, 3);
  assert.deepEqual([e.tokens_in, e.tokens_out, e.cost], [10, 5, 0.01]);
  assert.equal('request_body' in e, false, 'bodies only when a sink asked for them');
  emitRequest(deps, plan, { outcome: 'failure', status: 502, error: 'all failed', model: null });
  const failed = seen[1]!;
  assert.deepEqual([failed.model, failed.provider, failed.tokens_in, failed.cost], [null, null, 0, 0]);
  assert.equal(failed.ttfb_ms, failed.latency_ms, 'no first byte: ttfb is the latency');
});

test('with wantsBodies: the request body, and the buffered answer as JSON or as text', () => {
  const { deps, plan, events, seen } = fixture();
  events.on((e: MeshEvent) => void (e.type === 'request' && seen.push(e)));
  events.wantsBodies = true;
  const end = { outcome: 'success', status: 200, error: null, model: null } as const;
  emitRequest(deps, plan, { ...end, body: Buffer.from('{"ok":true}') });
  emitRequest(deps, plan, { ...end, body: Buffer.from('not json') });
  emitRequest(deps, plan, end);
  assert.deepEqual(seen.map((e) => [e.request_body, e.response_body]), [
    [{ messages: [] }, { ok: true }],
    [{ messages: [] }, 'not json'],
    [{ messages: [] }, undefined],
  ]);
  assert.equal('response_body' in seen[2]!, false);
});
