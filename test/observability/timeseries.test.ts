import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../src/lib/clock.ts';
import type { RequestEvent } from '../../src/mesh/events.ts';
import { DecisionLog, DIRECT_POOL, PoolTimeseries } from '../../src/observability/timeseries.ts';
import { failoverEvent } from './tracing/fixtures.ts';

const START = Date.UTC(2026, 0, 1, 12, 0, 0);

function event(clock: ManualClock, overrides: Partial<RequestEvent> = {}): RequestEvent {
  return failoverEvent({ at: clock.now(), ...overrides });
}

describe('PoolTimeseries', () => {
  it('counts requests and errors per bucket and rolls over with the clock', () => {
    const clock = new ManualClock(START);
    const ts = new PoolTimeseries({ clock, bucketMs: 60_000, buckets: 3 });
    ts.record(event(clock));
    ts.record(event(clock, { outcome: 'failure', status: 502 }));
    ts.record(event(clock, { outcome: 'cancelled' }));
    let s = ts.series('text-generation');
    assert.equal(s.length, 3);
    assert.deepEqual(s.map((b) => [b.at, b.requests, b.errors]), [
      [START - 120_000, 0, 0], [START - 60_000, 0, 0], [START, 3, 1],
    ]);

    clock.advance(60_000);
    ts.record(event(clock));
    s = ts.series('text-generation');
    assert.deepEqual(s.map((b) => b.requests), [0, 3, 1]);

    clock.advance(120_000); // the first bucket leaves the window, its slot is reused
    ts.record(event(clock, { outcome: 'failure' }));
    s = ts.series('text-generation');
    assert.deepEqual(s.map((b) => [b.at, b.requests, b.errors]), [
      [START + 60_000, 1, 0], [START + 120_000, 0, 0], [START + 180_000, 1, 1],
    ]);

    clock.advance(10 * 60_000);
    assert.deepEqual(ts.series('text-generation').map((b) => b.requests), [0, 0, 0], 'an idle pool reads zeros');
  });

  it('gives p95 per bucket from the latency sketch (within 10%)', () => {
    const clock = new ManualClock(START);
    const ts = new PoolTimeseries({ clock, bucketMs: 10_000, buckets: 6 });
    for (let i = 1; i <= 100; i++) ts.record(event(clock, { latency_ms: i * 10 }));
    const last = ts.series('text-generation').at(-1);
    assert.equal(last?.requests, 100);
    assert.ok(last !== undefined && last.p95_ms >= 950 && last.p95_ms <= 950 * 1.1, `p95 ${last?.p95_ms}`);
    clock.advance(10_000);
    ts.record(event(clock, { latency_ms: 42 }));
    assert.equal(ts.series('text-generation').at(-1)?.p95_ms, 42, 'a new bucket starts a new sketch');
    assert.equal(ts.series('text-generation')[0]?.p95_ms, 0);
  });

  it('ignores records older than the window and groups direct model requests', () => {
    const clock = new ManualClock(START);
    const ts = new PoolTimeseries({ clock, bucketMs: 60_000, buckets: 2 });
    ts.record(event(clock, { at: START - 5 * 60_000 }));
    ts.record(event(clock, { pool: null }));
    assert.deepEqual(ts.pools(), [DIRECT_POOL]);
    assert.equal(ts.all()[DIRECT_POOL]?.at(-1)?.requests, 1);
    assert.deepEqual(ts.series('unknown').map((b) => b.requests), [0, 0]);
  });

  it('keeps at most maxPools rows', () => {
    const clock = new ManualClock(START);
    const ts = new PoolTimeseries({ clock, maxPools: 2 });
    for (const pool of ['a', 'b', 'c']) ts.record(event(clock, { pool }));
    assert.deepEqual(ts.pools(), ['a', 'b']);
  });
});

describe('DecisionLog', () => {
  it('keeps the last N decisions newest first, with failovers counted', () => {
    const log = new DecisionLog(3);
    for (let i = 1; i <= 5; i++) log.record(failoverEvent({ requestId: `r${i}`, at: START + i }), i === 5 ? 'app1' : null);
    const list = log.list();
    assert.equal(log.size, 3);
    assert.deepEqual(list.map((d) => d.request_id), ['r5', 'r4', 'r3']);
    const [newest] = list;
    assert.equal(newest?.client, 'app1');
    assert.equal(newest?.failovers, 1);
    assert.equal(newest?.attempts.length, 2);
    assert.equal(newest?.at, new Date(START + 5).toISOString());
    assert.equal(newest?.model, 'anthropic.claude');
    assert.equal(newest?.requested, 'text-generation');
  });

  it('a single failed attempt, or a retry of the same model, is no failover (nothing to highlight)', () => {
    const log = new DecisionLog(3);
    const failed = { model: 'openai.gpt-4o', provider: 'openai.llm.v1', status: 400, outcome: 'failure' as const, reason: '400 bad', latency_ms: 5 };
    log.record(failoverEvent({ requestId: 'one', attempts: [failed], outcome: 'failure', status: 400, model: null, provider: null }));
    log.record(failoverEvent({ requestId: 'retry', attempts: [failed, { ...failed, status: 200, outcome: 'success', reason: null }] }));
    assert.deepEqual(log.list().map((d) => [d.request_id, d.failovers]), [['retry', 0], ['one', 0]]);
  });

  it('reads empty before the first decision', () => {
    assert.deepEqual(new DecisionLog().list(), []);
  });
});
