// ProxyServer in-process on 127.0.0.1:0 with a real ModelMesh (simulated provider: no network, no keys).
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { buildConfig } from '../../src/config/schema/index.ts';
import { ModelMesh } from '../../src/mesh/mesh.ts';
import { ProxyServer } from '../../src/proxy/proxy-server.ts';
import { captureLogger, errorOf, postJson, request, simulatedConfig, startProxy } from '../helpers/proxy.ts';

const CHAT = { model: 'text-generation', messages: [{ role: 'user', content: 'hi' }] };

async function until(check: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await delay(5);
  }
}

/** Reads from a raw socket until `done(text)` says the wanted responses are in. */
async function readUntil(socket: Socket, done: (text: string) => boolean): Promise<string> {
  let text = '';
  for await (const chunk of socket) {
    text += String(chunk);
    if (done(text)) break;
  }
  return text;
}

test('status: start reports the bound port; counts are exact under 20 concurrent slow requests; stop resets', async (t) => {
  const p = await startProxy(simulatedConfig({}, '400ms'));
  t.after(() => p.close());
  const before = p.server.getStatus();
  assert.equal(before.running, true);
  assert.equal(before.host, '127.0.0.1');
  assert.ok(before.port > 0);
  assert.equal(before.total_requests, 0);
  assert.equal(before.active_connections, 0);

  const replies = Array.from({ length: 20 }, () => postJson(`${p.url}/v1/chat/completions`, CHAT));
  await until(() => p.server.getStatus().total_requests === 20);
  const during = p.server.getStatus();
  assert.equal(during.active_connections, 20);
  assert.equal(during.total_requests, 20);
  for (const r of await Promise.all(replies)) assert.equal(r.status, 200);
  await until(() => p.server.getStatus().active_connections === 0); // agent:false closes each socket

  await p.server.stop();
  const after = p.server.getStatus();
  assert.equal(after.running, false);
  assert.equal(after.active_connections, 0);
  assert.equal(after.total_requests, 20);
  await assert.rejects(request(`${p.url}/health`), /ECONNREFUSED/);
  await p.server.stop(); // idempotent
});

test('the listening log line carries host and the real port', async (t) => {
  const { logger, records } = captureLogger();
  const p = await startProxy(simulatedConfig(), { logger });
  t.after(() => p.close());
  const line = records.find((r) => r.msg === 'listening');
  assert.deepEqual(line?.fields, { host: '127.0.0.1', port: p.port });
});

test('404 and 405 are OpenAI-shaped, 405 with Allow', async (t) => {
  const p = await startProxy(simulatedConfig());
  t.after(() => p.close());
  const missing = await request(`${p.url}/v1/nope?x=1`);
  assert.equal(missing.status, 404);
  assert.deepEqual(errorOf(missing), { message: 'Invalid URL (GET /v1/nope)', type: 'invalid_request_error', param: null, code: 'not_found' });
  assert.equal(missing.headers['content-type'], 'application/json');
  const wrong = await request(`${p.url}/v1/chat/completions`);
  assert.equal(wrong.status, 405);
  assert.equal(wrong.headers['allow'], 'POST');
  assert.equal(errorOf(wrong).code, 'method_not_allowed');
  const head = await request(`${p.url}/health`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.body, '');
  const badEscape = await request(`${p.url}/v1/models/a%E0%A4%A`);
  assert.equal(badEscape.status, 400);
  assert.equal(errorOf(badEscape).code, 'invalid_request');
});

test('413 for a 20 MB body against a 1 MB limit (Content-Length and chunked), promptly; server stays healthy', async (t) => {
  const p = await startProxy(simulatedConfig({ proxy: { limits: { max_body: '1MiB' } } }));
  t.after(() => p.close());
  const big = Buffer.alloc(20 * 1024 * 1024, 0x20);
  const url = `${p.url}/v1/chat/completions`;
  const json = { 'content-type': 'application/json' };
  let started = Date.now();
  const declared = await request(url, { method: 'POST', headers: json, body: big });
  assert.equal(declared.status, 413);
  assert.equal(errorOf(declared).message, `Maximum content size limit (${1024 * 1024}) exceeded`);
  assert.equal(declared.headers['connection'], 'close');
  assert.ok(Date.now() - started < 5000, 'prompt');
  started = Date.now();
  const chunks = Array.from({ length: 20 }, (_, i) => big.subarray(i * 1024 * 1024, (i + 1) * 1024 * 1024));
  const streamed = await request(url, { method: 'POST', headers: json, body: chunks });
  assert.equal(streamed.status, 413);
  assert.equal(errorOf(streamed).code, 'body_too_large');
  assert.ok(Date.now() - started < 5000, 'prompt');
  assert.equal((await request(`${p.url}/health`)).status, 200);
  assert.equal((await postJson(url, CHAT)).status, 200);
});

