// POST /v1/messages and /v1/messages/count_tokens (issue 15) through the router against scripted upstreams: an
// Anthropic-shaped upstream that must receive the untouched body and the client's anthropic-* headers, a chat-only
// upstream behind a translated request (sync with tool use, streaming), failover before the first event, a
// mid-stream failure ending in `event: error`, x-api-key auth and Anthropic-shaped errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { json, sse, startFakeUpstream, type FakeUpstream } from '../../helpers/fake-upstream.ts';
import { postJson, request, startProxy, type StartedProxy } from '../../helpers/proxy.ts';
import { parseSse } from '../../helpers/sse-events.ts';

const chunk = (delta: object, finish: string | null = null): object => ({
  id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'up', choices: [{ index: 0, delta, finish_reason: finish }],
});
const ASK = { model: 'p', max_tokens: 100, messages: [{ role: 'user', content: 'Hello' }] };

async function setup(t: { after: (fn: () => Promise<void>) => void }, connectors: [string, string], proxyExtra: Record<string, unknown> = {}): Promise<{ a: FakeUpstream; b: FakeUpstream; proxy: StartedProxy }> {
  const a = await startFakeUpstream();
  const b = await startFakeUpstream();
  const proxy = await startProxy({
    proxy: proxyExtra,
    providers: {
      a: { connector: connectors[0], base_url: a.url, api_key: 'key-a' },
      b: { connector: connectors[1], base_url: b.url, api_key: 'key-b' },
    },
    models: { 'a.ma': { provider: 'a', capabilities: ['chat-completion'] }, 'b.mb': { provider: 'b', capabilities: ['chat-completion'] } },
    pools: { p: { models: ['a.ma', 'b.mb'], strategy: 'modelmesh.priority-selection.v1', retry: { max_attempts: 1 } } },
  });
  t.after(async () => {
    await proxy.close();
    await a.close();
    await b.close();
  });
  return { a, b, proxy };
}

test('Anthropic upstream receives the untouched body at /messages with the client\'s anthropic-version/beta', async (t) => {
  const { a, proxy } = await setup(t, ['anthropic.claude.v1', 'vllm.local.v1']);
  const message = { id: 'msg_up', type: 'message', role: 'assistant', model: 'ma', content: [{ type: 'text', text: 'hi' }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 4, output_tokens: 1 } };
  a.handle(json(200, message));
  const body = { ...ASK, system: [{ type: 'text', text: 'Be nice', cache_control: { type: 'ephemeral' } }], thinking: { type: 'enabled', budget_tokens: 1024 }, top_k: 5 };
  const reply = await postJson(`${proxy.url}/v1/messages`, body, { 'anthropic-version': '2023-06-01', 'anthropic-beta': 'prompt-caching-2024-07-31' });
  assert.equal(reply.status, 200);
  assert.deepEqual(reply.json, message);
  const sent = a.requests[0];
  assert.equal(sent?.path, '/v1/messages');
  assert.deepEqual(sent?.json, { ...body, model: 'ma' });
  assert.equal(sent?.headers['anthropic-version'], '2023-06-01');
  assert.equal(sent?.headers['anthropic-beta'], 'prompt-caching-2024-07-31');
  assert.equal(sent?.headers['x-api-key'], 'key-a');
});

test('Anthropic upstream, streaming: its events are relayed as is', async (t) => {
  const { a, proxy } = await setup(t, ['anthropic.claude.v1', 'vllm.local.v1']);
  const blocks = [
    'event: message_start\ndata: {"type":"message_start","message":{"id":"m","usage":{"input_tokens":3,"output_tokens":0}}}\n\n',
    'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}\n\n',
    'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":1}}\n\n',
    'event: message_stop\ndata: {"type":"message_stop"}\n\n',
  ];
  a.handle(sse(blocks, { done: false }));
  const reply = await postJson(`${proxy.url}/v1/messages`, { ...ASK, stream: true });
  assert.equal(reply.status, 200);
  assert.equal(reply.body, blocks.join(''));
  assert.equal((a.requests[0]?.json as Record<string, unknown>)['stream'], true);
});

