// Fault suite, header abuse and slow clients (issue 11), over raw sockets: smuggling attempts (CL+TE,
// duplicate or odd Content-Length, bad chunked framing, a request hidden in a body), oversized headers, missing
// Host, unknown methods and garbage each get one OpenAI-shaped 4xx and a closed socket; no request reaches an
// upstream and the state stays as it was. Slowloris headers and endless bodies get a 408 near proxy.timeouts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { json, startFakeUpstream } from '../helpers/fake-upstream.ts';
import { postJson, startProxy } from '../helpers/proxy.ts';
import { rawExchange, rawSend, type RawReply } from '../helpers/raw-http.ts';
import { assertNone, FULL, isOpenAiError, meshFor, n, pool, size, summary, upstreamCalls } from './common.ts';

const BODY = '{"model":"text-generation","messages":[{"role":"user","content":"hi"}]}';
const HIDDEN = `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${BODY.length}\r\n\r\n${BODY}`;

function head(method: string, path: string, lines: string[]): string {
  return `${method} ${path} HTTP/1.1\r\n${lines.map((l) => `${l}\r\n`).join('')}\r\n`;
}

/** Raw requests no proper client sends, per JSON endpoint path. */
function abuses(path: string): [string, string][] {
  const ct = 'Content-Type: application/json';
  return [
    ['CL+TE', head('POST', path, ['Host: x', ct, `Content-Length: ${BODY.length}`, 'Transfer-Encoding: chunked']) + BODY],
    ['TE+CL smuggling a request', head('POST', path, ['Host: x', ct, 'Transfer-Encoding: chunked', 'Content-Length: 4']) + `0\r\n\r\n${HIDDEN}`],
    ['CL+TE smuggling a request', head('POST', path, ['Host: x', ct, 'Content-Length: 5', 'Transfer-Encoding: chunked']) + `0\r\n\r\n${HIDDEN}`],
    ['duplicate Content-Length', head('POST', path, ['Host: x', ct, 'Content-Length: 2', 'Content-Length: 3']) + '{}'],
    ['Content-Length list', head('POST', path, ['Host: x', ct, 'Content-Length: 2, 3']) + '{}'],
    ['negative Content-Length', head('POST', path, ['Host: x', ct, 'Content-Length: -1']) + '{}'],
    ['Content-Length with sign', head('POST', path, ['Host: x', ct, 'Content-Length: +2']) + '{}'],
    ['hex Content-Length', head('POST', path, ['Host: x', ct, 'Content-Length: 0x2']) + '{}'],
    ['TE xchunked', head('POST', path, ['Host: x', ct, 'Transfer-Encoding: xchunked']) + '0\r\n\r\n'],
    ['TE chunked, identity', head('POST', path, ['Host: x', ct, 'Transfer-Encoding: chunked, identity']) + '0\r\n\r\n'],
    ['TE with obs-fold', head('POST', path, ['Host: x', ct, 'Transfer-Encoding:', ' chunked']) + '0\r\n\r\n'],
    ['space before colon', head('POST', path, ['Host: x', ct, 'Transfer-Encoding : chunked']) + '0\r\n\r\n'],
    ['bad chunk size', head('POST', path, ['Host: x', ct, 'Transfer-Encoding: chunked']) + 'zz\r\n{}\r\n0\r\n\r\n'],
    ['chunk size overflow', head('POST', path, ['Host: x', ct, 'Transfer-Encoding: chunked']) + 'ffffffffffffffffff\r\n{}\r\n0\r\n\r\n'],
    ['chunk without CRLF', head('POST', path, ['Host: x', ct, 'Transfer-Encoding: chunked']) + '2\r\n{}XX0\r\n\r\n'],
    ['missing Host', head('POST', path, [ct, `Content-Length: ${BODY.length}`]) + BODY],
    ['two Host headers', head('POST', path, ['Host: x', 'Host: y', ct, `Content-Length: ${BODY.length}`]) + BODY],
    ['oversized header', head('POST', path, ['Host: x', ct, `X-Big: ${'a'.repeat(20_000)}`, 'Content-Length: 2']) + '{}'],
    ['many headers', head('POST', path, ['Host: x', ct, ...Array.from({ length: 3_000 }, (_, i) => `X-H${i}: v`), 'Content-Length: 2']) + '{}'],
    ['oversized URL', head('POST', `${path}?${'q'.repeat(20_000)}`, ['Host: x', ct, 'Content-Length: 2']) + '{}'],
    ['NUL in header value', head('POST', path, ['Host: x', ct, 'X-A: a\u0000b', 'Content-Length: 2']) + '{}'],
    ['CR in header value', head('POST', path, ['Host: x', ct, 'X-A: a\rb', 'Content-Length: 2']) + '{}'],
    ['header without colon', head('POST', path, ['Host: x', ct, 'Nonsense', 'Content-Length: 2']) + '{}'],
    ['bare LF line ends', `POST ${path} HTTP/1.1\nHost: x\n${ct}\nContent-Length: 2\n\n{}`],
    ['HTTP/2.0 request line', `POST ${path} HTTP/2.0\r\nHost: x\r\n\r\n`],
    ['HTTP/1.1x', `POST ${path} HTTP/1.1x\r\nHost: x\r\n\r\n`],
    ['unknown method', head('BREW', path, ['Host: x', 'Content-Length: 2']) + '{}'],
    ['lower-case method', head('post', path, ['Host: x', ct, 'Content-Length: 2']) + '{}'],
    ['method with space', head('PO ST', path, ['Host: x', 'Content-Length: 2']) + '{}'],
    ['known method, wrong route', head('PROPFIND', path, ['Host: x', 'Content-Length: 0', 'Connection: close'])],
    ['garbage request line', 'HELLO\r\n\r\n'],
    ['binary garbage', '\u0016\u0003\u0001\u0002\u0000\u0001\u0000\u01fc\u0003\u0003'],
    ['path without slash', head('POST', 'v1/chat/completions', ['Host: x', ct, 'Content-Length: 2']) + '{}'],
    ['Expect unknown', head('POST', path, ['Host: x', ct, 'Expect: 200-ok', 'Content-Length: 2']) + '{}'],
    ['Expect unknown, no body sent', head('POST', path, ['Host: x', ct, 'Expect: 200-ok', 'Content-Length: 2'])],
  ];
}

