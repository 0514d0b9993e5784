// The session-pin store seam (src/mesh/strategies/session-pins.ts): the local LRU per pool, what the strategy
// tells the store (the pin it ordered by), and pins kept by the composition root across a reload.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LocalSessionPins, type SessionPinStore } from '../../../src/mesh/strategies/session-pins.ts';
import { SessionStickiness } from '../../../src/mesh/strategies/session-stickiness.ts';
import { buildMesh, ctxOf, fail, ok, pool, route, routeMany, UNUSED_URL, upstreams } from '../mesh-helpers.ts';

test('LocalSessionPins: an LRU of at most maxSessions per pool; get counts as a use, peek does not', () => {
  const pins = new LocalSessionPins(2);
  pins.pin('p', 's1', 'a');
  pins.pin('p', 's2', 'b');
  pins.pin('q', 's1', 'c');
  assert.equal(pins.get('p', 's1'), 'a'); // s2 is now the oldest of p
  assert.equal(pins.peek('p', 's2'), 'b'); // peek does not change the order
  pins.pin('p', 's3', 'a');
  assert.equal(pins.size('p'), 2);
  assert.equal(pins.peek('p', 's2'), undefined, 'the least recently used was evicted');
  assert.equal(pins.peek('p', 's1'), 'a');
  assert.equal(pins.peek('q', 's1'), 'c', 'pools are separate');
  assert.equal(pins.size('none'), 0);
  assert.equal(pins.get('none', 's1'), undefined);
});

test('the strategy tells the store the pin it ordered by: kept, new, or moved', (t) => {
  const { mesh } = buildMesh(t, { providers: { a: UNUSED_URL, b: UNUSED_URL }, pool: { strategy: 'session-stickiness' } });
  const calls: string[] = [];
  const local = new LocalSessionPins();
  const store: SessionPinStore = {
    get: (p, s) => local.get(p, s),
    peek: (p, s) => local.peek(p, s),
    size: (p) => local.size(p),
    pin: (p, s, model, previous) => {
      calls.push(`${p}/${s}:${previous ?? '-'}→${model}`);
      local.pin(p, s, model);
    },
  };
  const p = pool(mesh);
  const [a, b] = [p.members[0]!, p.members[1]!];
  const s = new SessionStickiness(p.config, store);
  const success = { ok: true, status: 200, latencyMs: 1, headers: null } as const;
  const request = (session: string, answered: typeof a): string[] => {
    const ctx = ctxOf(mesh, 'p', session);
    const order = s.order(p.members, ctx).map((m) => m.id);
    s.observe(answered, success, ctx);
    return order;
  };
  assert.deepEqual(request('s1', b), ['a.m', 'b.m'], 'new session: priority order');
  assert.deepEqual(request('s1', b), ['b.m', 'a.m'], 'pinned to b');
  assert.deepEqual(request('s1', a), ['b.m', 'a.m']); // b failed: a answered
  s.observe(a, success, ctxOf(mesh, 'p', 's2')); // observed without an order of its own: compared with the pin now
  s.observe(b, { ok: false, status: 503, latencyMs: 1, headers: null }, ctxOf(mesh, 'p', 's1'));
  s.observe(b, success, ctxOf(mesh, 'p', null));
  assert.deepEqual(calls, ['p/s1:-→b.m', 'p/s1:b.m→b.m', 'p/s1:b.m→a.m', 'p/s2:-→a.m'], 'failures and session-less requests pin nothing');
  assert.equal(s.sessionModel('s1'), 'a.m');
  assert.equal(s.size, 2);
});

test('session pins are kept by the mesh, not the generation: a reload keeps every session on its model', async (t) => {
  const [a, b] = await upstreams(t, 2);
  const { mesh } = buildMesh(t, { providers: { a: a!.url, b: b!.url }, pool: { strategy: 'session-stickiness' } });
  a!.handle(fail(503)); // once, below retry_limit: a stays active, s1 is pinned to b by the failover
  assert.equal((await route(mesh, { sessionId: 's1' })).model, 'b.m');
  a!.handle(ok());
  assert.equal(mesh.state.model('a.m').status, 'active');
  assert.equal((await route(mesh, { sessionId: 'other' })).model, 'a.m', 'the priority order is a first');
  mesh.reload(mesh.config);
  assert.deepEqual(await routeMany(mesh, 2, { sessionId: 's1' }), ['b.m', 'b.m'], 's1 keeps b across the reload');
  assert.equal(mesh.sessionPins.peek('p', 's1'), 'b.m');
});
