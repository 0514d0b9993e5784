// GET /metrics: the Prometheus exposition (checked by a strict parser of the 0.0.4 text format), the
// handler's headers, 404 when disabled, and the checker itself rejecting broken expositions.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { test } from 'node:test';
import { ManualClock } from '../../src/lib/clock.ts';
import { silentLogger } from '../../src/log.ts';
import { ModelMesh } from '../../src/mesh/mesh.ts';
import { escapeLabelValue, formatValue, METRICS_CONTENT_TYPE, renderMetrics } from '../../src/observability/metrics.ts';
import type { ObservabilityService } from '../../src/observability/service.ts';
import type { RequestContext } from '../../src/proxy/context.ts';
import { metricsHandler } from '../../src/proxy/endpoints/metrics.ts';
import { sendError } from '../../src/proxy/respond.ts';
import { closeServer, listen } from '../helpers/listen.ts';
import { request } from '../helpers/proxy.ts';
import { parseExposition } from './exposition.ts';

const WEIRD = 'we"ird\\pool';

function setup(metrics: unknown = true) {
  const clock = new ManualClock();
  const mesh = ModelMesh.fromConfig({
    proxy: { metrics },
    providers: { p1: { connector: 'modelmesh.simulated.v1' }, p2: { connector: 'modelmesh.simulated.v1' } },
    models: {
      'p1.a': { provider: 'p1', capabilities: ['chat-completion'], pricing: { input_per_1m: 1, output_per_1m: 2 } },
      'p2.b': { provider: 'p2', capabilities: ['chat-completion'] },
    },
    pools: { [WEIRD]: { models: ['p1.a', 'p2.b'] } },
  }, { clock, env: {} });
  // The mesh's own service (not started: statistics need no start).
  const obs: ObservabilityService = mesh.observability;
  return { clock, mesh, obs };
}

function traffic({ clock, mesh }: ReturnType<typeof setup>): void {
  for (const [i, latency] of [5, 40, 300, 1200, 9000].entries()) {
    mesh.events.emit({
      type: 'request', at: clock.now(), requestId: `r${i}`, endpoint: 'chat', requested: WEIRD, pool: WEIRD, candidates: ['p1.a', 'p2.b'], excluded: [],
      attempts: [
        { model: 'p1.a', provider: 'p1', status: 503, outcome: 'failure', reason: '503', latency_ms: 1 },
        { model: 'p2.b', provider: 'p2', status: 200, outcome: 'success', reason: null, latency_ms: latency },
      ],
      model: 'p2.b', provider: 'p2', outcome: 'success', status: 200, error: null, stream: false, latency_ms: latency, ttfb_ms: latency,
      tokens_in: 3, tokens_out: 4, cost: 0.25, client: null,
    });
  }
  mesh.events.emit({
    type: 'request', at: clock.now(), requestId: 'rf', endpoint: 'chat', requested: WEIRD, pool: WEIRD, candidates: ['p1.a'], excluded: [],
    attempts: [{ model: 'p1.a', provider: 'p1', status: 503, outcome: 'failure', reason: '503', latency_ms: 2 }],
    model: null, provider: null, outcome: 'failure', status: 502, error: 'all failed', stream: false, latency_ms: 2, ttfb_ms: 2, tokens_in: 0, tokens_out: 0, cost: 0, client: null,
  });
  mesh.events.emit({ type: 'rotation', at: clock.now(), requestId: 'r0', pool: WEIRD, from: 'p1.a', to: 'p2.b', reason: '503' });
  mesh.state.holdModel('p1.a', 'p1', { reason: '3 consecutive failures', until: clock.now() + 60_000, cause: 'failure', pool: WEIRD, manual: false });
  clock.advance(15_000);
}

