import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BatchQueue } from '../../../src/observability/tracing/batches.ts';
import { ensure } from '../../../src/observability/tracing/bytes.ts';

/** Queues already-encoded spans through write(), the way SpanJsonWriter fills a batch. */
function push(q: BatchQueue, json: string, spans: number): boolean {
  return q.write(spans, (t) => {
    ensure(t, json.length * 3);
    t.len += t.buf.write(json, t.len, 'utf8');
  });
}

const PREFIX = '{"spans":[';
const parse = (body: Buffer): unknown[] => (JSON.parse(body.toString('utf8').replace(/\]\}\]\}\]\}$/, ']}')) as { spans: unknown[] }).spans;

describe('BatchQueue', () => {
  it('keeps a request\'s spans together, closes a batch at batch_size, and bounds the queue', () => {
    const q = new BatchQueue(PREFIX, 4, 10);
    assert.equal(push(q, '{"a":1},{"a":2},{"a":3}', 3), true);
    assert.equal(q.full, false);
    assert.equal(push(q, '{"b":1},{"b":2}', 2), true, 'does not fit the first batch: starts the second');
    assert.equal(q.full, true);
    assert.equal(push(q, '{"c":1},{"c":2},{"c":3},{"c":4},{"c":5},{"c":6}', 6), false, 'no room for all six: none queued');
    assert.equal(q.queued, 5);
    const first = q.shift();
    assert.deepEqual(parse(first?.body ?? Buffer.alloc(0)), [{ a: 1 }, { a: 2 }, { a: 3 }]);
    assert.equal(first?.spans, 3);
    assert.deepEqual(parse(q.shift()?.body ?? Buffer.alloc(0)), [{ b: 1 }, { b: 2 }]);
    assert.equal(q.shift(), null);
    assert.equal(q.queued, 0);
  });

  it('grows for big spans, keeps UTF-8 intact, and reuses a sent batch\'s Buffer without stale bytes', () => {
    const q = new BatchQueue(PREFIX, 100, 1000);
    const big = `{"t":"${'é漢😀'.repeat(40_000)}"}`;
    push(q, big, 1);
    push(q, '{"n":2}', 1);
    const sent = q.shift();
    assert.ok(sent);
    assert.deepEqual(parse(sent.body), [JSON.parse(big), { n: 2 }]);
    q.recycle(sent.batch);
    push(q, '{"n":3}', 1);
    const next = q.shift();
    assert.equal(next?.batch.buf, sent.batch.buf, 'the same Buffer, reused');
    assert.deepEqual(parse(next?.body ?? Buffer.alloc(0)), [{ n: 3 }]);
    assert.equal(q.clear(), 0);
  });
});

describe('BatchQueue buffers', () => {
  it('starts a new batch at the size the last one reached, and keeps two sent Buffers for reuse', () => {
    const q = new BatchQueue(PREFIX, 1000, 100_000);
    const span = `{"t":"${'x'.repeat(1000)}"}`;
    for (let i = 0; i < 200; i++) push(q, span, 1); // ~200 kB: grown past the first 64 kB
    const first = q.shift();
    assert.ok(first);
    push(q, span, 1);
    const second = q.shift();
    assert.ok(second);
    assert.ok(second.batch.buf.length >= first.body.length, 'the new batch started at the last one\'s size');
    q.recycle(first.batch);
    q.recycle(second.batch);
    push(q, span, 1);
    const third = q.shift();
    assert.equal(third?.batch.buf, second.batch.buf, 'the last recycled Buffer, reused');
    push(q, span, 1);
    assert.equal(q.shift()?.batch.buf, first.batch.buf, 'and the one before it');
  });
});
