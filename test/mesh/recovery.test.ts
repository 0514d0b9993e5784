import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../src/lib/clock.ts';
import type { MeshEvent } from '../../src/mesh/events.ts';
import type { ModelMesh } from '../../src/mesh/mesh.ts';
import type { RecoveryService } from '../../src/mesh/recovery.ts';
import { json } from '../helpers/fake-upstream.ts';
import { buildMesh, fail, ok, route, routeMany, upstreams, type MeshSpec } from './mesh-helpers.ts';

const START = Date.UTC(2026, 0, 15, 1, 0);
const NEXT_MIDNIGHT = Date.UTC(2026, 0, 16);

/** The mesh's recovery service (a typed field of the composition root). */
async function recoveryOf(mesh: ModelMesh): Promise<RecoveryService> {
  return mesh.recovery;
}

async function started(t: Parameters<typeof buildMesh>[0], spec: MeshSpec): Promise<{ mesh: ModelMesh; clock: ManualClock; events: MeshEvent[]; recovery: RecoveryService }> {
  const built = buildMesh(t, spec, new ManualClock(START));
  const recovery = await recoveryOf(built.mesh);
  await built.mesh.start();
  return { ...built, recovery };
}

function reasons(events: MeshEvent[], type: 'model_active' | 'provider_active'): string[] {
  return events.flatMap((e) => (e.type === type ? [e.reason] : []));
}

test('probe_interval: a successful probe reactivates a standby model with reason "probe succeeded"', async (t) => {
  const [a, b] = await upstreams(t, 2);
  const { mesh, clock, events, recovery } = await started(t, {
    providers: { a: a!.url, b: b!.url }, pool: { deactivation: { retry_limit: 1 }, recovery: { probe_interval: '10s' } },
  });
  a!.handle(fail(503));
  assert.equal((await route(mesh)).model, 'b.m');
  const s = mesh.state.model('a.m');
  assert.equal(s.status, 'standby');
  assert.equal(s.until, null, 'with probes, the probe decides (no timed cooldown)');
  a!.handle(ok());
  const before = a!.requests.length;
  clock.advance(10_000);
  await recovery.settled();
  assert.equal(mesh.state.model('a.m').status, 'active');
  assert.deepEqual(reasons(events, 'model_active'), ['probe succeeded']);
  const probe = a!.requests[before];
  assert.equal(probe?.path, '/v1/chat/completions');
  assert.deepEqual(probe?.json, { model: 'm', messages: [{ role: 'user', content: 'ping' }], max_tokens: 1 });
  assert.equal(b!.requests.length, 1, 'active models are not probed');
});

test('probe_interval: a failing probe keeps the model in standby; the next one can succeed', async (t) => {
  const [a] = await upstreams(t, 1);
  const { mesh, clock, recovery } = await started(t, { providers: { a: a!.url }, pool: { deactivation: { retry_limit: 1 }, recovery: { probe_interval: '10s' } } });
  a!.handle(fail(500));
  await route(mesh);
  clock.advance(10_000);
  await recovery.settled();
  assert.equal(mesh.state.model('a.m').status, 'standby');
  clock.advance(10_000);
  await recovery.settled();
  assert.equal(mesh.state.model('a.m').status, 'standby');
  assert.equal(a!.requests.length, 3, 'one request, two probes');
  a!.handle(ok());
  clock.advance(10_000);
  await recovery.settled();
  assert.equal(mesh.state.model('a.m').status, 'active');
  assert.equal((await route(mesh)).model, 'a.m');
});

