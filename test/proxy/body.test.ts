// body.ts and respond.ts against a real node:http server (no mesh needed: a stub carries the limits).
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { test, type TestContext } from 'node:test';
import { MeshError } from '../../src/errors.ts';
import type { RequestContext } from '../../src/proxy/context.ts';
import { readJson, readRaw, requireJsonType } from '../../src/proxy/body.ts';
import { findJsonError } from '../../src/lib/json-syntax.ts';
import { errorHeaders, sendError, sendJson } from '../../src/proxy/respond.ts';
import { closeServer, listen } from '../helpers/listen.ts';
import { captureLogger, errorOf, request } from '../helpers/proxy.ts';

const LIMIT = 1024;

type Body = (ctx: RequestContext) => Promise<void>;

async function serve(t: TestContext, body: Body, logger = captureLogger().logger): Promise<string> {
  const stubMesh = { config: { proxy: { limits: { max_body: LIMIT } } }, redact: (s: string) => s.replaceAll('sk-secret', '[REDACTED]') };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const ctx = {
      req, res, mesh: stubMesh, requestId: 'req_test', params: {}, signal: new AbortController().signal,
      startedAt: 0, logger, baseHeaders: { 'x-request-id': 'req_test' },
    } as unknown as RequestContext;
    body(ctx).catch((err: unknown) => sendError(ctx, err));
  });
  const url = await listen(server);
  t.after(() => closeServer(server));
  return url;
}

const echoJson: Body = async (ctx) => sendJson(ctx, 200, { got: await readJson(ctx) });
const json = { 'content-type': 'application/json' };

test('readJson parses an object and sendJson answers with length, type and base headers', async (t) => {
  const url = await serve(t, echoJson);
  const r = await request(url, { method: 'POST', headers: json, body: '{"a":[1,2],"b":"é"}' });
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, { got: { a: [1, 2], b: 'é' } });
  assert.equal(r.headers['content-type'], 'application/json');
  assert.equal(r.headers['content-length'], String(Buffer.byteLength(r.body)));
  assert.equal(r.headers['x-request-id'], 'req_test');
});

test('charset parameters, +json types and a UTF-8 BOM are accepted', async (t) => {
  const url = await serve(t, echoJson);
  const a = await request(url, { method: 'POST', headers: { 'content-type': 'application/json; charset=utf-8' }, body: '{"x":1}' });
  assert.equal(a.status, 200);
  const b = await request(url, { method: 'POST', headers: { 'content-type': 'application/merge-patch+json' }, body: '\ufeff{"x":2}' });
  assert.deepEqual(b.json, { got: { x: 2 } });
});

test('415 for form bodies (curl -d) and for a missing Content-Type', async (t) => {
  const url = await serve(t, echoJson);
  const form = await request(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '{"x":1}' });
  assert.equal(form.status, 415);
  const e = errorOf(form);
  assert.equal(e.code, 'unsupported_media_type');
  assert.match(e.message, /application\/x-www-form-urlencoded/);
  assert.match(e.message, /Content-Type: application\/json/);
  const none = await request(url, { method: 'POST', body: '{"x":1}' });
  assert.equal(none.status, 415);
  assert.match(errorOf(none).message, /no Content-Type/);
  assert.throws(() => requireJsonType('text/json'), MeshError);
  assert.doesNotThrow(() => requireJsonType('Application/JSON'));
  // Remembering the last accepted type lets nothing else through, after it or in turn with it.
  for (let i = 0; i < 3; i++) {
    assert.doesNotThrow(() => requireJsonType('application/json; charset=utf-8'));
    assert.throws(() => requireJsonType('application/x-www-form-urlencoded'), MeshError);
    assert.throws(() => requireJsonType(undefined), MeshError);
    assert.throws(() => requireJsonType(''), MeshError);
  }
});

test('a Content-Encoding other than identity is a 415 (a gzip body was "invalid JSON" at byte 0, a br label on plain JSON taken silently)', async (t) => {
  const url = await serve(t, echoJson);
  const gz = await request(url, { method: 'POST', headers: { ...json, 'content-encoding': 'gzip' }, body: gzipSync('{"x":1}') });
  assert.equal(gz.status, 415);
  assert.equal(errorOf(gz).code, 'unsupported_media_type');
  assert.match(errorOf(gz).message, /Content-Encoding 'gzip' is not accepted; send the body uncompressed/);
  const br = await request(url, { method: 'POST', headers: { ...json, 'content-encoding': 'br' }, body: '{"x":1}' });
  assert.equal(br.status, 415);
  const identity = await request(url, { method: 'POST', headers: { ...json, 'content-encoding': 'identity' }, body: '{"x":1}' });
  assert.equal(identity.status, 200);
});

