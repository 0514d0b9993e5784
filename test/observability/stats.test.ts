// Statistics: fixed-size histograms (bounded memory, p95 within bucket resolution) and the counting rules
// per model, provider and pool, from synthetic mesh events.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../src/lib/clock.ts';
import type { AttemptRecord, RequestEvent } from '../../src/mesh/events.ts';
import { ModelMesh } from '../../src/mesh/mesh.ts';
import { LATENCY_BUCKETS, LatencyHistogram, PROM_BOUNDS, PromHistogram } from '../../src/observability/histogram.ts';
import { STAT_NAMES, Stats } from '../../src/observability/stats.ts';

test('1e5 recorded latencies keep a fixed-size structure', () => {
  const h = new LatencyHistogram();
  const p = new PromHistogram();
  for (let i = 0; i < 100_000; i++) {
    const ms = (i * 7919) % 60_000;
    h.record(ms);
    p.observe(ms / 1000);
  }
  assert.equal(h.counts.length, LATENCY_BUCKETS);
  assert.equal(p.counts.length, PROM_BOUNDS.length + 1);
  assert.equal(h.count, 100_000);
  assert.equal(p.count, 100_000);
  assert.equal(Object.keys(h).length, 5, 'no field grows per sample');
});

test('p95 is correct within bucket resolution (10%) for several distributions', () => {
  const cases: [string, () => number][] = [
    ['uniform 0-1000', () => Math.random() * 1000],
    ['exponential mean 200', () => -200 * Math.log(1 - Math.random())],
    ['bimodal 20/2000', () => (Math.random() < 0.9 ? 20 + Math.random() * 5 : 2000 + Math.random() * 100)],
  ];
  for (const [name, draw] of cases) {
    const h = new LatencyHistogram();
    const samples: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      const v = draw();
      samples.push(v);
      h.record(v);
    }
    samples.sort((a, b) => a - b);
    const exact = samples[Math.ceil(0.95 * samples.length) - 1] as number;
    const got = h.quantile(0.95);
    assert.ok(Math.abs(got - exact) <= exact * 0.1 + 1, `${name}: p95 ${got} vs exact ${exact}`);
    const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
    assert.ok(Math.abs(h.mean - mean) < 1e-6 * mean + 1e-9, `${name}: mean`);
  }
});

test('p95 of identical samples is exact; empty is 0; sub-ms and huge values are kept in range', () => {
  const h = new LatencyHistogram();
  assert.equal(h.quantile(0.95), 0);
  for (let i = 0; i < 10; i++) h.record(123.4);
  assert.equal(h.quantile(0.95), 123.4);
  h.record(0.2);
  h.record(1e9);
  h.record(Number.NaN);
  h.record(-5);
  assert.equal(h.count, 12);
  assert.equal(h.quantile(1), 1e9);
  assert.ok(h.quantile(0.01) <= 1, 'sub-millisecond samples share the first bucket (1 ms resolution)');
});

test('Prometheus buckets are cumulative, monotonic and end with the count', () => {
  const p = new PromHistogram();
  for (const s of [0.001, 0.005, 0.0051, 0.3, 0.3, 7, 400]) p.observe(s);
  const c = p.cumulative();
  assert.equal(c.length, PROM_BOUNDS.length + 1);
  for (let i = 1; i < c.length; i++) assert.ok((c[i] as number) >= (c[i - 1] as number));
  assert.equal(c[0], 2, 'le is inclusive: 0.005 falls in le="0.005"');
  assert.equal(c.at(-1), p.count);
  assert.equal(c.at(-2), 6, '400 s only in +Inf');
});

function mesh(clock: ManualClock): ModelMesh {
  return ModelMesh.fromConfig({
    providers: { p1: { connector: 'modelmesh.simulated.v1' }, p2: { connector: 'modelmesh.simulated.v1' } },
    models: {
      'p1.a': { provider: 'p1', capabilities: ['chat-completion'], pricing: { input_per_1m: 1, output_per_1m: 2 } },
      'p2.b': { provider: 'p2', capabilities: ['chat-completion'] },
    },
    pools: { chat: { models: ['p1.a', 'p2.b'] } },
  }, { clock, env: {} });
}