test('chat-only upstream: translated to chat and back, tool use round trip', async (t) => {
  const { a, proxy } = await setup(t, ['vllm.local.v1', 'vllm.local.v1']);
  a.handle(json(200, {
    id: 'c', object: 'chat.completion', created: 1, model: 'up',
    choices: [{ index: 0, message: { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] }, finish_reason: 'tool_calls' }],
    usage: { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 },
  }));
  const body = {
    model: 'p', max_tokens: 64, system: 'Short.',
    tools: [{ name: 'get_weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
    messages: [
      { role: 'user', content: 'Weather?' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_0', name: 'get_weather', input: { city: 'Rome' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_0', content: '20C' }, { type: 'text', text: 'And Paris?' }] },
    ],
  };
  const reply = await postJson(`${proxy.url}/v1/messages`, body);
  assert.equal(reply.status, 200);
  const sent = a.requests[0]?.json as Record<string, unknown>;
  assert.equal(a.requests[0]?.path, '/v1/chat/completions');
  assert.equal(sent['model'], 'ma');
  assert.equal(sent['max_tokens'], 64);
  assert.deepEqual(sent['messages'], [
    { role: 'system', content: 'Short.' },
    { role: 'user', content: 'Weather?' },
    { role: 'assistant', content: null, tool_calls: [{ id: 'toolu_0', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } }] },
    { role: 'tool', tool_call_id: 'toolu_0', content: '20C' },
    { role: 'user', content: 'And Paris?' },
  ]);
  const m = reply.json;
  assert.match(m.id, /^msg_/);
  assert.equal(m.model, 'p');
  assert.equal(m.stop_reason, 'tool_use');
  assert.deepEqual(m.content, [{ type: 'tool_use', id: 'toolu_call_1', name: 'get_weather', input: { city: 'Paris' } }]);
  assert.equal(m.usage.input_tokens, 9);
  assert.equal(m.usage.output_tokens, 3);
});

