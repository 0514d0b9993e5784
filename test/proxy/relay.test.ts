// The relay of a committed answer (src/proxy/relay.ts) over a real node:http server and client: buffered,
// SSE (filter, [DONE], release, mid-stream in-band error) and bytes (cut on failure).
import assert from 'node:assert/strict';
import { createServer, get, type IncomingMessage, type ServerResponse } from 'node:http';
import { test, type TestContext } from 'node:test';
import { MeshError } from '../../src/errors.ts';
import { CancelToken } from '../../src/lib/cancel.ts';
import type { SseEvent } from '../../src/lib/sse.ts';
import type { FinishInfo, Routed } from '../../src/mesh/router.ts';
import type { ModelEntry } from '../../src/mesh/types.ts';
import type { ProviderResponse } from '../../src/providers/provider.ts';
import type { RequestContext } from '../../src/proxy/context.ts';
import { relayBuffered, relayBytes, relaySse, type SseFilter } from '../../src/proxy/relay.ts';
import { captureLogger } from '../helpers/proxy.ts';
import { closeServer, collect, listen } from '../helpers/listen.ts';

interface Relayed {
  res: IncomingMessage;
  body: string;
  /** The client saw the connection cut before the end of the body. */
  aborted: boolean;
  finished: FinishInfo[];
  warnings: number;
}

/** Serves one request by `relay(ctx, routed)` and returns what the client received. */
async function relayOnce(t: TestContext, response: ProviderResponse, relay: (ctx: RequestContext, routed: Routed) => Promise<void> | void): Promise<Relayed> {
  const finished: FinishInfo[] = [];
  const { logger, records } = captureLogger();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const ctx = {
      req, res, requestId: 'req-relay', params: {}, signal: new CancelToken(), startedAt: performance.now(), logger,
      baseHeaders: { 'x-request-id': 'req-relay' },
      mesh: { redact: (text: string) => text.replaceAll('sk-secret', '[REDACTED]') },
    } as unknown as RequestContext;
    const routed: Routed = {
      response, pool: 'chat', model: { id: 'up.model' } as ModelEntry, native: false, headers: { 'x-modelmesh-model': 'up.model' },
      finish: (info) => finished.push(info),
    };
    void relay(ctx, routed);
  });
  const base = await listen(server);
  t.after(() => closeServer(server));
  const res = await new Promise<IncomingMessage>((resolve, reject) => get(`${base}/`, resolve).on('error', reject));
  let aborted = false;
  const body = await collect(res).then((b) => b.toString('utf8'), () => ((aborted = true), ''));
  if (!res.complete) aborted = true;
  return { res, body, aborted, finished, warnings: records.filter((r) => r.level === 'warn').length };
}

async function* iterate<T>(items: readonly T[], failAfter?: Error): AsyncGenerator<T> {
  for (const item of items) yield item;
  if (!failAfter) return;
  // Fail a moment later, as a real upstream does: what was relayed is on the wire before the cut.
  await new Promise((r) => setTimeout(r, 20));
  throw failAfter;
}

function sseResponse(events: readonly SseEvent[], closed: string[], failAfter?: Error): ProviderResponse {
  return {
    kind: 'sse', status: 200, headers: {}, contentType: 'text/event-stream', events: iterate(events, failAfter),
    close: () => void closed.push('close'), release: () => void closed.push('release'),
  };
}

const noFilter = (usage: { prompt_tokens: number; completion_tokens: number } | null = null): SseFilter => ({ keep: () => true, usage: () => usage });

test('buffered: status, base and routing headers, content type and length, usage read from the body', async (t) => {
  const body = Buffer.from('{"usage":{"prompt_tokens":3,"completion_tokens":4}}');
  const r = await relayOnce(t, { kind: 'buffer', status: 201, headers: {}, contentType: 'application/json', body }, (ctx, routed) =>
    relayBuffered(ctx, routed, () => ({ prompt_tokens: 3, completion_tokens: 4 })));
  assert.equal(r.res.statusCode, 201);
  assert.equal(r.res.headers['x-request-id'], 'req-relay');
  assert.equal(r.res.headers['x-modelmesh-model'], 'up.model');
  assert.equal(r.res.headers['content-type'], 'application/json');
  assert.equal(r.res.headers['content-length'], String(body.length));
  assert.equal(r.body, body.toString('utf8'));
  assert.equal(r.finished.length, 1);
  assert.deepEqual(r.finished[0]?.usage, { prompt_tokens: 3, completion_tokens: 4 });
  assert.equal(r.finished[0]?.body, body);
});

test('buffered: a usage reader that throws records no usage, and the answer still goes out', async (t) => {
  const r = await relayOnce(t, { kind: 'buffer', status: 200, headers: {}, contentType: 'text/plain', body: Buffer.from('hi') }, (ctx, routed) =>
    relayBuffered(ctx, routed, () => {
      throw new Error('not json');
    }));
  assert.equal(r.body, 'hi');
  assert.equal(r.finished[0]?.usage, null);
});

