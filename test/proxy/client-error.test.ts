// Issue 11.6: what node:http's parser refuses is answered OpenAI-shaped, then the socket closes; and
// issue 11.5: proxy.timeouts.headers/request fire within about a second of the configured value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clientErrorFor } from '../../src/proxy/client-error.ts';
import { rawExchange, rawSend, type RawReply } from '../helpers/raw-http.ts';
import { simulatedConfig, startProxy } from '../helpers/proxy.ts';

function assertOpenAiError(reply: RawReply, status: number): void {
  assert.equal(reply.status, status, reply.raw.slice(0, 300));
  assert.match(reply.headers['content-type'] ?? '', /application\/json/);
  const err = (reply.json as { error?: Record<string, unknown> } | undefined)?.error;
  assert.ok(err !== undefined, `an OpenAI error body: ${reply.raw.slice(0, 300)}`);
  assert.deepEqual(Object.keys(err).sort(), ['code', 'message', 'param', 'type']);
  assert.equal(typeof err['message'], 'string');
}

const CHAT = '{"model":"sim.chat","messages":[{"role":"user","content":"hi"}]}';

const CASES: [string, string, number][] = [
  ['Content-Length with Transfer-Encoding', `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${CHAT.length}\r\nTransfer-Encoding: chunked\r\n\r\n${CHAT}`, 400],
  ['duplicate Content-Length', `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n{}`, 400],
  ['invalid Content-Length', 'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1x\r\n\r\n{}', 400],
  ['bad chunked encoding', 'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n', 400],
  ['unknown method', 'BREW /v1/models HTTP/1.1\r\nHost: x\r\n\r\n', 400],
  ['missing Host', 'GET /v1/models HTTP/1.1\r\n\r\n', 400],
  ['oversized headers', `GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
  ['garbage request line', 'HELLO\r\n\r\n', 400],
];

test('parser errors get an OpenAI-shaped JSON error, then the socket closes', async (t) => {
  const proxy = await startProxy(simulatedConfig());
  t.after(() => proxy.close());
  for (const [name, data, status] of CASES) {
    const reply = await rawSend(proxy.port, data);
    assertOpenAiError(reply, status);
    assert.equal(reply.headers['connection'], 'close', name);
    assert.ok(reply.closedAfterMs < 4_000, `${name}: closed after ${reply.closedAfterMs} ms`);
  }
  // The proxy still serves normal requests afterwards.
  const ok = await rawSend(proxy.port, 'GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.equal(ok.status, 200);
});

test('clientErrorFor: timeouts are 408, header overflow 431, anything else 400', () => {
  assert.equal(clientErrorFor('ERR_HTTP_REQUEST_TIMEOUT').status, 408);
  assert.equal(clientErrorFor('HPE_HEADER_OVERFLOW').status, 431);
  assert.equal(clientErrorFor('HPE_CHUNK_EXTENSIONS_OVERFLOW').status, 413);
  assert.match(clientErrorFor(undefined).message, /unparseable request/);
  assert.match(clientErrorFor('HPE_SOMETHING_NEW').message, /HPE_SOMETHING_NEW/);
});

test('proxy.timeouts.headers 1s: a slowloris socket gets a 408 within about a second of the limit', async (t) => {
  const proxy = await startProxy(simulatedConfig({ proxy: { timeouts: { headers: '1s', request: '2s' } } }));
  t.after(() => proxy.close());
  const reply = await rawExchange(proxy.port, async (socket) => {
    // One header byte every 100 ms, never finishing the headers.
    socket.write('POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    const timer = setInterval(() => socket.writable && socket.write('a'), 100);
    socket.once('close', () => clearInterval(timer));
  }, 6_000);
  assertOpenAiError(reply, 408);
  assert.ok(reply.closedAfterMs >= 900 && reply.closedAfterMs < 2_200, `closed after ${Math.round(reply.closedAfterMs)} ms`);
});

test('proxy.timeouts.request 2s: a body that never finishes gets a 408 within about a second of the limit', async (t) => {
  const proxy = await startProxy(simulatedConfig({ proxy: { timeouts: { headers: '1s', request: '2s' } } }));
  t.after(() => proxy.close());
  const reply = await rawExchange(proxy.port, async (socket) => {
    socket.write('POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"model":');
    const timer = setInterval(() => socket.writable && socket.write(' '), 100);
    socket.once('close', () => clearInterval(timer));
  }, 6_000);
  assertOpenAiError(reply, 408);
  assert.ok(reply.closedAfterMs >= 1_900 && reply.closedAfterMs < 3_200, `closed after ${Math.round(reply.closedAfterMs)} ms`);
});

test('an error answered mid-request (the body broke or timed out) carries the request id and the CORS headers like every answer', async (t) => {
  const proxy = await startProxy(simulatedConfig({ proxy: { cors: { enabled: true, origins: ['*'] }, timeouts: { headers: '1s', request: '1s' } } }));
  t.after(() => proxy.close());
  const timedOut = await rawExchange(proxy.port, async (socket) => {
    socket.write('POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nOrigin: https://app.example\r\nX-Request-Id: my-id-2\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"model":');
  }, 6_000);
  assertOpenAiError(timedOut, 408);
  assert.equal(timedOut.headers['x-request-id'], 'my-id-2');
  assert.equal(timedOut.headers['access-control-allow-origin'], '*');
  const broken = await rawSend(proxy.port, 'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nOrigin: https://app.example\r\nX-Request-Id: my-id-3\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n');
  assertOpenAiError(broken, 400);
  assert.equal(broken.headers['x-request-id'], 'my-id-3');
  assert.equal(broken.headers['access-control-allow-origin'], '*');
});
