// The exporter against a real OTLP/HTTP receiver: a small node:http server on a loopback port.
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { once } from 'node:events';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { OtlpExporter } from '../../../src/observability/tracing/exporter.ts';
import { buildRequestSpans, type Span } from '../../../src/observability/tracing/spans.ts';
import { attemptTraceparent, startTrace } from '../../../src/observability/tracing/traceparent.ts';
import { closeServer, collect, listen } from '../../helpers/listen.ts';
import { failoverEvent } from './fixtures.ts';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: { resourceSpans: { resource: { attributes: Attr[] }; scopeSpans: { spans: OtlpSpanJson[] }[] }[] };
}
interface Attr { key: string; value: Record<string, unknown> }
interface OtlpSpanJson { traceId: string; spanId: string; parentSpanId?: string; kind: number; attributes: Attr[] }

async function receiver(t: { after: (fn: () => Promise<void>) => void }, status = 200, delayMs = 0): Promise<{ url: string; got: Received[]; server: Server }> {
  const got: Received[] = [];
  const server = createServer(async (req, res) => {
    const body = JSON.parse((await collect(req)).toString('utf8')) as Received['body'];
    got.push({ path: req.url ?? '', headers: req.headers, body });
    setTimeout(() => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end('{}');
    }, delayMs);
  });
  const base = await listen(server);
  t.after(() => closeServer(server));
  return { url: `${base}/v1/traces`, got, server };
}

function spansOf(n: number): Span[] {
  const out: Span[] = [];
  while (out.length < n) out.push(...buildRequestSpans(failoverEvent(), startTrace(undefined, 1)));
  return out.slice(0, n);
}

const attr = (span: OtlpSpanJson | undefined, key: string): unknown => span?.attributes.find((a) => a.key === key)?.value;