function attempt(model: string, provider: string, outcome: AttemptRecord['outcome'], latency: number): AttemptRecord {
  return { model, provider, status: outcome === 'success' ? 200 : 503, outcome, reason: outcome === 'success' ? null : '503 overloaded', latency_ms: latency };
}

function requestEvent(clock: ManualClock, over: Partial<RequestEvent>): RequestEvent {
  return {
    type: 'request', at: clock.now(), requestId: 'r1', endpoint: 'chat', requested: 'chat', pool: 'chat', candidates: ['p1.a', 'p2.b'],
    excluded: [], attempts: [], model: null, provider: null, outcome: 'success', status: 200, error: null, stream: false,
    latency_ms: 10, ttfb_ms: 10, tokens_in: 0, tokens_out: 0, cost: 0, client: null, ...over,
  };
}

test('requests: pools count client requests; models and providers count attempts; tokens and cost go to who answered', () => {
  const clock = new ManualClock();
  const m = mesh(clock);
  const stats = new Stats(m);
  stats.record(requestEvent(clock, {
    attempts: [attempt('p1.a', 'p1', 'failure', 30), attempt('p2.b', 'p2', 'success', 70)],
    model: 'p2.b', provider: 'p2', latency_ms: 100, tokens_in: 10, tokens_out: 5, cost: 0.5,
  }));
  stats.record(requestEvent(clock, { attempts: [attempt('p1.a', 'p1', 'failure', 5)], outcome: 'failure', status: 502, latency_ms: 5 }));
  stats.record(requestEvent(clock, { attempts: [attempt('p1.a', 'p1', 'cancelled', 1)], outcome: 'cancelled', status: 499, latency_ms: 1 }));
  const snap = stats.snapshot();
  assert.deepEqual(Object.keys(snap.pools['chat'] ?? {}), [...STAT_NAMES]);
  assert.equal(snap.pools['chat']?.requests_total, 3);
  assert.equal(snap.pools['chat']?.requests_success, 1);
  assert.equal(snap.pools['chat']?.requests_failed, 1);
  assert.equal(snap.pools['chat']?.tokens_in, 10);
  assert.equal(snap.pools['chat']?.cost_total, 0.5);
  assert.equal(snap.models['p1.a']?.requests_total, 3);
  assert.equal(snap.models['p1.a']?.requests_failed, 2);
  assert.equal(snap.models['p1.a']?.tokens_in, 0);
  assert.equal(snap.models['p2.b']?.requests_success, 1);
  assert.equal(snap.models['p2.b']?.tokens_out, 5);
  assert.equal(snap.models['p2.b']?.latency_avg, 70);
  assert.equal(snap.providers['p2']?.cost_total, 0.5);
  assert.equal(snap.providers['p1']?.requests_failed, 2);
  // Prometheus series: by pool and the model that answered ('' when none did).
  assert.deepEqual([...stats.routes.values()].map((r) => [r.pool, r.model, r.outcomes]), [
    ['chat', 'p2.b', { success: 1, failure: 0, cancelled: 0 }],
    ['chat', '', { success: 0, failure: 1, cancelled: 1 }],
  ]);
});

