import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  attemptTraceparent, formatTraceparent, newSpanId, newTraceId, parseTraceparent, ratioSampled, serverTraceparent,
  shouldSample, startTrace,
} from '../../../src/observability/tracing/traceparent.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';
const VALID = `00-${TRACE}-${PARENT}-01`;

describe('traceparent parsing', () => {
  it('parses the W3C example and formats it back', () => {
    const p = parseTraceparent(VALID);
    assert.deepEqual(p, { version: 0, traceId: TRACE, parentId: PARENT, flags: 1 });
    assert.equal(formatTraceparent(TRACE, PARENT, true), VALID);
    assert.equal(formatTraceparent(TRACE, PARENT, false), `00-${TRACE}-${PARENT}-00`);
  });

  it('tolerates surrounding whitespace and reads other flag bits with a mask', () => {
    assert.equal(parseTraceparent(`  ${VALID}  `)?.traceId, TRACE);
    assert.equal(parseTraceparent(`00-${TRACE}-${PARENT}-09`)?.flags, 9);
  });

  it('accepts a higher version with extra fields after a dash (forward compatible)', () => {
    assert.equal(parseTraceparent(`01-${TRACE}-${PARENT}-01-future`)?.version, 1);
    assert.equal(parseTraceparent(`01-${TRACE}-${PARENT}-01`)?.parentId, PARENT);
  });

  const invalid: [string, unknown][] = [
    ['absent', undefined],
    ['empty', ''],
    ['an array (repeated header)', [VALID, VALID]],
    ['joined duplicates', `${VALID}, ${VALID}`],
    ['version ff', `ff-${TRACE}-${PARENT}-01`],
    ['version 00 with a trailing field', `${VALID}-x`],
    ['higher version glued to more text', `01-${TRACE}-${PARENT}-01x`],
    ['uppercase hex', `00-${TRACE.toUpperCase()}-${PARENT}-01`],
    ['all-zero trace id', `00-${'0'.repeat(32)}-${PARENT}-01`],
    ['all-zero parent id', `00-${TRACE}-${'0'.repeat(16)}-01`],
    ['short trace id', `00-${TRACE.slice(1)}-${PARENT}-01`],
    ['wrong separators', `00_${TRACE}_${PARENT}_01`],
    ['non-hex flags', `00-${TRACE}-${PARENT}-0g`],
    ['non-hex version', `0x-${TRACE}-${PARENT}-01`],
  ];
  for (const [label, value] of invalid) {
    it(`rejects ${label}`, () => assert.equal(parseTraceparent(value as string | undefined), null));
  }
});

describe('ids', () => {
  it('are lowercase hex of the right length, non-zero and distinct', () => {
    const traces = new Set<string>();
    for (let i = 0; i < 600; i++) {
      const t = newTraceId();
      assert.match(t, /^[0-9a-f]{32}$/);
      assert.notEqual(t, '0'.repeat(32));
      traces.add(t);
      assert.match(newSpanId(), /^[0-9a-f]{16}$/);
    }
    assert.equal(traces.size, 600);
  });
});

describe('sampling', () => {
  it('follows the parent sampled flag whatever the ratio', () => {
    assert.equal(shouldSample(parseTraceparent(VALID), TRACE, 0), true);
    assert.equal(shouldSample(parseTraceparent(`00-${TRACE}-${PARENT}-00`), TRACE, 1), false);
  });

  it('uses the ratio on the trace id without a parent: 0 none, 1 all, 0.25 about a quarter', () => {
    assert.equal(ratioSampled('f'.repeat(32), 0.999), false);
    assert.equal(ratioSampled('0'.repeat(31) + '1', 0.001), true);
    let n = 0;
    for (let i = 0; i < 4000; i++) {
      const id = newTraceId();
      assert.equal(ratioSampled(id, 1), true);
      assert.equal(ratioSampled(id, 0), false);
      if (ratioSampled(id, 0.25)) n++;
    }
    assert.ok(n > 800 && n < 1200, `sampled ${n} of 4000 at 0.25`);
  });

  it('is the same decision for the same trace id', () => {
    const id = newTraceId();
    assert.equal(ratioSampled(id, 0.5), ratioSampled(id, 0.5));
  });
});

describe('startTrace', () => {
  it('continues a valid incoming traceparent and propagates per attempt', () => {
    const trace = startTrace(VALID, 0);
    assert.equal(trace.traceId, TRACE);
    assert.equal(trace.parentSpanId, PARENT);
    assert.equal(trace.sampled, true);
    assert.notEqual(trace.spanId, PARENT);
    const first = attemptTraceparent(trace, 0);
    const second = attemptTraceparent(trace, 1);
    assert.equal(attemptTraceparent(trace, 0), first, 'the same attempt keeps its span id');
    assert.equal(trace.attemptSpanIds.length, 2);
    assert.equal(parseTraceparent(first)?.parentId, trace.attemptSpanIds[0]);
    assert.equal(parseTraceparent(second)?.traceId, TRACE);
    assert.equal(serverTraceparent(trace), `00-${TRACE}-${trace.spanId}-01`);
  });

  it('starts a new trace on an invalid header and still propagates an unsampled one with flag 00', () => {
    const trace = startTrace(`00-${'0'.repeat(32)}-${PARENT}-01`, 0);
    assert.notEqual(trace.traceId, '0'.repeat(32));
    assert.equal(trace.parentSpanId, null);
    assert.equal(trace.sampled, false);
    assert.match(attemptTraceparent(trace, 0), /-00$/);
  });
});