test('invalid JSON: 400 invalid_json saying where', async (t) => {
  const url = await serve(t, echoJson);
  const r = await request(url, { method: 'POST', headers: json, body: '{"a":1,\n "b": }' });
  assert.equal(r.status, 400);
  const e = errorOf(r);
  assert.equal(e.code, 'invalid_json');
  assert.equal(e.type, 'invalid_request_error');
  assert.equal(e.param, null);
  assert.match(e.message, /We could not parse the JSON body/);
  assert.match(e.message, /line 2 column \d+/);
  assert.equal(r.headers['x-should-retry'], 'false');
});

test('empty body and non-object JSON are 400s', async (t) => {
  const url = await serve(t, echoJson);
  const empty = await request(url, { method: 'POST', headers: json, body: '' });
  assert.equal(errorOf(empty).code, 'invalid_json');
  const array = await request(url, { method: 'POST', headers: json, body: '[1,2]' });
  assert.equal(array.status, 400);
  assert.equal(errorOf(array).code, 'invalid_request');
  assert.match(errorOf(array).message, /must be a JSON object, got an array/);
  const num = await request(url, { method: 'POST', headers: json, body: '42' });
  assert.match(errorOf(num).message, /got a number/);
});

test('413 before reading when Content-Length is over the limit, with Connection: close', async (t) => {
  const url = await serve(t, echoJson);
  const r = await request(url, { method: 'POST', headers: json, body: Buffer.alloc(LIMIT + 1, 32) });
  assert.equal(r.status, 413);
  const e = errorOf(r);
  assert.equal(e.code, 'body_too_large');
  assert.equal(e.message, `Maximum content size limit (${LIMIT}) exceeded`);
  assert.equal(r.headers['connection'], 'close');
});

test('413 while reading a chunked body that passes the limit; the server keeps serving', async (t) => {
  const url = await serve(t, echoJson);
  const chunks = Array.from({ length: 8 }, () => Buffer.alloc(512, 32));
  const r = await request(url, { method: 'POST', headers: json, body: chunks });
  assert.equal(r.status, 413);
  assert.match(errorOf(r).message, /^Maximum content size limit \(1024\) exceeded \(\d+ bytes read\)$/);
  const ok = await request(url, { method: 'POST', headers: json, body: '{"after":true}' });
  assert.deepEqual(ok.json, { got: { after: true } });
});

test('Expect: 100-continue with an oversized length is refused without 100 Continue', async (t) => {
  const stubMesh = { config: { proxy: { limits: { max_body: LIMIT } } }, redact: (s: string) => s };
  const server = createServer();
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const ctx = { req, res, mesh: stubMesh, requestId: 'r', params: {}, logger: captureLogger().logger, baseHeaders: {} } as unknown as RequestContext;
    echoJson(ctx).catch((err: unknown) => sendError(ctx, err));
  };
  server.on('request', handle);
  server.on('checkContinue', handle);
  const url = await listen(server);
  t.after(() => closeServer(server));
  const { port } = new URL(url);
  const socket = connect(Number(port), '127.0.0.1');
  t.after(() => socket.destroy());
  socket.write(`POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 999999\r\nExpect: 100-continue\r\n\r\n`);
  let text = '';
  for await (const chunk of socket) {
    text += String(chunk);
    if (text.includes('}}')) break;
  }
  assert.match(text, /^HTTP\/1\.1 413/);
  assert.ok(!text.includes('100 Continue'));
});

