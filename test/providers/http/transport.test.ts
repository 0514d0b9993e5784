import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ConfigError } from '../../../src/config/errors.ts';
import { buildConfig } from '../../../src/config/schema/index.ts';
import { MeshError } from '../../../src/errors.ts';
import type { SseEvent } from '../../../src/lib/sse.ts';
import type { ProviderResponse } from '../../../src/providers/provider.ts';
import { createTransport } from '../../../src/providers/http/client.ts';
import type { HttpClientKind, HttpTransport } from '../../../src/providers/http/client.ts';
import type { TransportOptions, TransportRequest } from '../../../src/providers/http/transport.ts';
import { bytes, closedPort, destroy, hang, json, sse, startFakeUpstream, text } from '../../helpers/fake-upstream.ts';
import type { FakeUpstream } from '../../helpers/fake-upstream.ts';

/** A non-2xx failure carries the upstream's response headers (for the rate-limit strategies); the rest compares exactly. */
function withoutHeaders(upstream: { headers?: Readonly<Record<string, unknown>> } | undefined): object {
  assert.ok(upstream?.headers !== undefined, 'the upstream response headers are kept');
  assert.match(String(upstream.headers['content-type']), /json/);
  const { headers: _headers, ...rest } = upstream;
  return rest;
}

const TIMEOUTS = { connect: 5_000, first_byte: 10_000, idle: 10_000, total: 30_000 };