test('chat-only upstream, streaming: Anthropic\'s event sequence with event lines', async (t) => {
  const { a, proxy } = await setup(t, ['vllm.local.v1', 'vllm.local.v1']);
  a.handle(sse([chunk({ role: 'assistant', content: 'Hel' }), chunk({ content: 'lo' }), chunk({}, 'length'),
    { id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'up', choices: [], usage: { prompt_tokens: 5, completion_tokens: 2 } }]));
  const reply = await postJson(`${proxy.url}/v1/messages`, { ...ASK, stream: true });
  assert.equal(reply.status, 200);
  const events = parseSse(reply.body);
  assert.deepEqual(events.map((e) => e.event), ['message_start', 'ping', 'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
  events.forEach((e) => assert.equal(e.data.type, e.event));
  assert.deepEqual(events[6]?.data.delta, { stop_reason: 'max_tokens', stop_sequence: null });
  assert.equal(events[6]?.data.usage.output_tokens, 2);
  assert.ok(!reply.body.includes('[DONE]'));
});

test('failover before the first event: first upstream 500, the second answers the stream', async (t) => {
  const { a, b, proxy } = await setup(t, ['anthropic.claude.v1', 'vllm.local.v1']);
  a.handle(json(500, { type: 'error', error: { type: 'api_error', message: 'boom' } }));
  b.handle(sse([chunk({ content: 'ok' }), chunk({}, 'stop')]));
  const reply = await postJson(`${proxy.url}/v1/messages`, { ...ASK, stream: true });
  assert.equal(reply.status, 200);
  assert.equal(reply.headers['x-modelmesh-model'], 'b.mb');
  const events = parseSse(reply.body);
  assert.equal(events[0]?.event, 'message_start');
  assert.equal(events.at(-1)?.event, 'message_stop');
  assert.equal(a.requests.length, 1);
});

test('a mid-stream failure is an event: error and no message_stop', async (t) => {
  const { a, proxy } = await setup(t, ['vllm.local.v1', 'vllm.local.v1']);
  a.handle(sse([chunk({ content: 'Hel' }), chunk({ content: 'lo' })], { dropAfter: 2 }));
  const reply = await postJson(`${proxy.url}/v1/messages`, { ...ASK, stream: true });
  const events = parseSse(reply.body);
  const last = events.at(-1);
  assert.equal(last?.event, 'error');
  assert.equal(last?.data.type, 'error');
  assert.equal(last?.data.error.type, 'api_error');
  assert.match(last?.data.error.message, /failed mid-stream/);
  assert.ok(!events.some((e) => e.event === 'message_stop'));
});

test('x-api-key or Bearer with the proxy tokens; Anthropic-shaped 401, 404 and 400', async (t) => {
  const { a, proxy } = await setup(t, ['vllm.local.v1', 'vllm.local.v1'], { auth: { tokens: ['tok-1'] } });
  a.handle(json(200, { id: 'c', object: 'chat.completion', created: 1, model: 'up', choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }] }));
  assert.equal((await postJson(`${proxy.url}/v1/messages`, ASK, { 'x-api-key': 'tok-1' })).status, 200);
  assert.equal((await postJson(`${proxy.url}/v1/messages`, ASK, { authorization: 'Bearer tok-1' })).status, 200);
  // x-api-key works on the OpenAI routes too (same token extraction).
  assert.equal((await postJson(`${proxy.url}/v1/responses`, { model: 'p', input: 'x' }, { 'x-api-key': 'tok-1' })).status, 200);
  const denied = await postJson(`${proxy.url}/v1/messages`, ASK, { 'x-api-key': 'wrong' });
  assert.equal(denied.status, 401);
  assert.equal(denied.json.type, 'error');
  assert.equal(denied.json.error.type, 'authentication_error');
  const missing = await postJson(`${proxy.url}/v1/messages`, ASK);
  assert.equal(missing.json.error.type, 'authentication_error');
  const unknownPath = await request(`${proxy.url}/v1/messages/batches`, { headers: { 'x-api-key': 'tok-1' } });
  assert.equal(unknownPath.status, 404);
  assert.deepEqual(Object.keys(unknownPath.json).sort(), ['error', 'request_id', 'type']);
  assert.equal(unknownPath.json.error.type, 'not_found_error');
  const unknownModel = await postJson(`${proxy.url}/v1/messages`, { ...ASK, model: 'nope' }, { 'x-api-key': 'tok-1' });
  assert.equal(unknownModel.status, 404);
  assert.equal(unknownModel.json.error.type, 'not_found_error');
  const noMax = await postJson(`${proxy.url}/v1/messages`, { model: 'p', messages: ASK.messages }, { 'x-api-key': 'tok-1' });
  assert.equal(noMax.status, 400);
  assert.deepEqual(noMax.json.error, { type: 'invalid_request_error', message: 'max_tokens: Field required' });
  // The OpenAI routes keep OpenAI's shape.
  const chat401 = await postJson(`${proxy.url}/v1/chat/completions`, { model: 'p', messages: [] });
  assert.equal(chat401.json.error.code, 'invalid_api_key');
});

test('count_tokens answers the estimate without an upstream call', async (t) => {
  const { a, b, proxy } = await setup(t, ['anthropic.claude.v1', 'vllm.local.v1']);
  const reply = await postJson(`${proxy.url}/v1/messages/count_tokens`, { model: 'p', messages: [{ role: 'user', content: 'Hello world, how are you?' }] });
  assert.equal(reply.status, 200);
  assert.deepEqual(reply.json, { input_tokens: 7 });
  const bad = await postJson(`${proxy.url}/v1/messages/count_tokens`, { model: 'p' });
  assert.deepEqual(bad.json.error, { type: 'invalid_request_error', message: 'messages: Field required' });
  assert.equal(a.requests.length + b.requests.length, 0);
});
