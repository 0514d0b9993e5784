import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildRequestSpans, genAiProviderName, SPAN_KIND_CLIENT, SPAN_KIND_SERVER, STATUS_ERROR, STATUS_UNSET } from '../../../src/observability/tracing/spans.ts';
import { encodeTraces, unixNano } from '../../../src/observability/tracing/otlp.ts';
import { attemptTraceparent, startTrace } from '../../../src/observability/tracing/traceparent.ts';
import { AT, failoverEvent } from './fixtures.ts';

const HEADER = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('buildRequestSpans', () => {
  it('makes a SERVER span and one CLIENT span per attempt, the first with its failover reason', () => {
    const trace = startTrace(HEADER, 1);
    attemptTraceparent(trace, 0);
    attemptTraceparent(trace, 1);
    const [server, first, second, ...rest] = buildRequestSpans(failoverEvent(), trace, { client: 'app1' });
    assert.ok(server && first && second);
    assert.equal(rest.length, 0);

    assert.equal(server.kind, SPAN_KIND_SERVER);
    assert.equal(server.traceId, trace.traceId);
    assert.equal(server.parentSpanId, '00f067aa0ba902b7');
    assert.equal(server.name, 'chat text-generation');
    assert.equal(server.startMs, AT - 120);
    assert.equal(server.endMs, AT);
    assert.deepEqual(server.status, { code: STATUS_UNSET }, 'success leaves the status unset (HTTP semconv), never Ok');
    assert.deepEqual(server.attributes, {
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'text-generation',
      'gen_ai.response.model': 'anthropic.claude',
      'gen_ai.usage.input_tokens': { int: 11 },
      'gen_ai.usage.output_tokens': { int: 7 },
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.system': 'anthropic',
      'modelmesh.provider': 'anthropic.claude.v1',
      'modelmesh.cost_usd': { double: 0.00042 },
      'modelmesh.pool': 'text-generation',
      'modelmesh.client': 'app1',
      'modelmesh.request_id': 'req-1',
      'modelmesh.endpoint': 'chat',
      'modelmesh.outcome': 'success',
      'modelmesh.stream': false,
      'modelmesh.attempts': { int: 2 },
      'modelmesh.failovers': { int: 1 },
      'http.response.status_code': { int: 200 },
    });

    for (const span of [first, second]) {
      assert.equal(span.kind, SPAN_KIND_CLIENT);
      assert.equal(span.parentSpanId, server.spanId);
      assert.equal(span.traceId, trace.traceId);
    }
    assert.equal(first.spanId, trace.attemptSpanIds[0], 'the id the upstream saw in its traceparent');
    assert.equal(second.spanId, trace.attemptSpanIds[1]);
    assert.equal(first.attributes['modelmesh.failover.reason'], '503 overloaded');
    assert.equal(first.attributes['error.type'], '503');
    assert.deepEqual(first.attributes['http.response.status_code'], { int: 503 });
    assert.equal(first.attributes['gen_ai.provider.name'], 'openai');
    assert.equal(first.attributes['gen_ai.response.model'], undefined);
    assert.deepEqual(first.status, { code: STATUS_ERROR, message: '503 overloaded' });
    assert.equal(second.attributes['modelmesh.failover.reason'], undefined);
    assert.equal(second.attributes['gen_ai.response.model'], 'anthropic.claude');
    assert.deepEqual(second.attributes['gen_ai.usage.output_tokens'], { int: 7 });
    assert.equal(second.attributes['modelmesh.pool'], undefined, 'the pool is on the parent (server) span only');
    // Attempts laid end to end from the request start.
    assert.deepEqual([first.startMs, first.endMs, second.startMs, second.endMs], [AT - 120, AT - 80, AT - 80, AT - 20]);
  });

  it('marks a failed request ERROR with error.type and no response model; cancelled stays UNSET', () => {
    const failed = failoverEvent({
      outcome: 'failure', status: 502, error: 'all members failed', model: null, provider: null,
      attempts: [{ model: 'openai.gpt-4o', provider: 'openai.llm.v1', status: 0, outcome: 'failure', reason: 'connection refused', latency_ms: 3 }],
    });
    const [server, attempt] = buildRequestSpans(failed, startTrace(undefined, 1));
    assert.deepEqual(server?.status, { code: STATUS_ERROR, message: 'all members failed' });
    assert.equal(server?.attributes['error.type'], '502');
    assert.equal(server?.attributes['gen_ai.response.model'], undefined);
    assert.equal(server?.parentSpanId, null);
    assert.match(attempt?.spanId ?? '', /^[0-9a-f]{16}$/);
    assert.equal(attempt?.attributes['http.response.status_code'], undefined, 'no HTTP status on a transport failure');
    assert.equal(attempt?.attributes['error.type'], 'connection refused');
    const [cancelled] = buildRequestSpans(failoverEvent({ outcome: 'cancelled', status: 499 }), startTrace(undefined, 1));
    assert.deepEqual(cancelled?.status, { code: STATUS_UNSET });
  });

  it('leaves a request the upstreams refused with a 4xx unset on the SERVER span, its attempt spans ERROR (HTTP semconv)', () => {
    const refused = failoverEvent({
      outcome: 'failure', status: 400, error: 'context length exceeded', model: null, provider: null,
      attempts: [{ model: 'openai.gpt-4o', provider: 'openai.llm.v1', status: 400, outcome: 'failure', reason: '400 context length exceeded', latency_ms: 5 }],
    });
    const [server, attempt] = buildRequestSpans(refused, startTrace(undefined, 1));
    assert.deepEqual(server?.status, { code: STATUS_UNSET }, "a 4xx is the caller's error, not the proxy's");
    assert.equal(server?.attributes['error.type'], undefined, 'error.type only with an Error status');
    assert.equal(server?.attributes['modelmesh.outcome'], 'failure');
    assert.deepEqual(server?.attributes['http.response.status_code'], { int: 400 });
    assert.deepEqual(attempt?.status, { code: STATUS_ERROR, message: '400 context length exceeded' });
    assert.equal(attempt?.attributes['error.type'], '400');
    const [limited] = buildRequestSpans(failoverEvent({ outcome: 'failure', status: 429, error: 'rate limited' }), startTrace(undefined, 1));
    assert.deepEqual(limited?.status, { code: STATUS_UNSET });
    const [unavailable] = buildRequestSpans(failoverEvent({ outcome: 'failure', status: 503, error: 'no model available' }), startTrace(undefined, 1));
    assert.deepEqual(unavailable?.status, { code: STATUS_ERROR, message: 'no model available' });
    assert.equal(unavailable?.attributes['error.type'], '503');
  });

  it('a stream cut mid-way: the status the client got (200) with error.type interrupted, and no failover for a single attempt', () => {
    const event = failoverEvent({
      attempts: [{ model: 'openai.gpt-4o', provider: 'openai.llm.v1', status: 200, outcome: 'failure', reason: 'upstream stream failed: reset', latency_ms: 40 }],
      model: 'openai.gpt-4o', provider: 'openai.llm.v1', outcome: 'failure', status: 502, error: 'upstream stream failed: reset', stream: true,
    });
    const [server, attempt] = buildRequestSpans(event, startTrace(undefined, 1));
    assert.deepEqual(server?.attributes['http.response.status_code'], { int: 200 });
    assert.equal(server?.attributes['error.type'], 'interrupted');
    assert.equal(server?.status.code, STATUS_ERROR, 'ours to answer for');
    assert.deepEqual(server?.attributes['modelmesh.failovers'], { int: 0 });
    assert.deepEqual(attempt?.attributes['http.response.status_code'], { int: 200 });
    assert.equal(attempt?.attributes['error.type'], 'interrupted', 'not "200"');
  });

  it('counts failovers as moves to another model: a retry of the same model is not one', () => {
    const retry = { model: 'openai.gpt-4o', provider: 'openai.llm.v1', status: 503, outcome: 'failure' as const, reason: '503 overloaded', latency_ms: 40 };
    const won = { ...retry, status: 200, outcome: 'success' as const, reason: null };
    const [same] = buildRequestSpans(failoverEvent({ attempts: [retry, won], model: 'openai.gpt-4o' }), startTrace(undefined, 1));
    assert.deepEqual(same?.attributes['modelmesh.failovers'], { int: 0 });
    const [moved] = buildRequestSpans(failoverEvent({ attempts: [retry, retry, { ...won, model: 'anthropic.claude' }] }), startTrace(undefined, 1));
    assert.deepEqual(moved?.attributes['modelmesh.failovers'], { int: 1 });
  });

  it('keeps prompt and completion text out unless captureContent is set', () => {
    const event = failoverEvent({
      request_body: { model: 'text-generation', messages: [{ role: 'user', content: 'secret plan' }] },
      response_body: { choices: [{ message: { role: 'assistant', content: 'the answer' } }] },
    });
    const plain = JSON.stringify(buildRequestSpans(event, startTrace(undefined, 1)));
    assert.doesNotMatch(plain, /secret plan|the answer/);
    const [server] = buildRequestSpans(event, startTrace(undefined, 1), { captureContent: true });
    assert.match(String(server?.attributes['gen_ai.input.messages']), /secret plan/);
    assert.match(String(server?.attributes['gen_ai.output.messages']), /the answer/);
  });

  it('gen_ai.operation.name takes the registry values: chat for every chat-like protocol, text_completion for legacy completions', () => {
    const op = (endpoint: string) => buildRequestSpans(failoverEvent({ endpoint }), startTrace(undefined, 1))[0]?.attributes['gen_ai.operation.name'];
    assert.deepEqual(['chat', 'responses', 'messages', 'completions', 'embeddings'].map(op), ['chat', 'chat', 'chat', 'text_completion', 'embeddings']);
  });

  it('names providers by the semconv registry, falling back to the connector prefix', () => {
    assert.equal(genAiProviderName('google.gemini.v1'), 'gcp.gemini');
    assert.equal(genAiProviderName('ollama.local.v1'), 'ollama');
    const [server] = buildRequestSpans(failoverEvent({ provider: 'my-openai' }), startTrace(undefined, 1), {
      connectorOf: (id) => (id === 'my-openai' ? 'openai.llm.v1' : undefined),
    });
    assert.equal(server?.attributes['gen_ai.system'], 'openai');
  });
});

