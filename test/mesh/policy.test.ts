import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MeshEvent } from '../../src/mesh/events.ts';
import { afterFailure } from '../../src/mesh/policy.ts';
import { buildMesh, fail, ok, pool, route, routeMany, UNUSED_URL, upstreams } from './mesh-helpers.ts';

const START = Date.UTC(2026, 0, 15, 10, 30); // Thursday 15 Jan 2026, 10:30 UTC
const NEXT_MIDNIGHT = Date.UTC(2026, 0, 16);
const NEXT_MONTH = Date.UTC(2026, 1, 1);
const priced = (provider: string): Record<string, unknown> => ({ provider, capabilities: ['chat-completion'], pricing: { input_per_1m: 1000, output_per_1m: 1000 } });

function last<T extends MeshEvent['type']>(events: MeshEvent[], type: T): Extract<MeshEvent, { type: T }> | undefined {
  return events.filter((e): e is Extract<MeshEvent, { type: T }> => e.type === type).at(-1);
}

async function oneModel(t: Parameters<typeof buildMesh>[0], pool: Record<string, unknown>, models?: Record<string, Record<string, unknown>>) {
  const [a] = await upstreams(t, 1);
  const { ManualClock } = await import('../../src/lib/clock.ts');
  return { up: a!, ...buildMesh(t, { providers: { a: a!.url }, pool, ...(models ? { models } : {}) }, new ManualClock(START)) };
}

test('request_limit with quota_window daily: standby until the next UTC midnight, then active', async (t) => {
  const { mesh, clock, events } = await oneModel(t, { deactivation: { request_limit: 3, quota_window: 'daily' } });
  assert.deepEqual(await routeMany(mesh, 3), ['a.m', 'a.m', 'a.m']);
  const s = mesh.state.model('a.m');
  assert.equal(s.status, 'standby');
  assert.equal(s.until, NEXT_MIDNIGHT);
  assert.equal(s.reason, 'request limit 3 reached (daily quota)');
  assert.equal(last(events, 'model_standby')?.until, NEXT_MIDNIGHT);
  const refused = await route(mesh);
  assert.equal(refused.status, 503);
  assert.match(refused.error ?? '', /request limit 3 reached/);
  clock.set(NEXT_MIDNIGHT - 1);
  assert.equal((await route(mesh)).status, 503);
  clock.set(NEXT_MIDNIGHT);
  assert.equal((await route(mesh)).model, 'a.m');
  assert.equal(last(events, 'model_active')?.reason, 'quota reset');
  assert.deepEqual(last(events, 'quota_reset'), { type: 'quota_reset', at: NEXT_MIDNIGHT, model: 'a.m', window: 'daily' });
  assert.equal(mesh.state.model('a.m').window_requests, 1, 'a new window started');
});

test('token_limit counts prompt + completion tokens of the window', async (t) => {
  const { mesh } = await oneModel(t, { deactivation: { token_limit: 40 } });
  assert.equal((await route(mesh, { usage: { prompt_tokens: 10, completion_tokens: 10 } })).model, 'a.m');
  assert.equal(mesh.state.model('a.m').status, 'active');
  await route(mesh, { usage: { prompt_tokens: 15, completion_tokens: 5 } });
  assert.equal(mesh.state.model('a.m').status, 'standby');
  assert.equal(mesh.state.model('a.m').reason, 'token limit 40 reached (daily quota)');
  assert.equal(mesh.state.model('a.m').until, NEXT_MIDNIGHT, 'no quota_window: the daily_utc reset schedule');
});

test('budget_limit (USD from pricing) with quota_window daily', async (t) => {
  // 1000 USD per 1M tokens: 15 tokens = $0.015 per request.
  const { mesh, clock } = await oneModel(t, { deactivation: { budget_limit: 0.04, quota_window: 'daily' } }, { 'a.m': priced('a') });
  await routeMany(mesh, 2);
  assert.equal(mesh.state.model('a.m').status, 'active');
  await route(mesh);
  const s = mesh.state.model('a.m');
  assert.equal(s.status, 'standby');
  assert.match(s.reason ?? '', /^budget limit \$0\.04 reached \(\$0\.0450 spent, daily quota\)$/);
  assert.equal(s.until, NEXT_MIDNIGHT);
  clock.set(NEXT_MIDNIGHT);
  assert.equal((await route(mesh)).model, 'a.m');
  assert.ok(Math.abs(mesh.state.model('a.m').window_cost - 0.015) < 1e-9);
});

test('quota_window monthly: standby until the first of next month', async (t) => {
  const { mesh, clock } = await oneModel(t, { deactivation: { request_limit: 2, quota_window: 'monthly' } });
  await routeMany(mesh, 2);
  assert.equal(mesh.state.model('a.m').until, NEXT_MONTH);
  clock.set(NEXT_MIDNIGHT);
  assert.equal((await route(mesh)).status, 503, 'a day later: still the same month');
  clock.set(NEXT_MONTH);
  assert.equal((await route(mesh)).model, 'a.m');
});