describe('OtlpExporter', () => {
  it('POSTs a batch whose trace id is the client traceparent and whose attributes match the request', async (t) => {
    const r = await receiver(t);
    const exporter = new OtlpExporter({ url: r.url, headers: { authorization: 'Bearer collector-token' }, resource: { serviceName: 'mesh-test' } });
    t.after(() => exporter.stop(500));
    const trace = startTrace('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', 1);
    attemptTraceparent(trace, 0);
    attemptTraceparent(trace, 1);
    exporter.enqueue(buildRequestSpans(failoverEvent(), trace, { client: 'app1' }));
    await exporter.flush();

    assert.equal(r.got.length, 1);
    const [req] = r.got;
    assert.equal(req?.path, '/v1/traces');
    assert.equal(req?.headers['content-type'], 'application/json');
    assert.equal(req?.headers.authorization, 'Bearer collector-token');
    const rs = req?.body.resourceSpans[0];
    assert.deepEqual(rs?.resource.attributes, [{ key: 'service.name', value: { stringValue: 'mesh-test' } }]);
    const spans = rs?.scopeSpans[0]?.spans ?? [];
    assert.equal(spans.length, 3);
    for (const s of spans) assert.equal(s.traceId, '0af7651916cd43dd8448eb211c80319c');
    const [server, first, second] = spans;
    assert.equal(server?.parentSpanId, 'b7ad6b7169203331');
    assert.equal(server?.kind, 2);
    assert.deepEqual(attr(server, 'gen_ai.request.model'), { stringValue: 'text-generation' });
    assert.deepEqual(attr(server, 'gen_ai.response.model'), { stringValue: 'anthropic.claude' });
    assert.deepEqual(attr(server, 'gen_ai.usage.input_tokens'), { intValue: '11' });
    assert.deepEqual(attr(server, 'gen_ai.usage.output_tokens'), { intValue: '7' });
    assert.deepEqual(attr(server, 'gen_ai.system'), { stringValue: 'anthropic' });
    assert.deepEqual(attr(server, 'modelmesh.pool'), { stringValue: 'text-generation' });
    assert.deepEqual(attr(server, 'modelmesh.client'), { stringValue: 'app1' });
    assert.equal(first?.parentSpanId, server?.spanId);
    assert.equal(first?.spanId, trace.attemptSpanIds[0]);
    assert.deepEqual(attr(first, 'modelmesh.failover.reason'), { stringValue: '503 overloaded' });
    assert.equal(attr(second, 'modelmesh.failover.reason'), undefined);
    assert.deepEqual(exporter.counters, { exported: 3, dropped: 0, failed: 0, failedBatches: 0, queued: 0, lastError: null });
  });

  it('credentials written in the endpoint URL go as Basic auth; configured headers win, whatever their case', async (t) => {
    const r = await receiver(t);
    const url = r.url.replace('http://', 'http://ingest:s%3Acret@');
    const exporter = new OtlpExporter({ url, resource: { serviceName: 'm' } });
    t.after(() => exporter.stop(500));
    exporter.enqueue(spansOf(1));
    await exporter.flush();
    assert.equal(r.got[0]?.headers.authorization, `Basic ${Buffer.from('ingest:s:cret').toString('base64')}`);
    assert.equal(r.got[0]?.path, '/v1/traces');
    // Written in another case, still one header: the configured one.
    const explicit = new OtlpExporter({ url, headers: { Authorization: 'Bearer t', 'Content-Type': 'text/plain' }, resource: { serviceName: 'm' } });
    t.after(() => explicit.stop(500));
    explicit.enqueue(spansOf(1));
    await explicit.flush();
    assert.equal(r.got[1]?.headers.authorization, 'Bearer t', 'one Authorization line, the configured one (of two, the receiver would keep the first)');
    assert.equal(r.got[1]?.headers['content-type'], 'application/json');
  });

  it('sends a full batch at once and a partial one on the interval', async (t) => {
    const r = await receiver(t);
    const exporter = new OtlpExporter({ url: r.url, resource: { serviceName: 'm' }, batchSize: 4, flushInterval: 50 });
    t.after(() => exporter.stop(500));
    exporter.enqueue(spansOf(4));
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.equal(r.got.length, 1, 'the full batch went out before the interval');
    exporter.enqueue(spansOf(1));
    const deadline = Date.now() + 2_000;
    // The receiver sees the body before the exporter has read the answer and counted it: wait for both.
    while ((r.got.length < 2 || exporter.counters.exported < 5) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(r.got[1]?.body.resourceSpans[0]?.scopeSpans[0]?.spans.length, 1);
    assert.equal(exporter.counters.exported, 5);
  });

  it('sends batch after batch intact while reusing body Buffers (no stale or torn spans)', async (t) => {
    const r = await receiver(t);
    const exporter = new OtlpExporter({ url: r.url, resource: { serviceName: 'm' }, batchSize: 6, flushInterval: 60_000 });
    t.after(() => exporter.stop(500));
    const sent: string[] = [];
    for (let round = 0; round < 5; round++) {
      // Smaller and bigger rounds, so a reused Buffer holds more than the next body needs.
      const spans = spansOf(round % 2 === 0 ? 6 : 2);
      for (const s of spans) sent.push(s.spanId);
      exporter.enqueue(spans);
      await exporter.flush();
    }
    const got = r.got.flatMap((g) => g.body.resourceSpans[0]?.scopeSpans[0]?.spans.map((s) => s.spanId) ?? []);
    assert.deepEqual(got, sent);
    assert.equal(exporter.counters.exported, sent.length);
  });

  it('bounds the queue and counts what it drops', () => {
    const exporter = new OtlpExporter({ url: 'http://127.0.0.1:9/v1/traces', resource: { serviceName: 'm' }, batchSize: 5, queueSize: 10, flushInterval: 60_000 });
    exporter.enqueue(spansOf(7));
    exporter.enqueue(spansOf(7));
    assert.equal(exporter.counters.queued, 10);
    assert.equal(exporter.counters.dropped, 4);
    return exporter.stop(200);
  });

  it('never throws when the collector is down: the batch fails and is counted', async (t) => {
    const r = await receiver(t);
    await closeServer(r.server); // nothing listens on that port any more
    const exporter = new OtlpExporter({ url: r.url, resource: { serviceName: 'm' }, timeout: 500 });
    assert.doesNotThrow(() => exporter.enqueue(spansOf(3)));
    await exporter.flush();
    assert.equal(exporter.counters.failed, 3);
    assert.equal(exporter.counters.failedBatches, 1);
    assert.equal(exporter.counters.lastError, 'connection refused');
    assert.doesNotThrow(() => exporter.enqueue(spansOf(2)));
    await exporter.stop(500);
    assert.equal(exporter.counters.failed, 5);
    assert.doesNotThrow(() => exporter.enqueue(spansOf(1)), 'after stop too');
    assert.equal(exporter.counters.dropped, 1);
  });

  it('a collector trickling its answer is cut at the timeout (wall clock, not socket idle): the batch fails, the next one goes out', async (t) => {
    let trickle = true;
    const posts: number[] = [];
    const server = createServer(async (req, res) => {
      await collect(req);
      posts.push(Date.now());
      res.writeHead(200, { 'content-type': 'application/json' });
      if (!trickle) return void res.end('{}');
      res.write('{');
      const timer = setInterval(() => (res.destroyed ? clearInterval(timer) : res.write(' ')), 50);
      res.on('close', () => clearInterval(timer));
    });
    const base = await listen(server);
    t.after(() => {
      server.closeAllConnections();
      return closeServer(server);
    });
    const exporter = new OtlpExporter({ url: `${base}/v1/traces`, resource: { serviceName: 'm' }, timeout: 300, flushInterval: 60_000 });
    t.after(() => exporter.stop(200));
    exporter.enqueue(spansOf(2));
    const started = Date.now();
    await exporter.flush();
    assert.ok(Date.now() - started < 2_000, `cut within its timeout (${Date.now() - started} ms)`);
    assert.equal(exporter.counters.failed, 2);
    assert.match(exporter.counters.lastError ?? '', /timed out after 300 ms/);
    trickle = false;
    exporter.enqueue(spansOf(3));
    await exporter.flush();
    assert.equal(exporter.counters.exported, 3, 'export carries on');
    assert.equal(posts.length, 2);
  });

  it('a collector answering 200 before it read the body: that body is sent whole, not overwritten by the next batch', async (t) => {
    // A raw TCP collector: answers each request as soon as its head is in, then reads nothing for a while,
    // so the exporter has its answer while the OS is still taking the body (far larger than the socket
    // buffers) from the batch's Buffer. A Buffer reused for the next batch then would tear this body.
    const bodies: Buffer[] = [];
    const sockets = new Set<Socket>();
    const server = createNetServer((socket) => {
      sockets.add(socket);
      let head = Buffer.alloc(0);
      let body: Buffer[] = [];
      let got = 0;
      let need = -1; // body bytes of the request being read; -1: reading a head
      socket.on('data', (chunk: Buffer) => {
        let rest: Buffer | null = chunk;
        while (rest !== null && rest.length > 0) {
          if (need < 0) {
            head = Buffer.concat([head, rest]);
            const end = head.indexOf('\r\n\r\n');
            if (end < 0) return;
            need = Number(/content-length: *(\d+)/i.exec(head.subarray(0, end).toString('latin1'))?.[1]);
            rest = head.subarray(end + 4);
            head = Buffer.alloc(0);
            socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}');
            socket.pause();
            setTimeout(() => socket.resume(), 300);
            continue;
          }
          const take = Math.min(rest.length, need - got);
          body.push(rest.subarray(0, take));
          got += take;
          rest = take < rest.length ? rest.subarray(take) : null;
          if (got === need) {
            bodies.push(Buffer.concat(body));
            body = [];
            got = 0;
            need = -1;
          }
        }
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    t.after(() => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`;
    const n = 12_000; // some 15 MB a batch
    const exporter = new OtlpExporter({ url, resource: { serviceName: 'm' }, batchSize: n, queueSize: n, flushInterval: 60_000 });
    t.after(() => exporter.stop(2_000));
    const first = spansOf(n);
    exporter.enqueue(first);
    await exporter.flush(); // answered while the body is still going out
    assert.equal(exporter.counters.exported, n);
    const second = spansOf(n);
    exporter.enqueue(second);
    await exporter.flush();
    const deadline = Date.now() + 10_000;
    while (bodies.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    const ids = (body: Buffer | undefined): string[] =>
      (JSON.parse(body?.toString('utf8') ?? 'null') as Received['body']).resourceSpans[0]?.scopeSpans[0]?.spans.map((s) => s.spanId) ?? [];
    assert.deepEqual(ids(bodies[0]), first.map((s) => s.spanId));
    assert.deepEqual(ids(bodies[1]), second.map((s) => s.spanId));
  });

  it('counts a non-2xx answer as a failure', async (t) => {
    const r = await receiver(t, 400);
    const exporter = new OtlpExporter({ url: r.url, resource: { serviceName: 'm' } });
    t.after(() => exporter.stop(200));
    exporter.enqueue(spansOf(2));
    await exporter.flush();
    assert.equal(exporter.counters.failed, 2);
    assert.equal(exporter.counters.lastError, 'HTTP 400');
  });

  it('stop() gives a slow collector a bounded time, then drops and counts', async (t) => {
    const r = await receiver(t, 200, 5_000);
    const exporter = new OtlpExporter({ url: r.url, resource: { serviceName: 'm' }, batchSize: 2, queueSize: 10, flushInterval: 60_000 });
    exporter.enqueue(spansOf(6));
    const started = Date.now();
    await exporter.stop(150);
    assert.ok(Date.now() - started < 2_000, 'stop returned within its bound');
    const c = exporter.counters;
    assert.equal(c.exported, 0);
    assert.equal(c.failed + c.dropped, 6);
    assert.equal(c.queued, 0);
  });
});