test('400 invalid JSON and 415 non-JSON content type on a real endpoint', async (t) => {
  const p = await startProxy(simulatedConfig());
  t.after(() => p.close());
  const bad = await request(`${p.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model": "x",' });
  assert.equal(bad.status, 400);
  assert.equal(errorOf(bad).code, 'invalid_json');
  assert.match(errorOf(bad).message, /line 1 column 15/);
  const form = await request(`${p.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'model=x' });
  assert.equal(form.status, 415);
  assert.equal(errorOf(form).code, 'unsupported_media_type');
});

test('x-request-id: echoed when safe, generated when absent, replaced when unsafe', async (t) => {
  const p = await startProxy(simulatedConfig());
  t.after(() => p.close());
  const echoed = await request(`${p.url}/health`, { headers: { 'x-request-id': 'trace-42.a:b_c' } });
  assert.equal(echoed.headers['x-request-id'], 'trace-42.a:b_c');
  const generated = await request(`${p.url}/health`);
  // Generated ids: a random per-process prefix (16 hex) and a base-36 counter (8 chars).
  assert.match(String(generated.headers['x-request-id']), /^req_[0-9a-f]{16}[0-9a-z]{8}$/);
  const unsafe = await request(`${p.url}/nope`, { headers: { 'x-request-id': 'has space<script>' } });
  assert.match(String(unsafe.headers['x-request-id']), /^req_[0-9a-f]{16}[0-9a-z]{8}$/);
  assert.notEqual(unsafe.headers['x-request-id'], generated.headers['x-request-id']);
  const long = await request(`${p.url}/health`, { headers: { 'x-request-id': 'a'.repeat(129) } });
  assert.match(String(long.headers['x-request-id']), /^req_/);
  const chat = await postJson(`${p.url}/v1/chat/completions`, CHAT, { 'x-request-id': 'mine-1' });
  assert.equal(chat.headers['x-request-id'], 'mine-1');
});

test('auth: refused without or with a wrong token, accepted with one; /health, /ready need none', async (t) => {
  const p = await startProxy(simulatedConfig({ proxy: { auth: { enabled: true, tokens: ['sk-proxy-1', 'sk-proxy-2'] } } }));
  t.after(() => p.close());
  const none = await request(`${p.url}/v1/models`);
  assert.equal(none.status, 401);
  assert.equal(errorOf(none).code, 'invalid_api_key');
  assert.match(errorOf(none).message, /^You didn't provide an API key/);
  const wrong = await request(`${p.url}/v1/models`, { headers: { authorization: 'Bearer sk-guess' } });
  assert.equal(wrong.status, 401);
  assert.match(errorOf(wrong).message, /^Incorrect API key provided/);
  assert.ok(!wrong.body.includes('sk-guess'));
  assert.equal(wrong.headers['x-should-retry'], 'false');
  const ok = await request(`${p.url}/v1/models`, { headers: { authorization: 'Bearer sk-proxy-2' } });
  assert.equal(ok.status, 200);
  const chat = await postJson(`${p.url}/chat/completions`, CHAT, { authorization: 'Bearer sk-proxy-1' });
  assert.equal(chat.status, 200);
  assert.equal((await request(`${p.url}/health`)).status, 200);
  assert.equal((await request(`${p.url}/ready`)).status, 200);
});

test('CORS: allowed origin gets headers, others none; preflight 204 without a token, 403 for others', async (t) => {
  const p = await startProxy(simulatedConfig({
    proxy: { auth: { enabled: true, tokens: ['sk-1'] }, cors: { enabled: true, origins: ['https://app.example'], max_age: 120 } },
  }));
  t.after(() => p.close());
  const auth = { authorization: 'Bearer sk-1' };
  const allowed = await request(`${p.url}/v1/models`, { headers: { ...auth, origin: 'https://app.example' } });
  assert.equal(allowed.headers['access-control-allow-origin'], 'https://app.example');
  assert.match(String(allowed.headers['access-control-expose-headers']), /x-request-id/);
  assert.equal(allowed.headers['vary'], 'Origin');
  const refused = await request(`${p.url}/v1/models`, { headers: { ...auth, origin: 'https://evil.example' } });
  assert.equal(refused.status, 200);
  assert.equal(refused.headers['access-control-allow-origin'], undefined);
  const errorToo = await request(`${p.url}/v1/models`, { headers: { origin: 'https://app.example' } });
  assert.equal(errorToo.status, 401);
  assert.equal(errorToo.headers['access-control-allow-origin'], 'https://app.example', 'errors are readable too');

  const preflight = await request(`${p.url}/v1/chat/completions`, {
    method: 'OPTIONS',
    headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
  });
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers['access-control-allow-origin'], 'https://app.example');
  assert.equal(preflight.headers['access-control-allow-methods'], 'POST');
  assert.equal(preflight.headers['access-control-allow-headers'], 'authorization,content-type');
  assert.equal(preflight.headers['access-control-max-age'], '120');
  const evil = await request(`${p.url}/v1/chat/completions`, {
    method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
  });
  assert.equal(evil.status, 403);
  assert.equal(evil.headers['access-control-allow-origin'], undefined);
  errorOf(evil);
  const unknown = await request(`${p.url}/v1/nothing`, {
    method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
  });
  assert.equal(unknown.status, 404);
});