test('probes use {input:"ping"} for embedding models and never touch quota or manual holds', async (t) => {
  const [a] = await upstreams(t, 1);
  const models = {
    'a.e': { provider: 'a', capabilities: ['text-embeddings'] },
    'a.q': { provider: 'a', capabilities: ['chat-completion'] },
    'a.o': { provider: 'a', capabilities: ['chat-completion'] },
  };
  const { mesh, clock, recovery } = await started(t, { providers: { a: a!.url }, models, pool: { recovery: { probe_interval: '5s' } } });
  mesh.state.holdModel('a.e', 'a', { reason: 'failing', until: null, cause: 'failure', pool: 'p', manual: false });
  mesh.state.holdModel('a.q', 'a', { reason: 'request limit', until: NEXT_MIDNIGHT, cause: 'quota', pool: 'p', manual: false });
  mesh.state.holdModel('a.o', 'a', { reason: 'manual', until: null, cause: 'manual', pool: null, manual: true });
  a!.handle(json(200, { object: 'list', data: [{ object: 'embedding', index: 0, embedding: [0.1] }] }));
  clock.advance(5_000);
  await recovery.settled();
  assert.equal(a!.requests.length, 1);
  assert.deepEqual(a!.requests[0]?.json, { model: 'e', input: 'ping' });
  assert.equal(a!.requests[0]?.path, '/v1/embeddings');
  assert.equal(mesh.state.model('a.e').status, 'active');
  assert.equal(mesh.state.model('a.q').status, 'standby');
  assert.equal(mesh.state.model('a.o').status, 'standby');
});