/** The whole suite runs against both clients (providers.<id>.http_client). */
for (const kind of ['node', 'modelmesh'] satisfies HttpClientKind[]) {

function transport(baseUrl: string, options: Partial<TransportOptions> = {}): HttpTransport {
  return createTransport(kind, { id: 'p', baseUrl, headers: {}, timeouts: TIMEOUTS, maxSockets: 4, ...options });
}

function request(over: Partial<TransportRequest> = {}): TransportRequest {
  return { path: '/chat/completions', body: Buffer.from('{}'), mode: 'buffer', signal: new AbortController().signal, ...over };
}

/** The MeshError a promise rejects with. */
async function failure(p: Promise<unknown>): Promise<MeshError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof MeshError, `expected a MeshError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a rejection');
}

async function drain<T>(it: AsyncIterator<T>): Promise<T[]> {
  const out: T[] = [];
  for (;;) {
    const r = await it.next();
    if (r.done === true) return out;
    out.push(r.value);
  }
}

function sseOf(res: ProviderResponse): AsyncIterator<SseEvent> {
  return res.kind === 'sse' ? res.events : assert.fail('sse expected');
}

describe(`transport (${kind})`, () => {
  let up: FakeUpstream;
  let t: HttpTransport;
  before(async () => {
    up = await startFakeUpstream();
    t = transport(`${up.url}?api-version=1`, { headers: { authorization: 'Bearer k', 'x-static': 's' } });
  });
  after(async () => {
    t.close();
    await up.close();
  });

  test('buffer mode: path prefix + query, static and per-request headers, body, content type', async () => {
    up.handle(json(200, { hello: 'world' }, { 'x-ratelimit-remaining-requests': '9' }));
    const res = await t.request(request({ headers: { 'x-static': 'override', 'x-request-id': 'r1' }, body: [Buffer.from('{"a"'), Buffer.from(':1}')] }));
    assert.equal(res.kind, 'buffer');
    assert.equal(res.status, 200);
    assert.equal(res.contentType, 'application/json');
    assert.equal(res.headers['x-ratelimit-remaining-requests'], '9');
    assert.deepEqual(JSON.parse(res.kind === 'buffer' ? res.body.toString() : ''), { hello: 'world' });
    const rec = up.requests.at(-1);
    assert.equal(rec?.method, 'POST');
    assert.equal(rec?.path, '/v1/chat/completions?api-version=1');
    assert.equal(rec?.headers['authorization'], 'Bearer k');
    assert.equal(rec?.headers['x-static'], 'override');
    assert.equal(rec?.headers['x-request-id'], 'r1');
    assert.equal(rec?.headers['content-length'], '7');
    assert.deepEqual(rec?.json, { a: 1 });
  });

  test('default content types per mode when the upstream sends none', async () => {
    up.handle((_req, res) => {
      res.writeHead(200);
      res.end('data: x\n\n');
    });
    assert.equal((await t.request(request())).contentType, 'application/json');
    const s = await t.request(request({ mode: 'sse' }));
    assert.equal(s.contentType, 'text/event-stream');
    assert.deepEqual(await drain(sseOf(s)), [{ data: 'x' }]);
    const b = await t.request(request({ mode: 'bytes' }));
    assert.equal(b.contentType, 'application/octet-stream');
  });

  test('connection refused', async () => {
    const closed = transport(`http://127.0.0.1:${await closedPort()}/v1`);
    const err = await failure(closed.request(request()));
    assert.equal(err.code, 'upstream_error');
    assert.equal(err.status, 502);
    assert.deepEqual(err.upstream, { status: 0, reason: 'connection refused' });
    closed.close();
  });

  test('connection reset when the upstream destroys the socket', async () => {
    up.handle(destroy());
    const err = await failure(t.request(request()));
    assert.deepEqual(err.upstream, { status: 0, reason: 'connection reset' });
  });

  test('first byte timeout', async () => {
    up.handle(hang());
    const quick = transport(up.url, { timeouts: { ...TIMEOUTS, first_byte: 50 } });
    const err = await failure(quick.request(request()));
    assert.deepEqual(err.upstream, { status: 0, reason: 'first byte timeout after 50ms', timeout: true });
    quick.close();
  });

  test('total timeout', async () => {
    up.handle(hang());
    const quick = transport(up.url, { timeouts: { ...TIMEOUTS, total: 60 } });
    const err = await failure(quick.request(request()));
    assert.deepEqual(err.upstream, { status: 0, reason: 'total timeout after 60ms', timeout: true });
    quick.close();
  });

  test('timeouts past what a Node timer holds (2^31-1 ms, e.g. 30 days) do not fire early and blame the upstream', async () => {
    up.handle((_req, res) => void setTimeout(() => res.end('{}'), 30)); // an overflowing timer fires after 1 ms
    const month = 30 * 24 * 3_600_000;
    const slow = transport(up.url, { timeouts: { connect: month, first_byte: month, idle: month, total: month } });
    const res = await slow.request(request());
    assert.equal(res.status, 200);
    slow.close();
  });

  test('unstreamed: an sse request answered whole (not text/event-stream) resolves as a buffered answer; without the flag it fails', async () => {
    up.handle(json(200, { text: 'hello' }));
    const t = transport(up.url);
    const res = await t.request(request({ mode: 'sse', unstreamed: true }));
    assert.equal(res.kind, 'buffer');
    assert.equal(res.kind === 'buffer' ? res.body.toString() : '', '{"text":"hello"}');
    assert.match((await failure(t.request(request({ mode: 'sse' })))).upstream?.reason ?? '', /no events/);
    up.handle(sse([{ type: 'transcript.text.done', text: 'hi' }]));
    assert.equal((await t.request(request({ mode: 'sse', unstreamed: true }))).kind, 'sse', 'an event stream is still one');
    t.close();
  });

  test('idle timeout mid-stream throws from the iterator after the primed event', async () => {
    up.handle(sse([{ n: 1 }, { n: 2 }], { interval: 1_000 }));
    const quick = transport(up.url, { timeouts: { ...TIMEOUTS, idle: 50 } });
    const it = sseOf(await quick.request(request({ mode: 'sse' })));
    assert.deepEqual(await it.next(), { done: false, value: { data: '{"n":1}' } });
    const err = await failure(it.next());
    assert.deepEqual(err.upstream, { status: 0, reason: 'idle timeout after 50ms', timeout: true });
    assert.deepEqual(await it.next(), { done: true, value: undefined });
    quick.close();
  });

  test('first byte timeout also covers the wait for the first event', async () => {
    up.handle((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(': keep-alive\n\n'); // a comment is not an event
    });
    const quick = transport(up.url, { timeouts: { ...TIMEOUTS, first_byte: 80 } });
    const err = await failure(quick.request(request({ mode: 'sse' })));
    assert.equal(err.upstream?.reason, 'first byte timeout after 80ms');
    quick.close();
  });

  test('non-2xx: reason from error.message, upstream status kept, MeshError stays 502', async () => {
    up.handle(json(503, { error: { message: 'That model is   overloaded.', type: 'server_error' } }, { 'retry-after': '2' }));
    const err = await failure(t.request(request()));
    assert.equal(err.status, 502);
    assert.deepEqual(withoutHeaders(err.upstream), { status: 503, reason: '503 That model is overloaded.', retryAfterMs: 2_000 });
  });

  test('non-2xx: retry-after-ms wins, HTTP dates work, no message gives the status text', async () => {
    up.handle(json(429, { error: { message: 'slow down' } }, { 'retry-after-ms': '1500.5', 'retry-after': '9' }));
    assert.equal((await failure(t.request(request()))).upstream?.retryAfterMs, 1500.5);
    const date = new Date(Date.now() + 120_000).toUTCString();
    up.handle((_req, res) => {
      res.writeHead(503, { 'retry-after': date, 'content-type': 'text/html' });
      res.end('<html>busy</html>');
    });
    const err = await failure(t.request(request({ mode: 'sse' })));
    assert.equal(err.upstream?.reason, '503 Service Unavailable');
    const ms = err.upstream?.retryAfterMs ?? 0;
    assert.ok(ms > 100_000 && ms <= 120_000, String(ms));
  });

  test('non-2xx: long messages are cut, huge bodies are bounded', async () => {
    up.handle(json(400, { error: { message: 'x'.repeat(500) } }));
    const reason = (await failure(t.request(request()))).upstream?.reason ?? '';
    assert.equal(reason, `400 ${'x'.repeat(200)}…`);
    up.handle(text(500, 'y'.repeat(200_000), 'text/plain'));
    assert.equal((await failure(t.request(request()))).upstream?.reason, '500 Internal Server Error');
  });

  test('priming: a stream that fails before the first event rejects', async () => {
    up.handle(sse([{ n: 1 }], { dropAfter: 0 }));
    assert.equal((await failure(t.request(request({ mode: 'sse' })))).upstream?.reason, 'upstream closed the connection');
    up.handle(sse([], { done: false }));
    assert.equal((await failure(t.request(request({ mode: 'sse' })))).upstream?.reason, 'upstream sent no events');
    up.handle(bytes(200, [], 'audio/wav'));
    assert.equal((await failure(t.request(request({ mode: 'bytes' })))).upstream?.reason, 'upstream sent an empty body');
  });

  test('priming: after the first event a dropped stream throws from the iterator', async () => {
    up.handle(sse([{ n: 1 }, { n: 2 }, { n: 3 }], { dropAfter: 2, interval: 20 }));
    const it = sseOf(await t.request(request({ mode: 'sse' })));
    assert.deepEqual(await it.next(), { done: false, value: { data: '{"n":1}' } });
    assert.deepEqual(await it.next(), { done: false, value: { data: '{"n":2}' } });
    const err = await failure(it.next());
    assert.equal(err.code, 'upstream_error');
    assert.deepEqual(err.upstream, { status: 0, reason: 'upstream closed the connection' });
  });

  test('sse: all events in order then [DONE], with a slow consumer (backpressure)', async () => {
    const events = Array.from({ length: 400 }, (_, n) => ({ n, pad: 'z'.repeat(200) }));
    up.handle(sse(events));
    const it = sseOf(await t.request(request({ mode: 'sse' })));
    const got: string[] = [];
    for (let r = await it.next(); r.done !== true; r = await it.next()) {
      got.push(r.value.data);
      if (got.length % 50 === 0) await new Promise((res) => setTimeout(res, 5));
    }
    assert.equal(got.length, 401);
    assert.equal(got[0], JSON.stringify(events[0]));
    assert.equal(got[399], JSON.stringify(events[399]));
    assert.equal(got[400], '[DONE]');
  });

  test('bytes mode yields the primed chunk first, then the rest', async () => {
    up.handle(bytes(200, [Buffer.from('RIFF'), Buffer.from('WAVE')], 'audio/wav', { interval: 10 }));
    const res = await t.request(request({ mode: 'bytes' }));
    assert.equal(res.kind, 'bytes');
    assert.equal(res.contentType, 'audio/wav');
    if (res.kind !== 'bytes') return;
    assert.equal(Buffer.concat(await drain(res.chunks)).toString(), 'RIFFWAVE');
  });

  test('abort before the answer destroys the upstream socket within 100 ms and rejects cancelled', async () => {
    up.handle(hang());
    const ac = new AbortController();
    const n = up.requests.length;
    const p = t.request(request({ signal: ac.signal }));
    while (up.requests.length === n) await new Promise((r) => setTimeout(r, 2));
    const closed = up.onSocketClose();
    const started = performance.now();
    ac.abort();
    const err = await failure(p);
    assert.equal(err.code, 'cancelled');
    assert.equal(err.message, 'client closed the request');
    await closed;
    assert.ok(performance.now() - started <= 100, 'upstream socket closed within 100 ms');
  });

  test('abort mid-stream: the iterator throws cancelled and the socket closes', async () => {
    up.handle(sse([{ n: 1 }, { n: 2 }], { interval: 5_000 }));
    const ac = new AbortController();
    const it = sseOf(await t.request(request({ mode: 'sse', signal: ac.signal })));
    await it.next();
    const closed = up.onSocketClose();
    const pending = it.next();
    ac.abort();
    assert.equal((await failure(pending)).code, 'cancelled');
    await closed;
  });

  test('an already aborted signal sends nothing', async () => {
    const n = up.requests.length;
    const err = await failure(t.request(request({ signal: AbortSignal.abort() })));
    assert.equal(err.code, 'cancelled');
    assert.equal(up.requests.length, n);
  });

  test('close() (and iterator return) destroys the upstream request; idempotent', async () => {
    up.handle(sse([{ n: 1 }, { n: 2 }], { interval: 5_000 }));
    const res = await t.request(request({ mode: 'sse' }));
    const closed = up.onSocketClose();
    if (res.kind !== 'sse') return assert.fail('sse expected');
    res.close();
    res.close();
    await closed;
    assert.deepEqual(await res.events.next(), { done: true, value: undefined });
    assert.deepEqual(await sseOf(await t.request(request({ mode: 'sse' }))).return?.(), { done: true, value: undefined });
  });

  test('keep-alive: 50 sequential calls use at most 2 upstream sockets (errors and streams too)', async () => {
    const fresh = await startFakeUpstream();
    const k = transport(fresh.url);
    for (let i = 0; i < 30; i++) await k.request(request());
    fresh.handle(json(503, { error: { message: 'busy' } }));
    for (let i = 0; i < 10; i++) await failure(k.request(request()));
    fresh.handle(sse([{ n: 1 }]));
    for (let i = 0; i < 10; i++) await drain(sseOf(await k.request(request({ mode: 'sse' }))));
    assert.equal(fresh.requests.length, 50);
    assert.ok(fresh.connections <= 2, `${fresh.connections} sockets`);
    k.close();
    await fresh.close();
  });

  test('2,000 sequential requests sharing one signal leak no listeners', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    up.handle(json(200, { ok: true }));
    const ac = new AbortController();
    for (let i = 0; i < 2_000; i++) await t.request(request({ signal: ac.signal }));
    up.handle(sse([{ n: 1 }]));
    for (let i = 0; i < 200; i++) await drain(sseOf(await t.request(request({ signal: ac.signal, mode: 'sse' }))));
    await new Promise((r) => setImmediate(r));
    process.off('warning', onWarning);
    assert.deepEqual(warnings.map((w) => w.name), []);
  });

  test('invalid base URLs are config errors (the schema checks base_url once; the transport trusts it)', () => {
    const build = (baseUrl: string) => () => buildConfig({ providers: { x: { connector: 'openai.llm.v1', base_url: baseUrl } } }, { source: null, env: {}, baseDir: '/' });
    assert.throws(build('not a url'), (e: unknown) => e instanceof ConfigError && e.code === 'config_invalid' && e.path === 'providers.x.base_url');
    assert.throws(build('ftp://x/v1'), /providers\.x\.base_url: expected an http\(s\) URL, got "ftp:\/\/x\/v1"/);
  });

  test('invalid header values fail the attempt instead of throwing', async () => {
    const err = await failure(t.request(request({ headers: { 'x-bad': 'a\r\nb' } })));
    assert.match(err.upstream?.reason ?? '', /^invalid request: /);
  });
});
}