test('CORS disabled: no CORS headers, OPTIONS is a 405 like any unknown method', async (t) => {
  const p = await startProxy(simulatedConfig());
  t.after(() => p.close());
  const r = await request(`${p.url}/v1/chat/completions`, {
    method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
  });
  assert.equal(r.status, 405);
  assert.equal(r.headers['allow'], 'POST');
  assert.equal(r.headers['access-control-allow-origin'], undefined);
  const get = await request(`${p.url}/v1/models`, { headers: { origin: 'https://app.example' } });
  assert.equal(get.headers['access-control-allow-origin'], undefined);
  assert.equal(get.headers['vary'], undefined);
});

test('/v1/models lists pools and aliases; /v1/models/{id} decodes %2F; unknown id is model_not_found', async (t) => {
  const p = await startProxy(simulatedConfig({ pools: { 'text-generation': { aliases: ['openai/gpt-4o'] } } }));
  t.after(() => p.close());
  const list = await request(`${p.url}/v1/models`);
  assert.equal(list.status, 200);
  assert.equal(list.json.object, 'list');
  const ids = (list.json.data as { id: string }[]).map((m) => m.id);
  assert.ok(ids.includes('text-generation'));
  assert.ok(ids.includes('openai/gpt-4o'));
  const one = await request(`${p.url}/v1/models/openai%2Fgpt-4o`);
  assert.equal(one.status, 200);
  assert.equal(one.json.id, 'openai/gpt-4o');
  assert.equal(one.json.object, 'model');
  const bare = await request(`${p.url}/models/sim.chat`);
  assert.equal(bare.json.id, 'sim.chat');
  const missing = await request(`${p.url}/v1/models/gpt-9`);
  assert.equal(missing.status, 404);
  assert.deepEqual(errorOf(missing), {
    message: 'The model `gpt-9` does not exist or you do not have access to it.', type: 'invalid_request_error', param: null, code: 'model_not_found',
  });
});

test('/v1/models/{name} answers for every name that routes: a model\'s unique upstream name gives its card', async (t) => {
  const p = await startProxy({ ...simulatedConfig(), models: { 'sim.chat': { provider: 'sim', name: 'chat-upstream', capabilities: ['chat-completion'] } } });
  t.after(() => p.close());
  assert.equal((await postJson(`${p.url}/v1/chat/completions`, { ...CHAT, model: 'chat-upstream' })).status, 200, 'it routes');
  const card = await request(`${p.url}/v1/models/chat-upstream`);
  assert.equal(card.status, 200, card.body);
  assert.equal(card.json.id, 'sim.chat');
  const long = await request(`${p.url}/v1/models/${'y'.repeat(5000)}`);
  assert.equal(long.status, 404);
  assert.ok(long.body.length < 600, 'the id is echoed clipped');
});

test('/chat/completions without /v1 is routed', async (t) => {
  const p = await startProxy(simulatedConfig());
  t.after(() => p.close());
  const r = await postJson(`${p.url}/chat/completions`, CHAT);
  assert.equal(r.status, 200);
  assert.equal(r.json.object, 'chat.completion');
});

test('proxy.endpoints disables the other routes (404, OpenAI shape); reload rebuilds the table', async (t) => {
  const p = await startProxy(simulatedConfig({ proxy: { endpoints: ['/v1/models'] } }));
  t.after(() => p.close());
  const chat = await postJson(`${p.url}/v1/chat/completions`, CHAT);
  assert.equal(chat.status, 404);
  assert.equal(errorOf(chat).code, 'not_found');
  assert.equal((await request(`${p.url}/v1/models`)).status, 200);

  const raw = simulatedConfig({ proxy: { host: '127.0.0.1', port: 0 }, pools: { 'text-generation': { aliases: ['fast'] } } });
  p.server.reload(buildConfig(raw, { source: null, env: {}, baseDir: process.cwd() }));
  assert.equal((await postJson(`${p.url}/v1/chat/completions`, CHAT)).status, 200);
  assert.equal((await request(`${p.url}/v1/models/fast`)).status, 200);
});

