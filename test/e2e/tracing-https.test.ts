// Tracing to a collector over https with an Authorization header from the secret store (issue 17 point 2), the
// way a hosted OTLP backend is reached: `node dist/server.js` trusts the collector's self-signed certificate
// through NODE_EXTRA_CA_CERTS (Node's own setting, nothing of ours), and the spans arrive with the client's
// trace id; without it nothing is sent and the log says why. Skips when openssl is missing (it makes the
// certificate).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import type { ExportTraceServiceRequest, OtlpSpan } from '../../src/observability/tracing/otlp.ts';
import { selfSignedCertificate } from '../helpers/certificate.ts';
import { cleanEnv } from '../helpers/cli.ts';
import { postJson, request } from '../helpers/proxy.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const KEY = 'collector-key-0123456789';

interface Collector {
  port: number;
  certFile: string;
  posts: { path: string; authorization: string | undefined; spans: OtlpSpan[]; service: unknown }[];
}

/** An OTLP/HTTP JSON receiver over https with a self-signed certificate; null without openssl. */
async function startCollector(t: TestContext): Promise<Collector | null> {
  const certificate = selfSignedCertificate(tempDir(t));
  if (certificate === null) return null;
  const posts: Collector['posts'] = [];
  const server: Server = createServer({ cert: certificate.cert, key: readFileSync(certificate.keyFile) }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const doc = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ExportTraceServiceRequest;
      const resource = doc.resourceSpans[0]?.resource.attributes.find((a) => a.key === 'service.name');
      posts.push({
        path: req.url ?? '', authorization: req.headers.authorization, service: resource?.value,
        spans: doc.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)),
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  return { port: (server.address() as AddressInfo).port, certFile: certificate.certFile, posts };
}

async function startTracedProxy(t: TestContext, collectorPort: number, env: Record<string, string>): Promise<RunningServer> {
  const server = await startServer({ yaml: `
proxy:
  metrics: {enabled: true}
providers:
  modelmesh.simulated.v1: {}
models:
  simulated.chat: {provider: modelmesh.simulated.v1, capabilities: [chat-completion]}
observability:
  tracing:
    endpoint: https://127.0.0.1:${collectorPort}
    headers: {Authorization: "Bearer \${secrets:OTLP_COLLECTOR_KEY}"}
    service_name: mesh-https-test
    flush_interval: 100ms
` }, { env: cleanEnv({ OTLP_COLLECTOR_KEY: KEY, ...env }) });
  t.after(() => server.stop());
  const reply = await postJson(`${server.url}/v1/chat/completions`, { model: 'text-generation', messages: [{ role: 'user', content: 'hi' }] },
    { traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01` });
  assert.equal(reply.status, 200, reply.body);
  return server;
}

async function until(check: () => boolean, what: () => string): Promise<void> {
  for (const end = Date.now() + 10_000; !check(); await new Promise((r) => setTimeout(r, 50))) {
    if (Date.now() > end) assert.fail(what());
  }
}

test('spans reach an https collector that needs a token, continuing the client\'s trace', async (t) => {
  const collector = await startCollector(t);
  if (collector === null) return t.skip('openssl not installed');
  const server = await startTracedProxy(t, collector.port, { NODE_EXTRA_CA_CERTS: collector.certFile });
  await until(() => collector.posts.length > 0, () => `no export reached the collector; proxy stderr:\n${server.stderr()}`);
  const [post] = collector.posts;
  assert.equal(post?.path, '/v1/traces');
  assert.equal(post?.authorization, `Bearer ${KEY}`);
  assert.deepEqual(post?.service, { stringValue: 'mesh-https-test' });
  assert.ok((post?.spans.length ?? 0) >= 2, 'the request span and its attempt span');
  for (const span of post?.spans ?? []) assert.equal(span.traceId, TRACE_ID);

  const metrics = await request(`${server.url}/metrics`);
  assert.match(metrics.body, /modelmesh_tracing_spans_exported_total [1-9]/);
  assert.doesNotMatch(server.stderr(), new RegExp(KEY), 'the collector key is never logged');
});

test('a collector whose certificate is not trusted: nothing is sent, and the log says why', async (t) => {
  const collector = await startCollector(t);
  if (collector === null) return t.skip('openssl not installed');
  const server = await startTracedProxy(t, collector.port, {});
  await until(() => /tracing spans dropped/.test(server.stderr()), () => `no warning; proxy stderr:\n${server.stderr()}`);
  const line = server.stderr().split('\n').find((l) => l.includes('tracing spans dropped')) ?? '';
  const record = JSON.parse(line) as { level: string; endpoint: string; error: string; failed: number; queue_full: number };
  assert.equal(record.level, 'warn');
  assert.equal(record.endpoint, `https://127.0.0.1:${collector.port}/v1/traces`);
  assert.match(record.error, /self[- ]signed certificate/);
  assert.ok(record.failed >= 2, 'the request span and its attempt span');
  assert.equal(record.queue_full, 0);
  assert.equal(collector.posts.length, 0, 'the certificate is checked: nothing reached it');
  assert.match((await request(`${server.url}/metrics`)).body, /modelmesh_tracing_spans_failed_total [1-9]/);
  assert.doesNotMatch(server.stderr(), new RegExp(KEY));
});