const PATHS = ['/v1/chat/completions', '/v1/embeddings', '/v1/audio/speech', '/v1/images/generations', '/v1/audio/transcriptions'];

test('header abuse and smuggling: one OpenAI-shaped 4xx each, socket closed, 0 upstream calls, 0 state changes', async (t) => {
  const ups = [await startFakeUpstream(), await startFakeUpstream()];
  for (const up of ups) t.after(() => up.close());
  const proxy = await startProxy(meshFor(ups));
  t.after(() => proxy.close());
  const before = JSON.stringify(proxy.mesh.state.snapshot().models);
  const repeat = size(1, 8);
  const cases = (FULL ? PATHS : PATHS.slice(0, 2)).flatMap((p) => abuses(p).map(([name, data]) => [`${p} ${name}`, data] as const));
  const all = Array.from({ length: repeat }, () => cases).flat();
  const failures: string[] = [];
  await pool(all.length, 8, async (i) => {
    const [name, data] = all[i] as readonly [string, string];
    const reply = await rawSend(proxy.port, Buffer.from(data, 'latin1'), 5_000);
    const problem = check(reply);
    if (problem !== null) failures.push(`${name}: ${problem}`);
  });
  const calls = upstreamCalls(ups);
  const changed = JSON.stringify(proxy.mesh.state.snapshot().models) !== before;
  summary(t, `header abuse and smuggling ${n(all.length)} raw requests (${n(cases.length)} kinds) → ${n(all.length - failures.length)} ` +
    `single OpenAI-shaped 4xx then close, ${n(calls)} upstream calls, ${changed ? 1 : 0} state changes, 0 crashes`);
  assertNone(failures, 'raw requests not answered with exactly one OpenAI-shaped 4xx');
  assert.equal(calls, 0);
  assert.equal(changed, false);
  assert.equal((await postJson(`${proxy.url}/health`, {})).status < 500, true);
});

/** null when the reply is one OpenAI-shaped 4xx and the socket closed in time; else what is wrong. */
function check(reply: RawReply): string | null {
  if (reply.status < 400 || reply.status > 499) return `status ${reply.status}: ${reply.raw.slice(0, 160)}`;
  if (!isOpenAiError(reply.json)) return `body ${reply.body.slice(0, 160)}`;
  // A smuggled request would show as a second response on the same socket.
  const responses = reply.raw.match(/HTTP\/1\.1 \d{3} /g)?.length ?? 0;
  if (responses !== 1) return `${responses} responses: ${reply.raw.slice(0, 300)}`;
  if (reply.closedAfterMs > 4_000) return `socket open for ${Math.round(reply.closedAfterMs)} ms`;
  return null;
}

test('slow clients: slowloris headers and endless bodies get an OpenAI-shaped 408 near the limit; others are served meanwhile', async (t) => {
  const up = await startFakeUpstream();
  t.after(() => up.close());
  up.handle(json(200, { id: 'c', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }] }));
  const proxy = await startProxy(meshFor([up], { proxy: { timeouts: { headers: '1s', request: '2s' } } }));
  t.after(() => proxy.close());
  const each = size(4, 100);
  const drip = (start: string, byte: string) => rawExchange(proxy.port, (socket) => {
    socket.write(start);
    const timer = setInterval(() => socket.writable && socket.write(byte), 100);
    socket.once('close', () => clearInterval(timer));
  }, 6_000);
  const slowHeaders = Array.from({ length: each }, () => drip('POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Slow: ', 'a'));
  const slowBodies = Array.from({ length: each }, () => drip('POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"model":', ' '));
  // Served while the slow sockets hang on.
  const served = await postJson(`${proxy.url}/v1/chat/completions`, { model: 'text-generation', messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(served.status, 200);
  const failures: string[] = [];
  const late: number[] = [];
  for (const [kind, replies, limit] of [['headers', slowHeaders, 1_000], ['body', slowBodies, 2_000]] as const) {
    for (const reply of await Promise.all(replies)) {
      if (reply.status !== 408 || !isOpenAiError(reply.json)) failures.push(`${kind}: ${reply.status} ${reply.raw.slice(0, 160)}`);
      late.push(reply.closedAfterMs - limit);
      if (reply.closedAfterMs < limit - 100 || reply.closedAfterMs > limit + 1_300) failures.push(`${kind}: closed after ${Math.round(reply.closedAfterMs)} ms`);
    }
  }
  summary(t, `slow clients ${n(2 * each)} (slowloris headers, endless bodies; timeouts 1s/2s) → ${n(2 * each - failures.length)} OpenAI-shaped 408, ` +
    `closed at most ${Math.round(Math.max(...late))} ms after the limit, 1 request served meanwhile, ${n(up.requests.length - 1)} upstream calls from slow clients`);
  assertNone(failures, 'slow clients not cut with a 408 near the limit');
  assert.equal(up.requests.length, 1);
});