test('downtime counts standby time including the current standby; standby, rotation and quota events are counted', () => {
  const clock = new ManualClock();
  const m = mesh(clock);
  const stats = new Stats(m);
  m.events.on((e) => stats.record(e));
  m.state.holdModel('p1.a', 'p1', { reason: 'x', until: clock.now() + 60_000, cause: 'failure', pool: 'chat', manual: false });
  m.state.holdModel('p1.a', 'p1', { reason: 'again', until: clock.now() + 60_000, cause: 'failure', pool: 'chat', manual: false }); // already down: not a second event
  clock.advance(10_000);
  assert.equal(stats.snapshot().models['p1.a']?.downtime_total, 10_000);
  assert.equal(stats.snapshot().models['p1.a']?.standby_events, 1);
  assert.equal(stats.snapshot().providers['p1']?.standby_events, 1);
  assert.equal(stats.snapshot().pools['chat']?.standby_events, 1);
  assert.equal(stats.snapshot().pools['chat']?.downtime_total ?? 0, 0, 'p2.b still serves the pool');
  m.state.holdModel('p2.b', 'p2', { reason: 'y', until: null, cause: 'failure', pool: 'chat', manual: false });
  clock.advance(5_000);
  assert.equal(stats.snapshot().pools['chat']?.downtime_total, 5_000, 'every member down: the pool is down');
  m.state.releaseModel('p2.b', 'p2', 'manual');
  clock.advance(50_000); // p1.a's cooldown ended at +60s; snapshot() ends it lazily through the state store
  const snap = stats.snapshot();
  assert.equal(snap.models['p1.a']?.downtime_total, 60_000);
  assert.equal(snap.models['p2.b']?.downtime_total, 5_000);
  assert.equal(snap.pools['chat']?.downtime_total, 5_000);

  m.events.emit({ type: 'rotation', at: clock.now(), requestId: 'r', pool: 'chat', from: 'p1.a', to: 'p2.b', reason: '503' });
  m.events.emit({ type: 'quota_reset', at: clock.now(), model: 'p1.a', window: 'daily' });
  const after = stats.snapshot();
  assert.equal(after.pools['chat']?.rotation_events, 1);
  assert.equal(after.models['p1.a']?.rotation_events, 1);
  assert.equal(after.providers['p1']?.rotation_events, 1);
  assert.equal(after.models['p1.a']?.quota_resets, 1);
  assert.equal(after.providers['p1']?.quota_resets, 1);
});

test('provider standby is counted for the provider and takes its pools down when it serves all members', () => {
  const clock = new ManualClock();
  const m = ModelMesh.fromConfig({
    providers: { p1: { connector: 'modelmesh.simulated.v1' } },
    models: { 'p1.a': { provider: 'p1', capabilities: ['chat-completion'] } },
    pools: { solo: { models: ['p1.a'] } },
  }, { clock, env: {} });
  const stats = new Stats(m);
  m.events.on((e) => stats.record(e));
  m.state.holdProvider('p1', { reason: 'auth failure', until: null, cause: 'auth', pool: null, manual: false });
  clock.advance(2_000);
  m.state.releaseProvider('p1', 'manual');
  const snap = stats.snapshot();
  assert.equal(snap.providers['p1']?.standby_events, 1);
  assert.equal(snap.providers['p1']?.downtime_total, 2_000);
  assert.equal(snap.pools['solo']?.downtime_total, 2_000);
});

test('a standby restored from storage counts downtime from the seed', () => {
  const clock = new ManualClock();
  const m = mesh(clock);
  m.state.holdModel('p1.a', 'p1', { reason: 'restored', until: null, cause: 'failure', pool: null, manual: false }); // before statistics listen, like a load
  const stats = new Stats(m);
  stats.seed();
  clock.advance(3_000);
  assert.equal(stats.snapshot().models['p1.a']?.downtime_total, 3_000);
  assert.equal(stats.snapshot().models['p1.a']?.standby_events, 0, 'not a new standby of this process');
});

test('memory stays bounded by configured ids whatever the traffic', () => {
  const clock = new ManualClock();
  const m = mesh(clock);
  const stats = new Stats(m);
  for (let i = 0; i < 100_000; i++) {
    stats.record(requestEvent(clock, {
      requestId: `r${i}`, requested: `client-name-${i}`, attempts: [attempt('p1.a', 'p1', 'success', i % 500)], model: 'p1.a', provider: 'p1',
      latency_ms: i % 500,
    }));
  }
  assert.equal(stats.models.size, 1);
  assert.equal(stats.pools.size, 1);
  assert.equal(stats.routes.size, 1);
  const p95 = stats.snapshot().models['p1.a']?.latency_p95 ?? 0;
  assert.ok(p95 >= 475 * 0.9 && p95 <= 475 * 1.1, String(p95));
});
