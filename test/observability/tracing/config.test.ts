import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTracingConfig, TRACING_OFF, tracesUrl } from '../../../src/observability/tracing/config.ts';

describe('parseTracingConfig', () => {
  it('is off when the section is absent', () => {
    assert.deepEqual(parseTracingConfig(undefined), { ok: true, config: TRACING_OFF });
  });

  it('reads every key with its defaults', () => {
    const r = parseTracingConfig({ endpoint: 'http://collector:4318/' });
    assert.deepEqual(r, {
      ok: true,
      config: {
        enabled: true, endpoint: 'http://collector:4318/v1/traces', headers: {}, sample_ratio: 1, service_name: 'modelmesh',
        timeout: 10_000, batch_size: 512, queue_size: 2048, flush_interval: 1_000, capture_content: false,
      },
    });
    const full = parseTracingConfig({
      enabled: true, endpoint: 'https://otel.example/v1/traces', headers: { 'x-api-key': 'k', 'x-n': 2 }, sample_ratio: 0.1,
      service_name: 'gateway', timeout: '2s', batch_size: 10, queue_size: 100, flush_interval: '500ms', capture_content: true,
    });
    assert.ok(full.ok);
    assert.equal(full.config.endpoint, 'https://otel.example/v1/traces');
    assert.deepEqual(full.config.headers, { 'x-api-key': 'k', 'x-n': '2' });
    assert.equal(full.config.sample_ratio, 0.1);
    assert.equal(full.config.timeout, 2_000);
    assert.equal(full.config.flush_interval, 500);
    assert.equal(full.config.capture_content, true);
  });

  it('can be written but disabled without an endpoint', () => {
    const r = parseTracingConfig({ enabled: false });
    assert.ok(r.ok);
    assert.equal(r.config.enabled, false);
  });

  it('reports every problem at its path', () => {
    const r = parseTracingConfig({ sample_ratio: 1.5, batch_size: 0, timeout: 'soon', endpont: 'x', capture_content: 'yes' });
    assert.equal(r.ok, false);
    const paths = r.ok ? [] : r.problems.map((p) => p.path).sort();
    assert.deepEqual(paths, [
      'observability.tracing.batch_size', 'observability.tracing.capture_content', 'observability.tracing.endpoint',
      'observability.tracing.endpont', 'observability.tracing.sample_ratio', 'observability.tracing.timeout',
    ]);
    const typo = r.ok ? undefined : r.problems.find((p) => p.path.endsWith('endpont'));
    assert.match(typo?.message ?? '', /did you mean "endpoint"/);
    const bad = parseTracingConfig({ endpoint: 'ftp://x', queue_size: 5, batch_size: 10 }, 'tracing');
    assert.deepEqual(bad.ok ? [] : bad.problems.map((p) => p.path).sort(), ['tracing.endpoint', 'tracing.queue_size']);
  });

  it('appends /v1/traces to a base URL only', () => {
    assert.equal(tracesUrl('http://c:4318'), 'http://c:4318/v1/traces');
    assert.equal(tracesUrl('http://c:4318/otlp/v1/traces/'), 'http://c:4318/otlp/v1/traces');
    assert.equal(tracesUrl('http://c:4318?tenant=a'), 'http://c:4318/v1/traces?tenant=a', 'the path changes, not the query');
    assert.equal(tracesUrl('https://c/v1/traces?tenant=a'), 'https://c/v1/traces?tenant=a');
    assert.equal(tracesUrl('http://c:4318/base/'), 'http://c:4318/base/v1/traces');
  });
});