test('sse: events in order with OpenAI framing, dropped ones left out, ends at [DONE] and releases the upstream', async (t) => {
  const closed: string[] = [];
  const events = [{ data: '{"n":1}' }, { data: 'drop me' }, { data: 'a\nb', event: 'x' }, { data: '[DONE]' }, { data: 'after done' }];
  const filter: SseFilter = { keep: (e) => e.data !== 'drop me', usage: () => ({ prompt_tokens: 1, completion_tokens: 2 }) };
  const r = await relayOnce(t, sseResponse(events, closed), (ctx, routed) => relaySse(ctx, routed, filter));
  assert.equal(r.res.headers['content-type'], 'text/event-stream; charset=utf-8');
  assert.equal(r.res.headers['x-accel-buffering'], 'no');
  assert.equal(r.body, 'data: {"n":1}\n\nevent: x\ndata: a\ndata: b\n\ndata: [DONE]\n\n');
  assert.deepEqual(closed, ['release']);
  assert.equal(r.finished.length, 1);
  assert.deepEqual(r.finished[0]?.usage, { prompt_tokens: 1, completion_tokens: 2 });
  assert.equal(r.finished[0]?.error, undefined);
  assert.equal(typeof r.finished[0]?.ttfbMs, 'number');
});

test('sse: a mid-stream failure is one in-band error event (redacted), no [DONE], the upstream closed', async (t) => {
  const closed: string[] = [];
  const failure = new MeshError('upstream_error', 'reset', { upstream: { status: 0, reason: 'connection reset (key sk-secret)' } });
  const r = await relayOnce(t, sseResponse([{ data: '{"n":1}' }], closed, failure), (ctx, routed) => relaySse(ctx, routed, noFilter()));
  const blocks = r.body.split('\n\n').filter((b) => b !== '');
  assert.equal(blocks.length, 2);
  assert.equal(blocks[0], 'data: {"n":1}');
  const error = JSON.parse((blocks[1] ?? '').replace(/^data: /, '')) as { error: Record<string, unknown> };
  assert.deepEqual(error, { error: { message: 'The upstream model up.model failed mid-stream: connection reset (key [REDACTED])', type: 'server_error', param: null, code: 'upstream_error' } });
  assert.ok(!r.body.includes('[DONE]'));
  assert.deepEqual(closed, ['close']);
  assert.equal(r.finished[0]?.error?.code, 'upstream_error');
  assert.equal(r.warnings, 1);
});

test('sse: a stream that ends without [DONE] is a failure unless the filter says it is complete', async (t) => {
  const closed: string[] = [];
  const r = await relayOnce(t, sseResponse([{ data: '{"n":1}' }], closed), (ctx, routed) => relaySse(ctx, routed, noFilter()));
  assert.match(r.body, /failed mid-stream: stream ended before \[DONE\]/);
  assert.equal(r.finished[0]?.error?.upstream?.reason, 'stream ended before [DONE]');
  const done: string[] = [];
  const complete: SseFilter = { ...noFilter(), complete: () => true };
  const ok = await relayOnce(t, sseResponse([{ data: '{"type":"speech.audio.done"}' }], done), (ctx, routed) => relaySse(ctx, routed, complete));
  assert.equal(ok.body, 'data: {"type":"speech.audio.done"}\n\n');
  assert.equal(ok.finished[0]?.error, undefined);
  assert.deepEqual(done, ['release']);
});

test('bytes: chunks as they come with the upstream content length; a failure cuts the connection', async (t) => {
  const chunks = [Buffer.from('RIFF'), Buffer.from('data')];
  const closed: string[] = [];
  const make = (fail?: Error): ProviderResponse => ({
    kind: 'bytes', status: 200, headers: { 'content-length': '8' }, contentType: 'audio/wav', chunks: iterate(chunks, fail),
    close: () => void closed.push('close'),
  });
  const usage = { prompt_tokens: 2, completion_tokens: 0 };
  const ok = await relayOnce(t, make(), (ctx, routed) => relayBytes(ctx, routed, usage));
  assert.equal(ok.res.headers['content-type'], 'audio/wav');
  assert.equal(ok.res.headers['content-length'], '8');
  assert.equal(ok.body, 'RIFFdata');
  assert.deepEqual(ok.finished[0]?.usage, usage);
  assert.equal(ok.aborted, false);
  const cut = await relayOnce(t, { ...make(new MeshError('upstream_error', 'reset')), headers: {} }, (ctx, routed) => relayBytes(ctx, routed, usage));
  assert.equal(cut.aborted, true, 'the client sees a truncated body');
  assert.equal(cut.res.statusCode, 200);
  assert.deepEqual(closed, ['close']);
  assert.equal(cut.finished[0]?.error?.code, 'upstream_error');
});