test('on_quota_reset: false keeps a quota standby until an operator acts', async (t) => {
  const { mesh, clock } = await oneModel(t, { deactivation: { request_limit: 1 }, recovery: { on_quota_reset: false } });
  await route(mesh);
  assert.equal(mesh.state.model('a.m').until, null);
  clock.set(NEXT_MONTH);
  assert.equal((await route(mesh)).status, 503);
});

test('retry_limit: consecutive failures only; a success resets the run; client errors never count', async (t) => {
  const { mesh, up } = await oneModel(t, { deactivation: { retry_limit: 2 } });
  up.sequence(fail(500), ok(), fail(500), fail(400), fail(404), fail(422), fail(503), ok());
  await routeMany(mesh, 6);
  assert.equal(mesh.state.model('a.m').status, 'active');
  assert.equal(mesh.state.model('a.m').consecutive_failures, 1);
  await route(mesh);
  assert.equal(mesh.state.model('a.m').status, 'standby');
  assert.match(mesh.state.model('a.m').reason ?? '', /^2 consecutive failures \(last: 503/);
});

test('error_rate_threshold over a sliding window of error_rate_window requests', async (t) => {
  const { mesh, up } = await oneModel(t, { deactivation: { retry_limit: 0, error_rate_threshold: 0.5, error_rate_window: 4 } });
  up.sequence(fail(500), ok(), ok(), ok(), fail(500), ok(), fail(500));
  await routeMany(mesh, 6); // window [0,0,1,0] after 6 → 25%
  assert.equal(mesh.state.model('a.m').status, 'active');
  await route(mesh); // window [0,1,0,1] → 50%
  assert.equal(mesh.state.model('a.m').status, 'standby');
  assert.equal(mesh.state.model('a.m').reason, 'error rate 50% over the last 4 requests (threshold 50%)');
});

test('error_codes put the model in standby at the first such answer', async (t) => {
  const { mesh, up } = await oneModel(t, { deactivation: { retry_limit: 0, error_codes: [429] }, recovery: { cooldown: '2m' } });
  up.handle(fail(429));
  await route(mesh);
  const s = mesh.state.model('a.m');
  assert.equal(s.status, 'standby');
  assert.match(s.reason ?? '', /^error code 429/);
  assert.equal(s.until, START + 120_000);
});

test('cooldown expiry brings the model back, with an event', async (t) => {
  const { mesh, clock, up, events } = await oneModel(t, { deactivation: { retry_limit: 1 }, recovery: { cooldown: '30s' } });
  up.sequence(fail(502), ok());
  await route(mesh);
  assert.equal(mesh.state.model('a.m').until, START + 30_000);
  clock.advance(29_999);
  assert.equal((await route(mesh)).status, 503);
  clock.advance(1);
  assert.equal((await route(mesh)).model, 'a.m');
  assert.equal(last(events, 'model_active')?.reason, 'cooldown elapsed');
});

test('provider auth failure: every model of the provider goes to standby in every pool', async (t) => {
  const [a, b] = await upstreams(t, 2);
  const models = { 'a.m1': { provider: 'a', capabilities: ['chat-completion'] }, 'a.m2': { provider: 'a', capabilities: ['chat-completion'] }, 'b.m': { provider: 'b', capabilities: ['chat-completion'] } };
  const { mesh, events } = buildMesh(t, { providers: { a: a!.url, b: b!.url }, models, pool: { models: ['a.m1', 'b.m'] } });
  a!.handle(fail(401));
  assert.equal((await route(mesh)).model, 'b.m');
  assert.equal(mesh.state.provider('a').status, 'standby');
  assert.match(mesh.state.provider('a').reason ?? '', /^auth failure/);
  assert.equal(mesh.state.isModelActive('a.m2', 'a'), false, 'a.m2 never failed but is out too');
  assert.equal((await route(mesh, { pool: 'text-generation' })).model, 'b.m', 'and in the predefined pool too');
  assert.equal(last(events, 'provider_standby')?.provider, 'a');
});

test('on_api_outage: every model of a provider failing with transport errors / 5xx retry_limit times in a row', async (t) => {
  const [a, b] = await upstreams(t, 2);
  const models = { 'a.m1': { provider: 'a', capabilities: ['chat-completion'] }, 'a.m2': { provider: 'a', capabilities: ['chat-completion'] }, 'b.m': { provider: 'b', capabilities: ['chat-completion'] } };
  const spec = { providers: { a: a!.url, b: b!.url }, models, pool: { provider_deactivation: ['on_auth_failure', 'on_api_outage'], deactivation: { retry_limit: 2 } } };
  const { mesh } = buildMesh(t, spec);
  mesh.state.setTopology(new Map([['a', ['a.m1', 'a.m2']], ['b', ['b.m']]]));
  a!.handle(fail(503));
  assert.equal((await route(mesh)).model, 'b.m'); // a.m1 fails, a.m2 fails: 2 in a row across both
  const p = mesh.state.provider('a');
  assert.equal(p.status, 'standby');
  assert.equal(p.cause, 'outage');
  assert.match(p.reason ?? '', /^API outage: 2 failures in a row across its models/);
});

test('on_api_outage does not fire when only one model of the provider fails', async (t) => {
  const models = { 'a.m1': { provider: 'a', capabilities: ['chat-completion'] }, 'a.m2': { provider: 'a', capabilities: ['chat-completion'] } };
  const { mesh } = buildMesh(t, { providers: { a: UNUSED_URL }, models, pool: { provider_deactivation: 'on_api_outage', deactivation: { retry_limit: 3 } } });
  mesh.state.setTopology(new Map([['a', ['a.m1', 'a.m2']]]));
  const p = pool(mesh);
  const m1 = p.members[0]!;
  for (let i = 0; i < 3; i++) afterFailure(p.config, 'p', m1, { status: 0, reason: 'connection refused' }, mesh.state);
  assert.equal(mesh.state.provider('a').status, 'active');
  assert.equal(mesh.state.model('a.m1').status, 'standby', 'the model itself hit retry_limit');
  afterFailure(p.config, 'p', p.members[1]!, { status: 0, reason: 'connection refused' }, mesh.state);
  assert.equal(mesh.state.provider('a').status, 'standby', 'now every model has failed (or is in standby)');
});

test('provider budget.daily_limit puts its models in standby until the next UTC midnight', async (t) => {
  const [a, b] = await upstreams(t, 2);
  const { ManualClock } = await import('../../src/lib/clock.ts');
  const { mesh, clock } = buildMesh(t, {
    providers: { a: a!.url, b: b!.url }, models: { 'a.m': priced('a'), 'b.m': priced('b') },
    providerExtra: { a: { budget: { daily_limit: 0.03, monthly_limit: 1 } } }, pool: { strategy: 'priority-selection' },
  }, new ManualClock(START));
  assert.deepEqual(await routeMany(mesh, 3), ['a.m', 'a.m', 'b.m']);
  const p = mesh.state.provider('a');
  assert.equal(p.status, 'standby');
  assert.equal(p.cause, 'budget');
  assert.equal(p.until, NEXT_MIDNIGHT);
  assert.match(p.reason ?? '', /^daily budget \$0\.03 reached \(\$0\.0300 spent on 2026-01-15\)$/);
  clock.set(NEXT_MIDNIGHT);
  assert.equal((await route(mesh)).model, 'a.m');
  assert.equal(mesh.state.provider('a').day, '2026-01-16');
  assert.ok(Math.abs(mesh.state.provider('a').spend_daily - 0.015) < 1e-9, 'the daily spend restarted');
  assert.ok(Math.abs(mesh.state.provider('a').spend_monthly - 0.045) < 1e-9, 'the monthly spend did not');
});

test('provider budget.monthly_limit: standby until the first of next month', async (t) => {
  const { ManualClock } = await import('../../src/lib/clock.ts');
  const [a] = await upstreams(t, 1);
  const { mesh, clock } = buildMesh(t, { providers: { a: a!.url }, models: { 'a.m': priced('a') }, providerExtra: { a: { budget: { monthly_limit: 0.015 } } }, pool: {} }, new ManualClock(START));
  await route(mesh);
  assert.equal(mesh.state.provider('a').until, NEXT_MONTH);
  clock.set(NEXT_MIDNIGHT);
  assert.equal((await route(mesh)).status, 503);
  clock.set(NEXT_MONTH);
  assert.equal((await route(mesh)).model, 'a.m');
});

test('an operator hold is never replaced by an automatic one, and a standby is only lengthened', async (t) => {
  const { mesh } = await oneModel(t, { deactivation: { retry_limit: 1 }, recovery: { cooldown: '1m' } });
  const p = pool(mesh);
  const m = p.members[0]!;
  mesh.state.holdModel('a.m', 'a', { reason: 'manual', until: null, cause: 'manual', pool: null, manual: true });
  afterFailure(p.config, 'p', m, { status: 500, reason: '500 late answer' }, mesh.state);
  assert.equal(mesh.state.model('a.m').reason, 'manual');
  assert.equal(mesh.state.model('a.m').until, null);
  mesh.state.releaseModel('a.m', 'a', 'manual');
  mesh.state.holdModel('a.m', 'a', { reason: 'request limit', until: NEXT_MIDNIGHT, cause: 'quota', pool: 'p', manual: false });
  afterFailure(p.config, 'p', m, { status: 500, reason: '500 late answer' }, mesh.state);
  assert.equal(mesh.state.model('a.m').until, NEXT_MIDNIGHT, 'a cooldown does not cut a quota hold short');
});
