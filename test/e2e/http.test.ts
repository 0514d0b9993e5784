// End to end through the built dist/server.js: the default mesh.yaml answering chat with no API key, and
// auth, CORS and the error bodies (404/405/413/400/415) exactly as a client sees them.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { errorOf, postJson, request } from '../helpers/proxy.ts';
import { ROOT } from '../helpers/cli.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';

const CHAT = { model: 'text-generation', messages: [{ role: 'user', content: 'Hello there' }] };
const TOKEN = 'e2e-token-0123456789';
let defaults: RunningServer;
let guarded: RunningServer;

before(async () => {
  defaults = await startServer({ path: join(ROOT, 'mesh.yaml') });
  guarded = await startServer({ yaml: `
proxy:
  auth: {enabled: true, tokens: ["\${secrets:E2E_TOKEN}"]}
  cors: {enabled: true, origins: ["https://app.example.com"]}
  limits: {max_body: 1KiB}
providers:
  sim: {connector: modelmesh.simulated.v1}
models:
  sim.chat: {provider: sim, capabilities: [chat-completion]}
` }, { env: { ...process.env as Record<string, string>, E2E_TOKEN: TOKEN } });
});

after(async () => {
  assert.equal(await defaults.stop(), 0);
  assert.equal(await guarded.stop(), 0);
});

test('default mesh.yaml: synchronous chat is answered by the simulated provider', async () => {
  const reply = await postJson(`${defaults.url}/v1/chat/completions`, CHAT);
  assert.equal(reply.status, 200);
  assert.equal(reply.json.object, 'chat.completion');
  assert.match(reply.json.choices[0].message.content, /Hello there/);
  assert.equal(reply.headers['x-modelmesh-provider'], 'modelmesh.simulated.v1');
  assert.equal(reply.headers['x-modelmesh-pool'], 'text-generation');
  assert.ok(reply.json.usage.total_tokens > 0);
});

test('default mesh.yaml: streaming chat arrives as SSE chunks ending in [DONE], alias and no-/v1 path work', async () => {
  const reply = await postJson(`${defaults.url}/chat/completions`, { ...CHAT, model: 'chat', stream: true });
  assert.equal(reply.status, 200);
  assert.match(String(reply.headers['content-type']), /^text\/event-stream/);
  const events = reply.body.split('\n\n').filter((e) => e !== '');
  assert.equal(events.at(-1), 'data: [DONE]');
  const chunks = events.slice(0, -1).map((e) => JSON.parse(e.slice('data: '.length)));
  assert.equal(chunks[0].choices[0].delta.role, 'assistant');
  assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === chunks[0].id));
  assert.equal(chunks.at(-1).choices[0].finish_reason, 'stop');
  assert.ok(!reply.body.includes('"usage":{'), 'usage chunk removed: the client did not ask for it');
  const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
  assert.match(text, /Hello there/);
});

test('default mesh.yaml: /v1/models lists the pools with simulated members', async () => {
  const reply = await request(`${defaults.url}/v1/models`);
  assert.equal(reply.status, 200);
  assert.equal(reply.json.object, 'list');
  const ids = reply.json.data.map((m: { id: string }) => m.id);
  for (const id of ['text-generation', 'chat', 'embeddings', 'text-to-speech', 'speech-to-text', 'image-generation']) assert.ok(ids.includes(id), id);
  const pool = reply.json.data.find((m: { id: string }) => m.id === 'text-generation');
  assert.equal(pool.modelmesh.members[0].id, 'simulated.chat');
  assert.equal(pool.modelmesh.members[0].simulated, true);
});

test('auth: missing or wrong token is 401 invalid_api_key; the right one passes; /health needs none', async () => {
  const missing = await postJson(`${guarded.url}/v1/chat/completions`, CHAT);
  assert.equal(missing.status, 401);
  assert.equal(errorOf(missing).code, 'invalid_api_key');
  const wrong = await postJson(`${guarded.url}/v1/chat/completions`, CHAT, { authorization: 'Bearer nope' });
  assert.equal(wrong.status, 401);
  assert.ok(!wrong.body.includes(TOKEN) && !wrong.body.includes('nope'));
  const right = await postJson(`${guarded.url}/v1/chat/completions`, CHAT, { authorization: `Bearer ${TOKEN}` });
  assert.equal(right.status, 200);
  assert.equal((await request(`${guarded.url}/health`)).status, 200);
  assert.ok(!guarded.stderr().includes(TOKEN), 'the token never reaches the logs');
});

test('CORS: listed origin gets headers, preflight answered without a token, unlisted origin gets none', async () => {
  const preflight = await request(`${guarded.url}/v1/chat/completions`, {
    method: 'OPTIONS',
    headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
  });
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers['access-control-allow-origin'], 'https://app.example.com');
  assert.match(String(preflight.headers['access-control-allow-methods']), /POST/);
  assert.ok(Number(preflight.headers['access-control-max-age']) > 0);
  assert.match(String(preflight.headers['vary']), /Origin/);
  const allowed = await request(`${guarded.url}/v1/models`, { headers: { origin: 'https://app.example.com', authorization: `Bearer ${TOKEN}` } });
  assert.equal(allowed.headers['access-control-allow-origin'], 'https://app.example.com');
  const refused = await request(`${guarded.url}/v1/models`, { headers: { origin: 'https://evil.example.com', authorization: `Bearer ${TOKEN}` } });
  assert.equal(refused.status, 200);
  assert.equal(refused.headers['access-control-allow-origin'], undefined);
});

test('error bodies are OpenAI-shaped with all four keys: 404, 405, 413, 400, 415', async () => {
  const auth = { authorization: `Bearer ${TOKEN}` };
  const shapes = [
    await request(`${guarded.url}/v1/nothing-here`, { headers: auth }),
    await request(`${guarded.url}/v1/chat/completions`, { headers: auth }),
    await postJson(`${guarded.url}/v1/chat/completions`, { ...CHAT, padding: 'x'.repeat(2048) }, auth),
    await request(`${guarded.url}/v1/chat/completions`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{"model": ' }),
    await request(`${guarded.url}/v1/chat/completions`, { method: 'POST', headers: { ...auth, 'content-type': 'text/plain' }, body: 'hi' }),
  ];
  assert.deepEqual(shapes.map((r) => r.status), [404, 405, 413, 400, 415]);
  for (const reply of shapes) {
    assert.match(String(reply.headers['content-type']), /^application\/json/);
    assert.deepEqual(Object.keys(reply.json.error).sort(), ['code', 'message', 'param', 'type']);
    assert.ok(reply.headers['x-request-id']);
  }
  assert.equal(shapes[1]?.headers['allow'], 'POST');
  assert.equal(errorOf(shapes[0] as never).code, 'not_found');
  assert.equal(errorOf(shapes[3] as never).code, 'invalid_json');
});
