// One exchange (src/providers/http/exchange.ts) driven directly: ExchangeContext.open is plain http.request
// to a scripted fake upstream, so timers, priming, the empty-answer rules and cancellation are seen alone.
import assert from 'node:assert/strict';
import { request, type ClientRequest } from 'node:http';
import { describe, test } from 'node:test';
import type { ProviderTimeouts } from '../../../src/config/types.ts';
import { CancelToken } from '../../../src/lib/cancel.ts';
import { Exchange, type ExchangeContext } from '../../../src/providers/http/exchange.ts';
import type { TransportRequest } from '../../../src/providers/http/transport-request.ts';
import type { ProviderResponse } from '../../../src/providers/provider.ts';
import { hang, json, sse, startFakeUpstream, text, type FakeUpstream } from '../../helpers/fake-upstream.ts';
import { rejection } from '../../helpers/provider-call.ts';

const TIMEOUTS: ProviderTimeouts = { connect: 2_000, first_byte: 2_000, idle: 2_000, total: 10_000 };

function run(up: FakeUpstream, r: Partial<TransportRequest> = {}, timeouts: Partial<ProviderTimeouts> = {}, opened: ClientRequest[] = []): Promise<ProviderResponse> {
  const context: ExchangeContext = {
    id: 'up', timeouts: { ...TIMEOUTS, ...timeouts },
    open(req, body) {
      const client = request(`${up.url}${req.path}`, { method: req.method ?? 'POST', headers: { ...req.headers, 'content-length': String(body.reduce((n, b) => n + b.length, 0)) } });
      opened.push(client);
      return client;
    },
  };
  const full: TransportRequest = { path: '/chat/completions', mode: 'buffer', signal: new CancelToken(), body: Buffer.from('{"a":1}'), ...r };
  return new Promise((resolve, reject) => new Exchange(context, full, { resolve, reject }).start());
}

describe('exchange', () => {
  test('buffer: the whole body, status, headers; the content type defaults per mode', async (t) => {
    const up = await startFakeUpstream();
    t.after(() => up.close());
    up.handle(json(200, { ok: true }));
    const res = await run(up);
    assert.equal(res.kind, 'buffer');
    if (res.kind !== 'buffer') return;
    assert.equal(res.status, 200);
    assert.equal(res.contentType, 'application/json');
    assert.deepEqual(JSON.parse(res.body.toString('utf8')), { ok: true });
    assert.deepEqual(up.requests[0]?.json, { a: 1 });
    assert.equal(up.requests[0]?.path, '/v1/chat/completions');
  });

  test('non-2xx: upstream_error with the status, the upstream message as reason and the response headers', async (t) => {
    const up = await startFakeUpstream();
    t.after(() => up.close());
    up.handle(json(429, { error: { message: 'slow down' } }, { 'retry-after': '2' }));
    const err = await rejection(run(up));
    assert.equal(err.code, 'upstream_error');
    assert.equal(err.upstream?.status, 429);
    assert.match(err.upstream?.reason ?? '', /^429 slow down/);
    assert.equal(err.upstream?.retryAfterMs, 2_000);
    assert.equal(err.upstream?.headers?.['retry-after'], '2');
  });

  test('sse: primed on the first event; a stream with no events at all is a failure', async (t) => {
    const up = await startFakeUpstream();
    t.after(() => up.close());
    up.handle(sse([{ n: 1 }]));
    const res = await run(up, { mode: 'sse' });
    assert.equal(res.kind, 'sse');
    if (res.kind !== 'sse') return;
    const first = await res.events.next();
    assert.deepEqual([first.done, first.value?.data], [false, '{"n":1}']);
    assert.equal((await res.events.next()).value?.data, '[DONE]');
    assert.equal((await res.events.next()).done, true);
    up.handle(text(200, '', 'text/event-stream'));
    const empty = await rejection(run(up, { mode: 'sse' }));
    assert.equal(empty.upstream?.reason, 'upstream sent no events');
  });

  test('first byte timeout in sse mode: headers alone do not count, the call rejects as a timeout', async (t) => {
    const up = await startFakeUpstream();
    t.after(() => up.close());
    up.handle((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.flushHeaders();
    });
    const started = performance.now();
    const err = await rejection(run(up, { mode: 'sse' }, { first_byte: 100 }));
    assert.equal(err.upstream?.reason, 'first byte timeout after 100ms');
    assert.equal(err.upstream?.timeout, true);
    assert.ok(performance.now() - started < 1_000);
  });

  test('total timeout bounds an exchange that never answers, and the request is destroyed', async (t) => {
    const up = await startFakeUpstream();
    t.after(() => up.close());
    up.handle(hang());
    const opened: ClientRequest[] = [];
    const err = await rejection(run(up, {}, { total: 100, first_byte: 0 }, opened));
    assert.equal(err.upstream?.reason, 'total timeout after 100ms');
    assert.equal(opened[0]?.destroyed, true);
  });

  test('cancellation: an aborted signal never opens a request; an abort in flight destroys it', async (t) => {
    const up = await startFakeUpstream();
    t.after(() => up.close());
    up.handle(hang());
    const opened: ClientRequest[] = [];
    const before = new CancelToken();
    before.abort();
    assert.equal((await rejection(run(up, { signal: before }, {}, opened))).code, 'cancelled');
    assert.equal(opened.length, 0);
    const token = new CancelToken();
    const pending = run(up, { signal: token }, {}, opened);
    setTimeout(() => token.abort(), 30);
    assert.equal((await rejection(pending)).code, 'cancelled');
    assert.equal(opened[0]?.destroyed, true);
  });

  test('a request the client cannot build (a bad header) is an upstream failure, not a crash', async (t) => {
    const up = await startFakeUpstream();
    t.after(() => up.close());
    const err = await rejection(run(up, { headers: { 'x-bad': 'line\nbreak' } }));
    assert.equal(err.code, 'upstream_error');
    assert.match(err.upstream?.reason ?? '', /^invalid request: /);
    assert.equal(up.requests.length, 0);
  });
});
