// TraceExport on its own: events in, OTLP bodies out to a node:http receiver. A record that breaks while its
// spans are being written into the batch must leave nothing of itself there (the body stays valid JSON)
// and be counted as dropped, while the records around it go out whole.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { test } from 'node:test';
import type { AttemptRecord, RequestEvent } from '../../../src/mesh/events.ts';
import { ManualClock } from '../../../src/lib/clock.ts';
import { TRACING_OFF } from '../../../src/observability/tracing/config.ts';
import { TraceExport } from '../../../src/observability/tracing/export.ts';
import type { ExportTraceServiceRequest, OtlpSpan } from '../../../src/observability/tracing/otlp.ts';
import { attemptTraceparent, startTrace } from '../../../src/observability/tracing/traceparent.ts';
import { closeServer, listen } from '../../helpers/listen.ts';
import { failoverEvent } from './fixtures.ts';

function traced(overrides: Partial<RequestEvent>): RequestEvent {
  const trace = startTrace(undefined, 1);
  attemptTraceparent(trace, 0);
  attemptTraceparent(trace, 1);
  return { ...failoverEvent(overrides), trace };
}

test('records that throw, before or in the middle of a span, are taken back whole; their neighbours are exported', async (t) => {
  const bodies: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push(Buffer.concat(chunks).toString('utf8'));
      res.end('{}');
    });
  });
  const base = await listen(server);
  t.after(() => closeServer(server));
  const exp = new TraceExport({ redact: (text) => text, connectorOf: () => 'openai.llm.v1', clientOf: () => 'app1' });
  exp.configure({ ...TRACING_OFF, enabled: true, endpoint: `${base}/v1/traces` });
  t.after(() => exp.stop());
  const good = traced({ requestId: 'req-a' });
  // The server span is written first; the second attempt record is broken, so writing stops half-way.
  const broken = traced({ requestId: 'req-broken' });
  broken.attempts = [broken.attempts[0] as AttemptRecord, null as unknown as AttemptRecord];
  // This one breaks in the middle of its server span: most of its attributes are written, then reading the
  // request id (its last one) throws.
  const midSpan = traced({});
  Object.defineProperty(midSpan, 'requestId', { get: () => { throw new Error('broken record'); } });
  const after = traced({ requestId: 'req-c' });
  for (const e of [good, broken, midSpan, after]) exp.record(e);
  await exp.flush();
  assert.equal(bodies.length, 1);
  const doc = JSON.parse(bodies[0] as string) as ExportTraceServiceRequest;
  const spans: OtlpSpan[] = doc.resourceSpans[0]?.scopeSpans[0]?.spans ?? [];
  const ids = spans.filter((s) => s.kind === 2).map((s) => s.attributes.find((a) => a.key === 'modelmesh.request_id')?.value);
  assert.deepEqual(ids, [{ stringValue: 'req-a' }, { stringValue: 'req-c' }]);
  assert.equal(spans.length, 6, 'three spans each for the two good records, none of the broken ones');
  for (const span of spans) assert.match(span.traceId, /^[0-9a-f]{32}$/);
  assert.equal(new Set(spans.map((s) => s.traceId)).size, 2);
  assert.equal(exp.counters.dropped, 6, 'in spans, as every drop is counted: three each');
  assert.equal(exp.counters.exported, 6);
});

test('spans lost to a failing collector are told to the operator\'s log once a minute, without credentials', async (t) => {
  let status = 401;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(status, { 'content-type': 'application/json' }).end('{}'));
  });
  const base = await listen(server);
  t.after(() => closeServer(server));
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const warnings: { msg: string; fields: Record<string, unknown> }[] = [];
  const exp = new TraceExport({ redact: (text) => text, connectorOf: () => 'openai.llm.v1', clientOf: () => null, clock, warn: (msg, fields) => warnings.push({ msg, fields }) });
  const endpoint = base.replace('http://', 'http://user:pass@');
  exp.configure({ ...TRACING_OFF, enabled: true, endpoint: `${endpoint}/v1/traces?token=secret` });
  t.after(() => exp.stop());
  const endpointShown = `${base}/v1/traces`;

  exp.record(traced({ requestId: 'req-1' }));
  await exp.flush();
  assert.deepEqual(warnings, [{ msg: 'tracing spans dropped', fields: { endpoint: endpointShown, failed: 3, queue_full: 0, error: 'HTTP 401' } }]);

  exp.record(traced({ requestId: 'req-2' }));
  await exp.flush();
  assert.equal(warnings.length, 1, 'a second failure within the minute is counted, not logged');
  assert.equal(exp.counters.failed, 6);

  clock.advance(60_000);
  status = 503;
  exp.record(traced({ requestId: 'req-3' }));
  await exp.flush();
  assert.equal(warnings.length, 2);
  assert.deepEqual(warnings[1]?.fields, { endpoint: endpointShown, failed: 6, queue_full: 0, error: 'HTTP 503' }, 'both failures since the last line');
  assert.doesNotMatch(JSON.stringify(warnings), /pass|secret/);
});

test('spans a full queue turns away (a collector slower than the spans come) are told too', async (t) => {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const warnings: Record<string, unknown>[] = [];
  const exp = new TraceExport({ redact: (text) => text, connectorOf: () => 'openai.llm.v1', clientOf: () => null, clock, warn: (_msg, fields) => warnings.push(fields) });
  // A collector that never answers: the one POST in flight holds, and the queue of 3 spans fills up.
  const server = createServer(() => undefined);
  const base = await listen(server);
  t.after(() => closeServer(server));
  exp.configure({ ...TRACING_OFF, enabled: true, endpoint: `${base}/v1/traces`, queue_size: 3, batch_size: 3, timeout: 60_000 });
  t.after(() => { server.closeAllConnections(); return exp.stop(); });
  for (let i = 0; i < 3; i++) exp.record(traced({ requestId: `req-${i}` }));
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  assert.ok(exp.counters.dropped >= 3, `dropped ${exp.counters.dropped}`);
  assert.equal(warnings.length, 1);
  assert.deepEqual(warnings[0], { endpoint: `${base}/v1/traces`, failed: 0, queue_full: 3, error: null });
});
