// Tracing wired end to end: a client request with a traceparent through the real ProxyServer, a scripted
// upstream that fails the first attempt, and a node:http OTLP receiver. The spans must continue the client's
// trace, describe the request, and name the same attempt spans the upstreams were sent as their parents.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { test, type TestContext } from 'node:test';
import { buildConfig } from '../../../src/config/schema/index.ts';
import type { OtlpKeyValue, OtlpSpan, ExportTraceServiceRequest } from '../../../src/observability/tracing/otlp.ts';
import { closedPort, json, startFakeUpstream, type FakeUpstream } from '../../helpers/fake-upstream.ts';
import { closeServer, listen } from '../../helpers/listen.ts';
import { postJson, request, startProxy, type StartedProxy } from '../../helpers/proxy.ts';

const CHAT = { id: 'chatcmpl-1', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'secret answer text' }, finish_reason: 'stop' }], usage: { prompt_tokens: 13, completion_tokens: 5, total_tokens: 18 } };
const OVERLOADED = { error: { message: 'overloaded', type: 'server_error', param: null, code: null } };
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_SPAN = '00f067aa0ba902b7';
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-(0[01])$/;

interface Receiver {
  url: string;
  spans: OtlpSpan[];
  posts: number;
  server: Server;
}

async function startReceiver(t: TestContext): Promise<Receiver> {
  const r: Receiver = { url: '', spans: [], posts: 0, server: createServer() };
  r.server.on('request', (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      r.posts++;
      assert.equal(req.url, '/v1/traces');
      const doc = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ExportTraceServiceRequest;
      for (const rs of doc.resourceSpans) for (const ss of rs.scopeSpans) r.spans.push(...ss.spans);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  const base = await listen(r.server);
  r.url = base;
  t.after(() => closeServer(r.server));
  return r;
}

function attrs(span: OtlpSpan): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of span.attributes as OtlpKeyValue[]) out[kv.key] = Object.values(kv.value)[0];
  return out;
}