test('readRaw yields chunks up to the limit, then 413', async (t) => {
  const url = await serve(t, async (ctx) => {
    let n = 0;
    for await (const chunk of readRaw(ctx, LIMIT)) n += chunk.length;
    sendJson(ctx, 200, { bytes: n });
  });
  const ok = await request(url, { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=x' }, body: [Buffer.alloc(600), Buffer.alloc(400)] });
  assert.deepEqual(ok.json, { bytes: 1000 });
  const big = await request(url, { method: 'POST', body: [Buffer.alloc(600), Buffer.alloc(600)] });
  assert.equal(big.status, 413);
  assert.equal(big.headers['connection'], 'close');
  const declared = await request(url, { method: 'POST', body: Buffer.alloc(LIMIT + 10) });
  assert.equal(declared.status, 413);
});

test('sendError: unknown errors become a generic 500, logged with the request id and redacted', async (t) => {
  const { logger, records } = captureLogger();
  const url = await serve(t, async () => {
    throw new Error('db password sk-secret leaked at /src/x.ts:1');
  }, logger);
  const r = await request(url);
  assert.equal(r.status, 500);
  const e = errorOf(r);
  assert.equal(e.type, 'server_error');
  assert.ok(!r.body.includes('sk-secret'));
  assert.ok(!r.body.includes('x.ts'));
  const logged = records.find((rec) => rec.msg === 'unhandled error');
  assert.ok(logged);
  assert.equal(logged.fields?.['request_id'], 'req_test');
  assert.ok(!JSON.stringify(logged.fields).includes('sk-secret'));
  assert.match(JSON.stringify(logged.fields), /\[REDACTED\]/);
});

test('sendError: a MeshError keeps status and headers (Retry-After) and gets x-should-retry on 4xx only', async (t) => {
  const url = await serve(t, async (ctx) => {
    const which = ctx.req.url;
    if (which === '/429') throw new MeshError('rate_limit_exceeded', 'slow down', { headers: { 'Retry-After': '7' } });
    if (which === '/404') throw new MeshError('model_not_found', 'no such model', { param: 'model' });
    throw new MeshError('upstream_error', 'all failed');
  });
  const limited = await request(`${url}/429`);
  assert.equal(limited.status, 429);
  assert.equal(limited.headers['retry-after'], '7');
  assert.equal(limited.headers['x-should-retry'], undefined);
  const missing = await request(`${url}/404`);
  assert.equal(missing.status, 404);
  assert.equal(missing.headers['x-should-retry'], 'false');
  assert.deepEqual(errorOf(missing), { message: 'no such model', type: 'invalid_request_error', param: 'model', code: 'model_not_found' });
  const bad = await request(`${url}/502`);
  assert.equal(bad.status, 502);
  assert.equal(bad.headers['x-should-retry'], undefined);
  assert.equal(bad.headers['x-request-id'], 'req_test');
});

test('sendError after headers were sent destroys the socket', async (t) => {
  const url = await serve(t, async (ctx) => {
    ctx.res.writeHead(200, { 'content-type': 'text/event-stream' });
    ctx.res.write('data: 1\n\n');
    throw new Error('mid-stream');
  });
  await assert.rejects(request(url), /aborted|socket hang up|ECONNRESET/);
});

test('errorHeaders: 408/409/429 are left to the SDK retry logic', () => {
  assert.equal(errorHeaders(new MeshError('invalid_request', 'x', { status: 409 }))['x-should-retry'], undefined);
  assert.equal(errorHeaders(new MeshError('invalid_request', 'x'))['x-should-retry'], 'false');
  assert.equal(errorHeaders(new MeshError('method_not_allowed', 'x', { headers: { Allow: 'POST' } }))['allow'], 'POST');
});

test('findJsonError locates the first syntax error', () => {
  assert.equal(findJsonError('{"a":[1,2,{"b":null}]}'), null);
  assert.deepEqual(findJsonError('{"a":1,\n "b": }'), { line: 2, column: 7, reason: 'unexpected character "}"' });
  assert.deepEqual(findJsonError('{"a" 1}'), { line: 1, column: 6, reason: "expected ':', found \"1\"" });
  assert.equal(findJsonError('{"a":1')?.reason, 'unexpected end of input');
  assert.equal(findJsonError('{"a":"x\ny"}')?.reason, 'control character in string (escape it, e.g. \\n)');
  assert.equal(findJsonError('{"a":"\\q"}')?.reason, 'invalid escape sequence in string');
  assert.equal(findJsonError('{"a":01}')?.column, 7);
  assert.equal(findJsonError('{} x')?.reason, 'unexpected "x" after the JSON value');
  assert.equal(findJsonError("{'a':1}")?.reason, 'expected a string in double quotes, found "\'"');
  assert.equal(findJsonError('[1,]')?.column, 4);
});
