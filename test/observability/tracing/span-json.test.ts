// The hand-made OTLP JSON writer against the reference: JSON.stringify of the OTLP objects (otlp.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeTraces, exportRequest } from '../../../src/observability/tracing/otlp.ts';
import { resourcePrefix, REQUEST_SUFFIX, SpanJsonWriter, unixNano } from '../../../src/observability/tracing/span-json.ts';
import { buildRequestSpans, writeRequestSpans, type Span } from '../../../src/observability/tracing/spans.ts';
import { attemptTraceparent, startTrace } from '../../../src/observability/tracing/traceparent.ts';
import { failoverEvent } from './fixtures.ts';

const reference = (spans: Span[], serviceName = 'mesh-test'): unknown => JSON.parse(JSON.stringify(exportRequest(spans, { serviceName })));

describe('SpanJsonWriter', () => {
  it('writes what JSON.stringify writes, escapes included', () => {
    const awkward = 'quote " backslash \\ newline \n tab \t nul \u0000 é 漢字 emoji 😀 lone \ud800 end';
    const event = failoverEvent({
      requested: awkward, pool: 'p"ool', requestId: 'id\u2028x',
      attempts: [{ model: 'm\\1', provider: 'prov', status: 503, outcome: 'failure', reason: awkward, latency_ms: 1.2345 }],
      outcome: 'failure', status: 502, error: awkward, model: null, provider: null,
    });
    const trace = startTrace(undefined, 1);
    attemptTraceparent(trace, 0);
    const spans = buildRequestSpans(event, trace, { client: 'app "1"' });
    const text = encodeTraces(spans, { serviceName: 'mesh "test"' });
    assert.deepEqual(JSON.parse(text), reference(spans, 'mesh "test"'));
    assert.doesNotThrow(() => JSON.parse(text));
  });

  it('writes the same text straight from the event as through Span objects, request after request', () => {
    const w = new SpanJsonWriter();
    // Enough distinct request ids and token counts to pass the per-key cache bound.
    for (let i = 0; i < 300; i++) {
      const event = failoverEvent({ requestId: `req-${i}`, tokens_in: i, tokens_out: i % 7, cost: i / 1000, pool: i % 2 === 0 ? 'a' : 'b' });
      const trace = startTrace(undefined, 1);
      attemptTraceparent(trace, 0);
      attemptTraceparent(trace, 1); // both attempts' ids fixed: a missing one is made afresh each time
      const n = writeRequestSpans(event, trace, { client: i % 3 === 0 ? null : `app${i % 5}` }, w);
      assert.equal(w.count, 3);
      assert.equal(n, 3);
      const direct = JSON.parse(`${resourcePrefix({ serviceName: 'mesh-test' })}${w.take()}${REQUEST_SUFFIX}`) as unknown;
      assert.equal(w.count, 0);
      const viaObjects = buildRequestSpans(event, trace, { client: i % 3 === 0 ? null : `app${i % 5}` });
      assert.deepEqual(direct, reference(viaObjects));
    }
  });

  it('never sends NaN or Infinity, which JSON cannot carry', () => {
    const spans = buildRequestSpans(failoverEvent({ cost: Number.NaN, tokens_in: Number.POSITIVE_INFINITY }), startTrace(undefined, 1));
    const body = encodeTraces(spans, { serviceName: 'm' });
    const attrs = (JSON.parse(body) as { resourceSpans: { scopeSpans: { spans: { attributes: { key: string; value: Record<string, unknown> }[] }[] }[] }[] })
      .resourceSpans[0]?.scopeSpans[0]?.spans[0]?.attributes ?? [];
    assert.deepEqual(attrs.find((a) => a.key === 'modelmesh.cost_usd')?.value, { doubleValue: 0 });
    assert.deepEqual(attrs.find((a) => a.key === 'gen_ai.usage.input_tokens')?.value, { intValue: '0' });
  });

  it('converts timestamps exactly across second boundaries', () => {
    assert.equal(unixNano(1_767_268_799_999.9996), '1767268800000000000');
    assert.equal(unixNano(1_767_268_800_000.001), '1767268800000001000');
    assert.equal(unixNano(1_767_268_801_234.5), '1767268801234500000');
    assert.equal(unixNano(999.5), '999500000');
    assert.equal(unixNano(-1), '0');
  });
});
