import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SessionStickiness } from '../../../src/mesh/strategies/session-stickiness.ts';
import { buildMesh, ctxOf, fail, ok, orderIds, pool, route, routeMany, UNUSED_URL, upstreams } from '../mesh-helpers.ts';

test('session-stickiness keeps a session on its model and moves it only when that model goes to standby (end to end)', async (t) => {
  const [a, b, c] = await upstreams(t, 3);
  const { mesh } = buildMesh(t, { providers: { a: a!.url, b: b!.url, c: c!.url }, pool: { strategy: 'session-stickiness', deactivation: { retry_limit: 1 } } });
  assert.deepEqual(await routeMany(mesh, 3, { sessionId: 's1' }), ['a.m', 'a.m', 'a.m']);
  a!.handle(fail(503)); // a fails once → standby (retry_limit 1); s1's request rotates to b and s1 moves there
  assert.equal((await route(mesh, { sessionId: 's1' })).model, 'b.m');
  assert.equal(mesh.state.model('a.m').status, 'standby');
  a!.handle(ok());
  mesh.state.releaseModel('a.m', 'a', 'test');
  assert.deepEqual(await routeMany(mesh, 3, { sessionId: 's1' }), ['b.m', 'b.m', 'b.m'], 's1 stays on b although a is back');
  assert.equal((await route(mesh, { sessionId: 's2' })).model, 'a.m', 'a new session takes the priority order');
  assert.equal((await route(mesh, { sessionId: 's1' })).model, 'b.m');
  mesh.state.holdModel('b.m', 'b', { reason: 'manual', until: null, cause: 'manual', pool: null, manual: true });
  assert.equal((await route(mesh, { sessionId: 's1' })).model, 'a.m', 'b in standby: s1 moves');
  mesh.state.releaseModel('b.m', 'b', 'manual');
  assert.equal((await route(mesh, { sessionId: 's1' })).model, 'a.m', 'and stays where it moved');
});

test('session-stickiness without a session id uses the priority order', (t) => {
  const { mesh } = buildMesh(t, { providers: { a: UNUSED_URL, b: UNUSED_URL }, pool: { strategy: 'session-stickiness', model_priority: ['b.m'] } });
  assert.deepEqual(orderIds(mesh), ['b.m', 'a.m']);
});

test('session-stickiness remembers at most maxSessions sessions, least recently used evicted', (t) => {
  const { mesh } = buildMesh(t, { providers: { a: UNUSED_URL, b: UNUSED_URL }, pool: { strategy: 'session-stickiness' } });
  const p = pool(mesh);
  const s = new SessionStickiness(p.config, 3);
  const b = p.members[1]!;
  for (const id of ['s1', 's2', 's3']) s.observe(b, { ok: true, status: 200, latencyMs: 1, headers: null }, ctxOf(mesh, 'p', id));
  s.order(p.members, ctxOf(mesh, 'p', 's1')); // s1 used again: s2 is now the oldest
  s.observe(b, { ok: true, status: 200, latencyMs: 1, headers: null }, ctxOf(mesh, 'p', 's4'));
  assert.equal(s.size, 3);
  assert.equal(s.sessionModel('s2'), undefined);
  assert.equal(s.sessionModel('s1'), 'b.m');
  assert.deepEqual(s.order(p.members, ctxOf(mesh, 'p', 's4')).map((m) => m.id), ['b.m', 'a.m']);
  s.observe(p.members[0]!, { ok: false, status: 503, latencyMs: 1, headers: null }, ctxOf(mesh, 'p', 's4'));
  assert.equal(s.sessionModel('s4'), 'b.m', 'a failure elsewhere does not move the session');
});