describe('OTLP JSON encoding', () => {
  it('encodes ids as hex, kinds and status as integers, times and ints as strings', () => {
    const trace = startTrace(HEADER, 1);
    const body = JSON.parse(encodeTraces(buildRequestSpans(failoverEvent(), trace), { serviceName: 'mesh-test' })) as {
      resourceSpans: { resource: { attributes: unknown[] }; scopeSpans: { scope: { name: string }; spans: Record<string, unknown>[] }[] }[];
    };
    const rs = body.resourceSpans[0];
    assert.deepEqual(rs?.resource.attributes, [{ key: 'service.name', value: { stringValue: 'mesh-test' } }]);
    assert.equal(rs?.scopeSpans[0]?.scope.name, 'modelmesh');
    const [server, first] = rs?.scopeSpans[0]?.spans ?? [];
    assert.equal(server?.['traceId'], '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.equal(server?.['parentSpanId'], '00f067aa0ba902b7');
    assert.equal(server?.['kind'], 2);
    assert.equal(first?.['kind'], 3);
    assert.equal(server?.['startTimeUnixNano'], `${AT - 120}000000`);
    assert.equal(server?.['endTimeUnixNano'], `${AT}000000`);
    assert.equal(server?.['status'], undefined, 'an unset status is left out');
    assert.equal('status' in (server ?? {}), false);
    assert.deepEqual(first?.['status'], { code: 2, message: '503 overloaded' });
    const attrs = server?.['attributes'] as { key: string; value: Record<string, unknown> }[];
    const get = (key: string): Record<string, unknown> | undefined => attrs.find((a) => a.key === key)?.value;
    assert.deepEqual(get('gen_ai.usage.input_tokens'), { intValue: '11' });
    assert.deepEqual(get('modelmesh.cost_usd'), { doubleValue: 0.00042 });
    assert.deepEqual(get('modelmesh.stream'), { boolValue: false });
    assert.deepEqual(get('gen_ai.request.model'), { stringValue: 'text-generation' });
  });

  it('converts fractional ms to exact ns strings', () => {
    assert.equal(unixNano(1_767_268_800_000.5), '1767268800000500000');
    assert.equal(unixNano(1.001), '1001000');
    assert.equal(unixNano(Number.NaN), '0');
  });
});