test('probe_on_start: a failing member goes to standby at once; a standby member that answers comes back', async (t) => {
  const [a, b] = await upstreams(t, 2);
  a!.handle(fail(503));
  const built = buildMesh(t, { providers: { a: a!.url, b: b!.url }, pool: { recovery: { probe_on_start: true, cooldown: '1m' } } }, new ManualClock(START));
  built.mesh.state.holdModel('b.m', 'b', { reason: 'restored from the state file', until: null, cause: 'failure', pool: 'p', manual: false }); // as after a restart
  const recovery = await recoveryOf(built.mesh);
  await built.mesh.start();
  await recovery.settled();
  const s = built.mesh.state.model('a.m');
  assert.equal(s.status, 'standby');
  assert.match(s.reason ?? '', /^probe at start failed \(503/);
  assert.equal(s.until, START + 60_000);
  assert.equal(built.mesh.state.model('b.m').status, 'active');
  assert.equal((await route(built.mesh)).model, 'b.m');
  assert.equal(a!.requests.length, 1, 'only the probe reached a');
});

test('provider_recovery on_probe_success: a probe of any of its models brings an auth-failed provider back', async (t) => {
  const [a, b] = await upstreams(t, 2);
  const { mesh, clock, events, recovery } = await started(t, { providers: { a: a!.url, b: b!.url }, pool: { recovery: { probe_interval: '30s' } } });
  a!.handle(fail(401));
  assert.equal((await route(mesh)).model, 'b.m');
  assert.equal(mesh.state.provider('a').status, 'standby');
  assert.equal(mesh.state.provider('a').until, null);
  clock.advance(30_000);
  await recovery.settled();
  assert.equal(mesh.state.provider('a').status, 'standby', 'the key is still wrong');
  a!.handle(ok()); // the key was fixed
  clock.advance(30_000);
  await recovery.settled();
  assert.equal(mesh.state.provider('a').status, 'active');
  assert.deepEqual(reasons(events, 'provider_active'), ['probe succeeded']);
});

test('provider_recovery on_manual: probes do not bring the provider back, the admin API does', async (t) => {
  const [a, b] = await upstreams(t, 2);
  const { mesh, clock, recovery } = await started(t, { providers: { a: a!.url, b: b!.url }, pool: { provider_recovery: 'on_manual', recovery: { probe_interval: '30s' } } });
  a!.handle(fail(403));
  await route(mesh);
  a!.handle(ok());
  clock.advance(120_000);
  await recovery.settled();
  assert.equal(mesh.state.provider('a').status, 'standby');
  assert.equal(a!.requests.length, 1, 'not even probed');
});

test('on_quota_reset: at UTC midnight the window resets and the model comes back without any request', async (t) => {
  const [a] = await upstreams(t, 1);
  const { mesh, clock, events } = await started(t, { providers: { a: a!.url }, pool: { deactivation: { request_limit: 1, quota_window: 'daily' }, recovery: { on_quota_reset: true, quota_reset_schedule: 'daily_utc' } } });
  await route(mesh);
  assert.equal(mesh.state.model('a.m').status, 'standby');
  clock.set(NEXT_MIDNIGHT);
  assert.equal(mesh.state.model('a.m').status, 'active');
  assert.equal(mesh.state.model('a.m').window_requests, 0);
  assert.ok(events.some((e) => e.type === 'quota_reset' && e.model === 'a.m' && e.at === NEXT_MIDNIGHT));
  assert.deepEqual(reasons(events, 'model_active'), ['quota reset']);
});

test('cooldowns end on time (sweep timer), not only at the next request', async (t) => {
  const [a] = await upstreams(t, 1);
  const { mesh, clock, events } = await started(t, { providers: { a: a!.url }, pool: { deactivation: { retry_limit: 1 }, recovery: { cooldown: '45s' } } });
  a!.handle(fail(500));
  await route(mesh);
  clock.advance(45_000);
  const back = events.find((e) => e.type === 'model_active');
  assert.equal(back?.at, START + 45_000);
});

test('maintenance_window: members in standby from its start to its end (UTC)', async (t) => {
  const [a, b] = await upstreams(t, 2);
  const { mesh, clock } = await started(t, { providers: { a: a!.url, b: b!.url }, pool: { models: ['a.m'], deactivation: { maintenance_window: '02:00-03:30' } } });
  assert.equal((await route(mesh)).model, 'a.m');
  clock.set(Date.UTC(2026, 0, 15, 2, 0));
  const s = mesh.state.model('a.m');
  assert.equal(s.status, 'standby');
  assert.equal(s.reason, 'maintenance window 02:00-03:30 UTC');
  assert.equal(s.until, Date.UTC(2026, 0, 15, 3, 30));
  assert.equal((await route(mesh)).status, 503);
  clock.set(Date.UTC(2026, 0, 15, 3, 30));
  assert.equal(mesh.state.model('a.m').status, 'active');
  clock.set(Date.UTC(2026, 0, 16, 2, 15));
  assert.equal(mesh.state.model('a.m').status, 'standby', 'every day');
});

test('stop() cancels every timer; reload re-arms them for the new config', async (t) => {
  const [a] = await upstreams(t, 1);
  const { mesh, clock } = await started(t, { providers: { a: a!.url }, pool: { recovery: { probe_interval: '10s' }, deactivation: { maintenance_window: '02:00-03:00' } } });
  const armed = clock.pending;
  assert.ok(armed >= 3, 'probe, maintenance and midnight timers');
  mesh.reload(mesh.config);
  assert.equal(clock.pending, armed, 're-armed, not doubled');
  await mesh.shutdown();
  assert.equal(clock.pending, 0);
});

test('a reload that removes probe_interval gives models waiting for a probe their cooldown instead of a hold for good', async () => {
  const { buildConfig } = await import('../../src/config/schema/index.ts');
  const { ModelMesh: Mesh } = await import('../../src/mesh/mesh.ts');
  const raw = (probe: boolean): Record<string, unknown> => ({
    providers: { s: { connector: 'modelmesh.simulated.v1' } },
    models: { 's.m': { provider: 's', capabilities: ['chat-completion'] } },
    pools: { p: { models: ['s.m'], recovery: { cooldown: '30s', ...(probe ? { probe_interval: '1h' } : {}) } } },
  });
  const clock = new ManualClock(START);
  const mesh = Mesh.fromConfig(raw(true), { clock, env: {} });
  await mesh.start();
  // Held for a probe: no end time of its own.
  mesh.state.holdModel('s.m', 's', { reason: 'probe pending', until: null, cause: 'failure', pool: 'p', manual: false });
  assert.equal(mesh.state.model('s.m').until, null);
  mesh.reload(buildConfig(raw(false), { source: null, env: {}, baseDir: '.' }));
  assert.equal(mesh.state.model('s.m').until, START + 30_000, 'falls back to the cooldown');
  clock.advance(30_000);
  assert.equal(mesh.state.isModelActive('s.m', 's'), true);
  await mesh.shutdown();
});