function value(families: ReturnType<typeof parseExposition>, family: string, name: string, labels: Record<string, string>): number | undefined {
  return families.get(family)?.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

test('label values escape backslash, double quote and newline; values use Prometheus spellings', () => {
  assert.equal(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
  assert.equal(formatValue(Infinity), '+Inf');
  assert.equal(formatValue(Number.NaN), 'NaN');
  assert.equal(formatValue(1e-7), '1e-7');
});

test('the exposition passes the format checker and carries requests, histogram, gauges, tokens, cost, events', () => {
  const s = setup();
  traffic(s);
  const text = renderMetrics({ mesh: s.mesh, stats: s.obs.stats, dropped: s.obs.dropped });
  const families = parseExposition(text);
  for (const name of [
    'modelmesh_requests_total', 'modelmesh_request_duration_seconds', 'modelmesh_attempts_total', 'modelmesh_model_up', 'modelmesh_provider_up',
    'modelmesh_tokens_total', 'modelmesh_cost_usd_total', 'modelmesh_standby_events_total', 'modelmesh_downtime_seconds_total',
    'modelmesh_rotations_total', 'modelmesh_quota_resets_total', 'modelmesh_observability_dropped_total', 'modelmesh_uptime_seconds',
  ]) assert.ok(families.has(name), `${name} missing:\n${text}`);
  assert.ok(text.includes(`pool="we\\"ird\\\\pool"`), 'escaped label in the raw text');
  const r = 'modelmesh_requests_total';
  assert.equal(value(families, r, r, { pool: WEIRD, model: 'p2.b', provider: 'p2', outcome: 'success' }), 5);
  assert.equal(value(families, r, r, { pool: WEIRD, model: '', provider: '', outcome: 'failure' }), 1);
  const h = 'modelmesh_request_duration_seconds';
  assert.equal(value(families, h, `${h}_count`, { pool: WEIRD, model: 'p2.b' }), 5);
  assert.equal(value(families, h, `${h}_bucket`, { pool: WEIRD, model: 'p2.b', le: '0.05' }), 2);
  assert.equal(value(families, h, `${h}_bucket`, { pool: WEIRD, model: 'p2.b', le: '+Inf' }), 5);
  assert.ok(Math.abs((value(families, h, `${h}_sum`, { pool: WEIRD, model: 'p2.b' }) ?? 0) - 10.545) < 1e-9);
  assert.equal(value(families, 'modelmesh_model_up', 'modelmesh_model_up', { model: 'p1.a' }), 0);
  assert.equal(value(families, 'modelmesh_model_up', 'modelmesh_model_up', { model: 'p2.b' }), 1);
  assert.equal(value(families, 'modelmesh_attempts_total', 'modelmesh_attempts_total', { model: 'p1.a', outcome: 'failure' }), 6);
  assert.equal(value(families, 'modelmesh_tokens_total', 'modelmesh_tokens_total', { model: 'p2.b', direction: 'output' }), 20);
  assert.equal(value(families, 'modelmesh_cost_usd_total', 'modelmesh_cost_usd_total', { model: 'p2.b' }), 1.25);
  assert.equal(value(families, 'modelmesh_standby_events_total', 'modelmesh_standby_events_total', { model: 'p1.a' }), 1);
  assert.equal(value(families, 'modelmesh_downtime_seconds_total', 'modelmesh_downtime_seconds_total', { model: 'p1.a' }), 15);
  assert.equal(value(families, 'modelmesh_rotations_total', 'modelmesh_rotations_total', { pool: WEIRD }), 1);
  assert.equal(value(families, 'modelmesh_uptime_seconds', 'modelmesh_uptime_seconds', {}), 15);
  assert.equal(value(families, 'modelmesh_observability_dropped_total', 'modelmesh_observability_dropped_total', { stream: 'routing' }), 0);
});

test('a mesh without traffic still exposes a valid exposition with every model and provider', () => {
  const s = setup();
  const families = parseExposition(renderMetrics({ mesh: s.mesh, stats: s.obs.stats, dropped: s.obs.dropped }));
  assert.equal(families.get('modelmesh_model_up')?.samples.length, 2);
  assert.equal(families.get('modelmesh_tokens_total')?.samples.length, 4);
  parseExposition(renderMetrics({ mesh: s.mesh, stats: undefined, dropped: undefined }));
});

test('the format checker rejects broken expositions', () => {
  const bad = [
    'x_total 1\n', // no TYPE
    '# TYPE x counter\nx 1\n', // counter without _total
    '# TYPE x_total counter\nx_total{a="b\\q"} 1\n', // illegal escape
    '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n', // not cumulative
    '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n', // no +Inf
    '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 1\n', // +Inf != count
    '# TYPE a gauge\n# TYPE b gauge\na 1\n', // not grouped
    '# TYPE a gauge\na 1', // no final newline
  ];
  for (const text of bad) assert.throws(() => parseExposition(text), Error, JSON.stringify(text));
});

async function serve(mesh: ModelMesh) {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const baseHeaders = { 'x-request-id': 'req_m' };
    const ctx: RequestContext = {
      req, res, mesh: mesh.view(), requestId: 'req_m', params: {}, signal: new AbortController().signal as unknown as RequestContext['signal'], startedAt: 0, logger: silentLogger,
      baseHeaders, admissionHeaders: () => baseHeaders, trace: null, client: null, requested: null, admission: null,
    };
    metricsHandler(ctx).catch((err: unknown) => sendError(ctx, err));
  });
  const url = await listen(server);
  return { url, close: () => closeServer(server) };
}

test('the handler answers with the 0.0.4 content type; HEAD gets headers only; disabled metrics are a 404', async (t) => {
  const s = setup({ enabled: true, path: '/prom' });
  traffic(s);
  const on = await serve(s.mesh);
  t.after(() => on.close());
  const res = await request(`${on.url}/prom`);
  assert.equal(res.status, 200);
  assert.equal(res.headers['content-type'], METRICS_CONTENT_TYPE);
  assert.equal(res.headers['x-request-id'], 'req_m');
  assert.equal(Number(res.headers['content-length']), Buffer.byteLength(res.body));
  const families = parseExposition(res.body);
  assert.equal(value(families, 'modelmesh_requests_total', 'modelmesh_requests_total', { model: 'p2.b', outcome: 'success' }), 5);
  const head = await request(`${on.url}/prom`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.body, '');

  const off = await serve(setup(false).mesh);
  t.after(() => off.close());
  const missing = await request(`${off.url}/metrics`);
  assert.equal(missing.status, 404);
  assert.equal(missing.json.error.code, 'not_found');
});