test('drain: /ready turns 503 and new requests on a live socket get 503 + Connection: close, while the in-flight request completes', async (t) => {
  const p = await startProxy(simulatedConfig({}, '600ms'));
  t.after(() => p.close());
  assert.equal((await request(`${p.url}/ready`)).json.status, 'ready');
  const socket = connect(p.port, '127.0.0.1');
  t.after(() => socket.destroy());
  const body = JSON.stringify(CHAT);
  socket.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  await until(() => p.server.getStatus().total_requests === 2);
  const stopped = p.server.stop();
  assert.equal(p.server.draining, true);
  // Pipelined on the busy socket after stop() began: the chat answer first, then the drain answers.
  socket.write('GET /ready HTTP/1.1\r\nHost: x\r\n\r\nGET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n');
  const text = await readUntil(socket, (s) => (s.match(/HTTP\/1\.1 /g) ?? []).length >= 2 && s.includes('"draining"'));
  const statuses = [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]);
  assert.equal(statuses[0], '200', 'in-flight chat completed');
  assert.match(text, /chat\.completion/);
  assert.equal(statuses[1], '503');
  assert.match(text, /\{"status":"draining"\}/);
  assert.match(text, /[Cc]onnection: close/);
  await stopped;
  assert.equal(p.server.getStatus().running, false);
});

test('drain waits for an in-flight slow request, then completes stop()', async (t) => {
  const p = await startProxy(simulatedConfig({}, '500ms'));
  t.after(() => p.close());
  const reply = postJson(`${p.url}/v1/chat/completions`, CHAT);
  await until(() => p.server.getStatus().total_requests === 1);
  const started = Date.now();
  await p.server.stop();
  const r = await reply;
  assert.equal(r.status, 200);
  assert.ok(Date.now() - started >= 300, 'stop waited for the request');
  assert.equal(p.server.getStatus().running, false);
  assert.equal(p.server.getStatus().active_connections, 0);
});

test('drain_timeout bounds the wait: a request slower than it is cut', async (t) => {
  const p = await startProxy(simulatedConfig({ proxy: { drain_timeout: '200ms' } }, '5s'));
  t.after(() => p.close());
  const reply = postJson(`${p.url}/v1/chat/completions`, CHAT).then(() => 'answered', () => 'cut');
  await until(() => p.server.getStatus().total_requests === 1);
  const started = Date.now();
  await p.server.stop();
  assert.ok(Date.now() - started < 2000, `stop took ${Date.now() - started}ms`);
  assert.equal(await reply, 'cut');
});

test('stop() flushes the mesh (shutdown called) and start() again works', async (t) => {
  const mesh = ModelMesh.fromConfig(simulatedConfig({ proxy: { host: '127.0.0.1', port: 0 } }), { env: {} });
  let shutdowns = 0;
  const original = mesh.shutdown.bind(mesh);
  mesh.shutdown = async () => {
    shutdowns++;
    await original();
  };
  const server = new ProxyServer(mesh);
  t.after(() => server.stop());
  await server.start();
  await server.stop();
  assert.equal(shutdowns, 1);
  await server.start();
  const port = server.getStatus().port;
  assert.equal((await request(`http://127.0.0.1:${port}/health`)).status, 200);
  assert.equal(server.getStatus().total_requests, 1);
});

test('errors keep the connection alive (small unread body drained); a big unread body closes it', async (t) => {
  const p = await startProxy(simulatedConfig({ proxy: { auth: { enabled: true, tokens: ['sk-1'] } } }));
  t.after(() => p.close());
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  const json = { 'content-type': 'application/json' };
  const refused = await request(`${p.url}/v1/chat/completions`, { method: 'POST', headers: json, body: JSON.stringify(CHAT), agent });
  assert.equal(refused.status, 401);
  assert.equal(refused.headers['connection'], 'keep-alive');
  const missing = await request(`${p.url}/nope`, { agent });
  assert.equal(missing.headers['connection'], 'keep-alive');
  assert.equal((await request(`${p.url}/health`, { agent })).status, 200);
  assert.equal(p.server.getStatus().active_connections, 1, 'one socket served all three');
  const big = await request(`${p.url}/v1/chat/completions`, { method: 'POST', headers: json, body: Buffer.alloc(200_000, 0x20), agent });
  assert.equal(big.status, 401);
  assert.equal(big.headers['connection'], 'close');
});

test('start() rejects when the port is taken, and the mesh is shut down again', async (t) => {
  const p = await startProxy(simulatedConfig());
  t.after(() => p.close());
  const mesh = ModelMesh.fromConfig(simulatedConfig({ proxy: { host: '127.0.0.1', port: p.port } }), { env: {} });
  let shutdowns = 0;
  mesh.shutdown = async () => void shutdowns++;
  const server = new ProxyServer(mesh);
  await assert.rejects(server.start(), /EADDRINUSE/);
  assert.equal(shutdowns, 1);
  assert.equal(server.getStatus().running, false);
});
