// POST /v1/responses (issue 14) through the router against scripted upstreams: a chat-only upstream behind a
// translated request (sync, streaming, tools, two turns), a native /responses upstream seeing the untouched body,
// failover before the first event, a mid-stream failure ending in response.failed, GET/DELETE by id.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { json, sse, startFakeUpstream, type Behaviour, type FakeUpstream } from '../../helpers/fake-upstream.ts';
import { errorOf, postJson, request, startProxy, type StartedProxy } from '../../helpers/proxy.ts';
import { parseSse } from '../../helpers/sse-events.ts';

const chunk = (delta: object, finish: string | null = null): object => ({
  id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'up', choices: [{ index: 0, delta, finish_reason: finish }],
});
const USAGE_CHUNK = { id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'up', choices: [], usage: { prompt_tokens: 7, completion_tokens: 2, total_tokens: 9 } };
const completion = (message: object, finish = 'stop'): object => ({
  id: 'c0', object: 'chat.completion', created: 1, model: 'up', choices: [{ index: 0, message: { role: 'assistant', ...message }, finish_reason: finish }],
  usage: { prompt_tokens: 11, completion_tokens: 4, total_tokens: 15 },
});

/** Providers a and b (connectors given) with one model each, in pool `p`. */
async function setup(t: { after: (fn: () => Promise<void>) => void }, connectors: [string, string], extra: Record<string, unknown>[] = [{}, {}]): Promise<{ a: FakeUpstream; b: FakeUpstream; proxy: StartedProxy }> {
  const a = await startFakeUpstream();
  const b = await startFakeUpstream();
  const proxy = await startProxy({
    providers: {
      a: { connector: connectors[0], base_url: a.url, api_key: 'key-a', ...extra[0] },
      b: { connector: connectors[1], base_url: b.url, api_key: 'key-b', ...extra[1] },
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

const TOOL = { type: 'function', name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } };

test('chat-only upstream: the request is translated to chat and the answer back, with tools', async (t) => {
  const { a, proxy } = await setup(t, ['vllm.local.v1', 'vllm.local.v1']);
  a.handle(json(200, completion({ content: null, tool_calls: [{ id: 'call_9', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] }, 'tool_calls')));
  const reply = await postJson(`${proxy.url}/v1/responses`, { model: 'p', instructions: 'Be brief.', input: 'Weather in Paris?', tools: [TOOL], tool_choice: 'auto', max_output_tokens: 50 });
  assert.equal(reply.status, 200);
  const sent = a.requests[0];
  assert.equal(sent?.path, '/v1/chat/completions');
  assert.deepEqual(sent?.json, {
    model: 'ma', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Weather in Paris?' }],
    tools: [{ type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: TOOL.parameters } }],
    tool_choice: 'auto', max_tokens: 50,
  });
  const r = reply.json;
  assert.match(r.id, /^resp_/);
  assert.equal(r.object, 'response');
  assert.equal(r.status, 'completed');
  assert.equal(r.model, 'p');
  assert.equal(r.output.length, 1);
  assert.deepEqual({ ...r.output[0], id: 'x' }, { id: 'x', type: 'function_call', status: 'completed', call_id: 'call_9', name: 'get_weather', arguments: '{"city":"Paris"}' });
  assert.deepEqual(r.usage, { input_tokens: 11, input_tokens_details: { cached_tokens: 0 }, output_tokens: 4, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 15 });
  assert.equal(reply.headers['x-modelmesh-model'], 'a.ma');
});

test('chat-only upstream, streaming: the Responses event sequence with event lines, no [DONE]', async (t) => {
  const { a, proxy } = await setup(t, ['vllm.local.v1', 'vllm.local.v1']);
  a.handle(sse([chunk({ role: 'assistant', content: '' }), chunk({ content: 'Hel' }), chunk({ content: 'lo' }), chunk({}, 'stop'), USAGE_CHUNK]));
  const reply = await postJson(`${proxy.url}/v1/responses`, { model: 'p', input: 'Hi', stream: true });
  assert.equal(reply.status, 200);
  assert.match(String(reply.headers['content-type']), /^text\/event-stream/);
  assert.equal((a.requests[0]?.json as Record<string, unknown>)['stream'], true);
  const events = parseSse(reply.body);
  assert.deepEqual(events.map((e) => e.event), [
    'response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added',
    'response.output_text.delta', 'response.output_text.delta', 'response.output_text.done', 'response.content_part.done',
    'response.output_item.done', 'response.completed',
  ]);
  events.forEach((e, i) => {
    assert.equal(e.data.type, e.event);
    assert.equal(e.data.sequence_number, i);
  });
  assert.ok(!reply.body.includes('[DONE]'));
  const done = events.at(-1)?.data.response;
  assert.equal(done.output[0].content[0].text, 'Hello');
  assert.equal(done.usage.input_tokens, 7);
});

test('chat-only upstream answering a streaming request whole: the Responses events still come, from the whole answer', async (t) => {
  const { a, b, proxy } = await setup(t, ['vllm.local.v1', 'vllm.local.v1']);
  a.handle(json(200, completion({ content: 'Hello' })));
  const reply = await postJson(`${proxy.url}/v1/responses`, { model: 'p', input: 'Hi', stream: true });
  assert.equal(reply.status, 200);
  assert.equal(reply.headers['x-modelmesh-model'], 'a.ma', 'the model that answered, no failover');
  assert.equal(b.requests.length, 0);
  const events = parseSse(reply.body);
  assert.deepEqual(events.map((e) => e.event), [
    'response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added',
    'response.output_text.delta', 'response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.completed',
  ]);
  const done = events.at(-1)?.data.response;
  assert.equal(done.output[0].content[0].text, 'Hello');
  assert.equal(done.usage.input_tokens, 11);
});

test('chat-only upstream, streaming a refusal: response.refusal.* events, the refusal part kept for GET', async (t) => {
  const { a, proxy } = await setup(t, ['vllm.local.v1', 'vllm.local.v1']);
  a.handle(sse([chunk({ role: 'assistant', content: null, refusal: null }), chunk({ refusal: 'I cannot ' }), chunk({ refusal: 'do that.' }), chunk({}, 'stop'), USAGE_CHUNK]));
  const reply = await postJson(`${proxy.url}/v1/responses`, { model: 'p', input: 'Something bad', stream: true });
  const events = parseSse(reply.body);
  assert.deepEqual(events.map((e) => e.event).slice(2, -1), [
    'response.output_item.added', 'response.content_part.added', 'response.refusal.delta', 'response.refusal.delta',
    'response.refusal.done', 'response.content_part.done', 'response.output_item.done',
  ]);
  assert.equal(events.find((e) => e.event === 'response.refusal.done')?.data.refusal, 'I cannot do that.');
  const done = events.at(-1);
  assert.equal(done?.event, 'response.completed');
  assert.deepEqual(done?.data.response.output[0].content, [{ type: 'refusal', refusal: 'I cannot do that.' }]);
  const got = await request(`${proxy.url}/v1/responses/${done?.data.response.id}`);
  assert.deepEqual(got.json.output, done?.data.response.output);
});

test('two turns with previous_response_id; GET and DELETE /v1/responses/{id}', async (t) => {
  const { a, proxy } = await setup(t, ['vllm.local.v1', 'vllm.local.v1']);
  a.sequence(json(200, completion({ content: 'Paris.' })), json(200, completion({ content: 'Lyon.' })));
  const first = await postJson(`${proxy.url}/v1/responses`, { model: 'p', instructions: 'Short.', input: 'Capital of France?' });
  const id = first.json.id as string;
  const second = await postJson(`${proxy.url}/v1/responses`, { model: 'p', previous_response_id: id, input: 'Second city?' });
  assert.equal(second.status, 200);
  assert.equal(second.json.previous_response_id, id);
  // Instructions are not carried over (OpenAI's rule); the history is.
  assert.deepEqual((a.requests[1]?.json as Record<string, unknown>)['messages'], [
    { role: 'user', content: 'Capital of France?' }, { role: 'assistant', content: 'Paris.' }, { role: 'user', content: 'Second city?' },
  ]);
  const got = await request(`${proxy.url}/v1/responses/${id}`);
  assert.equal(got.status, 200);
  assert.deepEqual(got.json, first.json);
  const deleted = await request(`${proxy.url}/v1/responses/${id}`, { method: 'DELETE' });
  assert.deepEqual(deleted.json, { id, object: 'response', deleted: true });
  assert.equal((await request(`${proxy.url}/v1/responses/${id}`)).status, 404);
  const stale = await postJson(`${proxy.url}/v1/responses`, { model: 'p', previous_response_id: id, input: 'x' });
  assert.equal(stale.status, 400);
  assert.deepEqual(errorOf(stale), { message: `Previous response with id '${id}' not found.`, type: 'invalid_request_error', param: 'previous_response_id', code: 'previous_response_not_found' });
  assert.equal(a.requests.length, 2);
});

test('native upstream (OpenAI preset) gets the untouched body at /responses; its answer is relayed as is', async (t) => {
  const { a, proxy } = await setup(t, ['openai.llm.v1', 'vllm.local.v1']);
  const upstreamAnswer = { id: 'resp_up', object: 'response', status: 'completed', output: [], usage: { input_tokens: 3, output_tokens: 1, total_tokens: 4 } };
  a.handle(json(200, upstreamAnswer));
  const body = { model: 'p', input: 'Hi', tools: [{ type: 'web_search' }], reasoning: { effort: 'low' }, include: ['x'] };
  const reply = await postJson(`${proxy.url}/v1/responses`, body);
  assert.equal(reply.status, 200);
  assert.deepEqual(reply.json, upstreamAnswer);
  assert.equal(a.requests[0]?.path, '/v1/responses');
  assert.deepEqual(a.requests[0]?.json, { ...body, model: 'ma' });
});

test('a built-in tool with no native model: the translation\'s 400 naming the parameter', async (t) => {
  const { a, b, proxy } = await setup(t, ['vllm.local.v1', 'vllm.local.v1']);
  const reply = await postJson(`${proxy.url}/v1/responses`, { model: 'p', input: 'Hi', tools: [{ type: 'web_search' }] });
  assert.equal(reply.status, 400);
  assert.equal(errorOf(reply).param, 'tools[0].type');
  assert.equal(a.requests.length + b.requests.length, 0);
});

test('input: [] is a 400 naming input, streaming or not, with or without a previous response; no upstream sees it', async (t) => {
  const { a, b, proxy } = await setup(t, ['vllm.local.v1', 'vllm.local.v1']);
  a.handle(json(200, completion({ content: 'Paris.' })));
  const first = await postJson(`${proxy.url}/v1/responses`, { model: 'p', input: 'Capital of France?' });
  assert.equal(first.status, 200);
  const bodies = [{ input: [] }, { input: [], stream: true }, { input: [], instructions: 'Be brief.' }, { input: [], previous_response_id: first.json.id }];
  for (const body of bodies) {
    const reply = await postJson(`${proxy.url}/v1/responses`, { model: 'p', ...body });
    assert.equal(reply.status, 400, JSON.stringify(body));
    assert.deepEqual(errorOf(reply), { message: "Invalid 'input': empty array. Expected an array with minimum length 1, but got an empty array instead.", type: 'invalid_request_error', param: 'input', code: 'invalid_param' });
  }
  assert.equal(a.requests.length + b.requests.length, 1, 'only the first turn reached an upstream');
});

test('native_protocols: [responses] on an OpenAI-compatible provider sends the body to its /responses', async (t) => {
  const { a, proxy } = await setup(t, ['vllm.local.v1', 'vllm.local.v1'], [{ native_protocols: ['responses'] }, {}]);
  a.handle(json(200, { id: 'resp_v', object: 'response', status: 'completed', output: [] }));
  const reply = await postJson(`${proxy.url}/v1/responses`, { model: 'p', input: 'Hi', store: false });
  assert.equal(reply.status, 200);
  assert.equal(a.requests[0]?.path, '/v1/responses');
  assert.deepEqual(a.requests[0]?.json, { model: 'ma', input: 'Hi', store: false });
});

test('failover before the first event: the first upstream answers 500, the second streams', async (t) => {
  const { a, b, proxy } = await setup(t, ['vllm.local.v1', 'vllm.local.v1']);
  a.handle(json(500, { error: { message: 'boom' } }));
  b.handle(sse([chunk({ content: 'ok' }), chunk({}, 'stop')]));
  const reply = await postJson(`${proxy.url}/v1/responses`, { model: 'p', input: 'Hi', stream: true });
  assert.equal(reply.status, 200);
  assert.equal(reply.headers['x-modelmesh-model'], 'b.mb');
  assert.equal(reply.headers['x-modelmesh-attempts'], '2');
  const events = parseSse(reply.body);
  assert.equal(events[0]?.data.sequence_number, 0);
  assert.equal(events.at(-1)?.event, 'response.completed');
  assert.equal(a.requests.length, 1);
});

const dropAfterTwo: Behaviour = sse([chunk({ content: 'Hel' }), chunk({ content: 'lo' })], { dropAfter: 2 });

test('a mid-stream failure ends with response.failed, never response.completed', async (t) => {
  const { a, proxy } = await setup(t, ['vllm.local.v1', 'vllm.local.v1']);
  a.handle(dropAfterTwo);
  const reply = await postJson(`${proxy.url}/v1/responses`, { model: 'p', input: 'Hi', stream: true });
  const events = parseSse(reply.body);
  const last = events.at(-1);
  assert.equal(last?.event, 'response.failed');
  assert.equal(last?.data.response.status, 'failed');
  assert.match(last?.data.response.error.message, /failed mid-stream/);
  assert.ok(!events.some((e) => e.event === 'response.completed'));
  events.forEach((e, i) => assert.equal(e.data.sequence_number, i));
});

test('a native stream cut before response.completed ends with an error event', async (t) => {
  const { a, proxy } = await setup(t, ['openai.llm.v1', 'vllm.local.v1']);
  a.handle(sse(['event: response.created\ndata: {"type":"response.created","response":{"id":"r","error":null},"sequence_number":0}\n\n'], { done: false, dropAfter: 1 }));
  const reply = await postJson(`${proxy.url}/v1/responses`, { model: 'p', input: 'Hi', stream: true });
  const events = parseSse(reply.body);
  assert.deepEqual(events.map((e) => e.event), ['response.created', 'error']);
  assert.equal(events[1]?.data.sequence_number, 1);
  assert.equal(events[1]?.data.code, 'server_error');
});

test('a native stream is relayed as is and its usage read from response.completed', async (t) => {
  const { a, proxy } = await setup(t, ['openai.llm.v1', 'vllm.local.v1']);
  const created = 'event: response.created\ndata: {"type":"response.created","response":{"id":"r","error":null},"sequence_number":0}\n\n';
  const completed = 'event: response.completed\ndata: {"type":"response.completed","response":{"id":"r","usage":{"input_tokens":5,"output_tokens":6}},"sequence_number":1}\n\n';
  a.handle(sse([created, completed], { done: false }));
  const reply = await postJson(`${proxy.url}/v1/responses`, { model: 'p', input: 'Hi', stream: true });
  assert.equal(reply.body, created + completed);
});