async function until(check: () => boolean, what: string, ms = 3_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function meshYaml(a: FakeUpstream, b: FakeUpstream, tracing: Record<string, unknown>): Record<string, unknown> {
  return {
    proxy: { metrics: true },
    providers: {
      a: { connector: 'openai.llm.v1', base_url: a.url, api_key: 'sk-a' },
      b: { connector: 'openai.llm.v1', base_url: b.url, api_key: 'sk-b' },
    },
    models: {
      'a.m': { provider: 'a', capabilities: ['chat-completion'] },
      'b.m': { provider: 'b', capabilities: ['chat-completion'] },
    },
    pools: { chat: { models: ['a.m', 'b.m'], strategy: 'modelmesh.priority-selection.v1', model_priority: ['a.m', 'b.m'], retry: { max_attempts: 1 } } },
    observability: { tracing: { flush_interval: '20ms', ...tracing } },
  };
}

async function setup(t: TestContext, tracing: (r: Receiver) => Record<string, unknown>): Promise<{ proxy: StartedProxy; a: FakeUpstream; b: FakeUpstream; r: Receiver }> {
  const r = await startReceiver(t);
  const a = await startFakeUpstream();
  const b = await startFakeUpstream();
  t.after(() => a.close());
  t.after(() => b.close());
  a.handle(json(503, OVERLOADED));
  b.handle(json(200, CHAT));
  const proxy = await startProxy(meshYaml(a, b, tracing(r)));
  t.after(() => proxy.close());
  return { proxy, a, b, r };
}

const ask = (proxy: StartedProxy, headers: Record<string, string> = {}) =>
  postJson(`${proxy.url}/v1/chat/completions`, { model: 'chat', messages: [{ role: 'user', content: 'secret prompt text' }] }, headers);

test('spans continue the client traceparent, describe the request, and parent the upstream traceparents', async (t) => {
  const { proxy, a, b, r } = await setup(t, (rec) => ({ endpoint: rec.url, sample_ratio: 1 }));
  const reply = await ask(proxy, { traceparent: `00-${TRACE_ID}-${CLIENT_SPAN}-01` });
  assert.equal(reply.status, 200);
  await until(() => r.spans.length >= 3, 'three spans at the receiver');

  const server = r.spans.find((s) => s.kind === 2);
  const attempts = r.spans.filter((s) => s.kind === 3);
  assert.ok(server);
  assert.equal(attempts.length, 2);
  for (const span of r.spans) assert.equal(span.traceId, TRACE_ID);
  assert.equal(server.parentSpanId, CLIENT_SPAN);
  const s = attrs(server);
  assert.equal(s['modelmesh.pool'], 'chat');
  assert.equal(s['gen_ai.request.model'], 'chat');
  assert.equal(s['gen_ai.response.model'], 'b.m');
  assert.equal(s['gen_ai.usage.input_tokens'], '13');
  assert.equal(s['gen_ai.usage.output_tokens'], '5');
  assert.equal(s['gen_ai.system'], 'openai');
  assert.equal(s['modelmesh.failovers'], '1');
  assert.equal(server.status, undefined, 'success: status unset, left out of the JSON');

  const [first, second] = [attempts.find((x) => attrs(x)['modelmesh.attempt'] === '0'), attempts.find((x) => attrs(x)['modelmesh.attempt'] === '1')];
  assert.ok(first && second);
  assert.equal(first.parentSpanId, server.spanId);
  assert.equal(second.parentSpanId, server.spanId);
  assert.equal(attrs(first)['gen_ai.request.model'], 'a.m');
  assert.match(String(attrs(first)['modelmesh.failover.reason']), /503/);
  assert.equal(attrs(first)['http.response.status_code'], '503');
  assert.equal(first.status?.code, 2);
  assert.equal(attrs(second)['gen_ai.response.model'], 'b.m');
  assert.equal(attrs(second)['modelmesh.failover.reason'], undefined);

  // Each upstream saw the same trace, with its own attempt span as the parent.
  const sentA = TRACEPARENT.exec(String(a.requests[0]?.headers['traceparent']));
  const sentB = TRACEPARENT.exec(String(b.requests[0]?.headers['traceparent']));
  assert.deepEqual(sentA?.slice(1), [TRACE_ID, first.spanId, '01']);
  assert.deepEqual(sentB?.slice(1), [TRACE_ID, second.spanId, '01']);

  // No prompt or completion text without capture_content.
  const text = JSON.stringify(r.spans);
  assert.doesNotMatch(text, /secret prompt text|secret answer text/);
  const metrics = await request(`${proxy.url}/metrics`);
  assert.match(metrics.body, /^modelmesh_tracing_spans_exported_total 3$/m);
  assert.match(metrics.body, /^modelmesh_tracing_spans_dropped_total 0$/m);
});

test('capture_content puts the prompt and the answer in the server span', async (t) => {
  const { proxy, r } = await setup(t, (rec) => ({ endpoint: rec.url, capture_content: true }));
  assert.equal((await ask(proxy)).status, 200);
  await until(() => r.spans.length >= 3, 'spans');
  const server = attrs(r.spans.find((s) => s.kind === 2) as OtlpSpan);
  assert.match(String(server['gen_ai.input.messages']), /secret prompt text/);
  assert.match(String(server['gen_ai.output.messages']), /secret answer text/);
});

test('captured content is redacted like the request log: a configured secret quoted in the prompt or the answer never reaches the collector', async (t) => {
  const secret = 'sk-b-live-0123456789abcdef';
  const r = await startReceiver(t);
  const a = await startFakeUpstream();
  const b = await startFakeUpstream();
  t.after(() => a.close());
  t.after(() => b.close());
  b.handle(json(200, { ...CHAT, choices: [{ index: 0, message: { role: 'assistant', content: `your key is ${secret}` }, finish_reason: 'stop' }] }));
  const raw = meshYaml(a, b, { endpoint: r.url, capture_content: true });
  (raw['providers'] as Record<string, Record<string, unknown>>)['b'] = { connector: 'openai.llm.v1', base_url: b.url, api_key: secret };
  raw['pools'] = { chat: { models: ['b.m'] } };
  const proxy = await startProxy(raw);
  t.after(() => proxy.close());
  const reply = await postJson(`${proxy.url}/v1/chat/completions`, { model: 'chat', messages: [{ role: 'user', content: `is ${secret} mine?` }] });
  assert.equal(reply.status, 200);
  await until(() => r.spans.length >= 2, 'spans');
  const server = attrs(r.spans.find((s) => s.kind === 2) as OtlpSpan);
  assert.match(String(server['gen_ai.input.messages']), /is \[REDACTED\] mine\?/);
  assert.match(String(server['gen_ai.output.messages']), /your key is \[REDACTED\]/);
  assert.ok(!JSON.stringify(r.spans).includes(secret));
});

test("the client's tracestate goes upstream with every attempt of a continued trace, and only then", async (t) => {
  const { proxy, a, b } = await setup(t, (rec) => ({ endpoint: rec.url }));
  const tracestate = 'vendor1=abc,vendor2=x:y';
  assert.equal((await ask(proxy, { traceparent: `00-${TRACE_ID}-${CLIENT_SPAN}-01`, tracestate })).status, 200);
  assert.equal(a.requests[0]?.headers['tracestate'], tracestate, 'the failed attempt');
  assert.equal(b.requests[0]?.headers['tracestate'], tracestate, 'the one that answered');
  // An invalid traceparent starts a new trace: the tracestate that came with it is not carried on.
  assert.equal((await ask(proxy, { traceparent: '00-zz-yy-01', tracestate })).status, 200);
  assert.equal(b.requests[1]?.headers['tracestate'], undefined);
  assert.equal((await ask(proxy, { traceparent: `00-${TRACE_ID}-${CLIENT_SPAN}-01`, tracestate: `v=${'x'.repeat(600)}` })).status, 200);
  assert.equal(b.requests[2]?.headers['tracestate'], undefined, 'longer than 512: not forwarded');
});

test('a request refused before the router (401, an unknown model, a bad body) still gets its SERVER span, continuing the client trace', async (t) => {
  const r = await startReceiver(t);
  const a = await startFakeUpstream();
  const b = await startFakeUpstream();
  t.after(() => a.close());
  t.after(() => b.close());
  const raw = meshYaml(a, b, { endpoint: r.url });
  raw['proxy'] = { metrics: true, auth: { tokens: ['tok-0123456789abcdef'] } };
  const proxy = await startProxy(raw);
  t.after(() => proxy.close());
  const traceparent = (n: number) => `00-${TRACE_ID}-${String(n).padStart(16, '0')}-01`;
  const auth = { authorization: 'Bearer tok-0123456789abcdef' };
  const post = (body: unknown, headers: Record<string, string>) => postJson(`${proxy.url}/v1/chat/completions`, body, headers);
  assert.equal((await post({ model: 'chat', messages: [] }, { traceparent: traceparent(1) })).status, 401);
  assert.equal((await post({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }, { ...auth, traceparent: traceparent(2) })).status, 404);
  assert.equal((await post({ model: 'chat', messages: 'not a list' }, { ...auth, traceparent: traceparent(3) })).status, 400);
  await proxy.mesh.observability.flush();
  await until(() => r.spans.length >= 3, 'three spans');
  assert.equal(r.spans.length, 3, 'one SERVER span each, no attempt spans');
  const byParent = new Map(r.spans.map((span) => [span.parentSpanId, span]));
  const statusOf = (n: number) => attrs(byParent.get(String(n).padStart(16, '0')) as OtlpSpan)['http.response.status_code'];
  assert.deepEqual([statusOf(1), statusOf(2), statusOf(3)], ['401', '404', '400']);
  for (const span of r.spans) {
    assert.equal(span.kind, 2);
    assert.equal(span.traceId, TRACE_ID);
    assert.equal(span.status, undefined, "a 4xx is the caller's: status unset");
  }
  const unknown = byParent.get(String(2).padStart(16, '0')) as OtlpSpan;
  assert.equal(unknown.name, 'chat nope');
  assert.equal(attrs(unknown)['gen_ai.request.model'], 'nope');
  assert.equal(byParent.get(String(1).padStart(16, '0'))?.name, 'chat', 'no model read before the 401');
  // Routed requests are not told twice.
  b.handle(json(200, CHAT));
  a.handle(json(200, CHAT));
  assert.equal((await post({ model: 'chat', messages: [{ role: 'user', content: 'x' }] }, auth)).status, 200);
  await proxy.mesh.observability.flush();
  await until(() => r.spans.length >= 5, 'the routed request: server and attempt span');
  await new Promise((res) => setTimeout(res, 50));
  assert.equal(r.spans.length, 5);
});

test('sample_ratio 0 sends nothing, yet propagates an unsampled traceparent upstream', async (t) => {
  const { proxy, a, b, r } = await setup(t, (rec) => ({ endpoint: rec.url, sample_ratio: 0 }));
  for (let i = 0; i < 3; i++) assert.equal((await ask(proxy)).status, 200);
  await proxy.mesh.observability.flush();
  await new Promise((res) => setTimeout(res, 100)); // several flush intervals
  assert.equal(r.posts, 0);
  assert.equal(r.spans.length, 0);
  const sent = TRACEPARENT.exec(String(b.requests[0]?.headers['traceparent']));
  assert.equal(sent?.[3], '00');
  assert.equal(TRACEPARENT.exec(String(a.requests[0]?.headers['traceparent']))?.[1], sent?.[1]);
  assert.equal(proxy.mesh.observability.tracing.counters.exported, 0);
});

test('a collector that is down never fails a request; the failed spans are counted', async (t) => {
  const port = await closedPort();
  const { proxy } = await setup(t, () => ({ endpoint: `http://127.0.0.1:${port}` }));
  for (let i = 0; i < 5; i++) assert.equal((await ask(proxy)).status, 200);
  await proxy.mesh.observability.flush();
  await until(() => proxy.mesh.observability.tracing.counters.failed >= 3, 'failed spans counted');
  const metrics = await request(`${proxy.url}/metrics`);
  const failed = /^modelmesh_tracing_spans_failed_total (\d+)$/m.exec(metrics.body);
  assert.ok(Number(failed?.[1]) >= 3, metrics.body.slice(-600));
  assert.equal((await ask(proxy)).status, 200);
});

test('tracing off: no traceparent upstream; a reload turns it on (new exporter) and off again', async (t) => {
  const r = await startReceiver(t);
  const a = await startFakeUpstream();
  const b = await startFakeUpstream();
  t.after(() => a.close());
  t.after(() => b.close());
  b.handle(json(200, CHAT));
  a.handle(json(200, CHAT));
  const raw = meshYaml(a, b, {});
  delete raw['observability'];
  const proxy = await startProxy(raw);
  t.after(() => proxy.close());
  assert.equal((await ask(proxy)).status, 200);
  assert.equal(a.requests[0]?.headers['traceparent'], undefined);

  const on = { ...meshYaml(a, b, { endpoint: r.url }), proxy: { host: '127.0.0.1', port: 0, metrics: true } };
  proxy.server.reload(buildConfig(on, { source: null, env: {}, baseDir: process.cwd() }));
  assert.equal(proxy.mesh.observability.tracing.enabled, true);
  assert.equal((await ask(proxy, { traceparent: `00-${TRACE_ID}-${CLIENT_SPAN}-01` })).status, 200);
  await until(() => r.spans.length >= 2, 'spans after the reload');
  assert.ok(r.spans.every((s) => s.traceId === TRACE_ID));

  proxy.server.reload(buildConfig({ ...raw, proxy: { host: '127.0.0.1', port: 0, metrics: true } }, { source: null, env: {}, baseDir: process.cwd() }));
  assert.equal(proxy.mesh.observability.tracing.enabled, false);
  await until(() => proxy.mesh.observability.tracing.counters.exported >= 2, 'the retired exporter counted');
});
