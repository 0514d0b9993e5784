// POST /v1/messages: what an upstream answers before the answer is committed, and what it is counted as.
// A native (Anthropic) answer's cache tokens count as input, buffered as streamed; a 200 error envelope
// (chat `{"error":…}` behind a translation, Anthropic `{"type":"error"}` however it is spaced) and an
// `event: error` after a leading `event: ping` are that model's failures, so the next model answers; a
// translated stream whose spaced finish_reason came before the upstream closed without [DONE] is complete.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RequestEvent } from '../../../src/mesh/events.ts';
import { json, sse, startFakeUpstream, type FakeUpstream } from '../../helpers/fake-upstream.ts';
import { postJson, requestEvents, startProxy, type StartedProxy } from '../../helpers/proxy.ts';
import { parseSse } from '../../helpers/sse-events.ts';

const ASK = { model: 'p', max_tokens: 100, messages: [{ role: 'user', content: 'Hello' }] };
const COMPLETION = {
  id: 'c', object: 'chat.completion', created: 1, model: 'up',
  choices: [{ index: 0, message: { role: 'assistant', content: 'from b' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
};
const chunk = (delta: object, finish: string | null = null): object => ({
  id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'up', choices: [{ index: 0, delta, finish_reason: finish }],
});
const ev = (data: { type: string } & Record<string, unknown>): string => `event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`;
const USAGE = { input_tokens: 4, cache_read_input_tokens: 100, cache_creation_input_tokens: 20, output_tokens: 3 };
const MESSAGE = { id: 'msg_up', type: 'message', role: 'assistant', model: 'ma', content: [{ type: 'text', text: 'hi' }], stop_reason: 'end_turn', stop_sequence: null, usage: USAGE };
const NATIVE_STREAM = [
  ev({ type: 'message_start', message: { id: 'm', type: 'message', role: 'assistant', content: [], usage: { ...USAGE, output_tokens: 1 } } }),
  ev({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
  ev({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hi' } }),
  ev({ type: 'content_block_stop', index: 0 }),
  ev({ type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 3 } }),
  ev({ type: 'message_stop' }),
];

interface Setup {
  a: FakeUpstream;
  b: FakeUpstream;
  proxy: StartedProxy;
  events: RequestEvent[];
}

async function setup(t: { after: (fn: () => Promise<void>) => void }, connectors: [string, string]): Promise<Setup> {
  const a = await startFakeUpstream();
  const b = await startFakeUpstream();
  const proxy = await startProxy({
    providers: {
      a: { connector: connectors[0], base_url: a.url, api_key: 'key-a' },
      b: { connector: connectors[1], base_url: b.url, api_key: 'key-b' },
    },
    models: { 'a.ma': { provider: 'a', capabilities: ['chat-completion'] }, 'b.mb': { provider: 'b', capabilities: ['chat-completion'] } },
    pools: { p: { models: ['a.ma', 'b.mb'], strategy: 'modelmesh.priority-selection.v1', retry: { max_attempts: 1 } } },
  });
  const events = requestEvents(proxy.mesh);
  t.after(async () => {
    await proxy.close();
    await a.close();
    await b.close();
  });
  return { a, b, proxy, events };
}

/** The request event of the one request made; it is emitted as the answer ends, so it may trail the reply a little. */
async function requestEvent(events: RequestEvent[]): Promise<RequestEvent> {
  for (let i = 0; i < 100 && events.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(events.length, 1);
  return events[0] as RequestEvent;
}

test('native non-stream answer: cache reads and writes count as input tokens, as in the native stream', async (t) => {
  const { a, proxy, events } = await setup(t, ['anthropic.claude.v1', 'vllm.local.v1']);
  a.handle(json(200, MESSAGE));
  const reply = await postJson(`${proxy.url}/v1/messages`, ASK);
  assert.equal(reply.status, 200);
  assert.deepEqual(reply.json, MESSAGE);
  const buffered = await requestEvent(events);
  assert.equal(buffered.tokens_in, 124);
  assert.equal(buffered.tokens_out, 3);

  events.length = 0;
  a.handle(sse(NATIVE_STREAM, { done: false }));
  const streamed = await postJson(`${proxy.url}/v1/messages`, { ...ASK, stream: true });
  assert.equal(streamed.body, NATIVE_STREAM.join(''));
  const done = await requestEvent(events);
  assert.deepEqual([done.tokens_in, done.tokens_out], [buffered.tokens_in, buffered.tokens_out]);
});

test('translated non-stream: a 200 {"error":…} from the first model is its failure and the second model answers', async (t) => {
  const { a, b, proxy, events } = await setup(t, ['vllm.local.v1', 'vllm.local.v1']);
  a.handle(json(200, { error: { message: 'x', code: 502 } }));
  b.handle(json(200, COMPLETION));
  const reply = await postJson(`${proxy.url}/v1/messages`, ASK);
  assert.equal(reply.status, 200, reply.body);
  assert.equal(reply.headers['x-modelmesh-model'], 'b.mb');
  assert.deepEqual(reply.json.content, [{ type: 'text', text: 'from b' }]);
  assert.equal(a.requests.length, 1);
  const request = await requestEvent(events);
  assert.deepEqual(request.attempts.map((x) => [x.model, x.outcome, x.status]), [['a.ma', 'failure', 502], ['b.mb', 'success', 200]]);
  assert.match(request.attempts[0]?.reason ?? '', /x/);
});

test('translated non-stream: a spaced, pretty-printed error envelope fails over too', async (t) => {
  const { b, a, proxy } = await setup(t, ['vllm.local.v1', 'vllm.local.v1']);
  a.handle(json(200, `\n${JSON.stringify({ id: 'gen-1', error: { message: 'provider down', code: 503 } }, null, 2)}\n`));
  b.handle(json(200, COMPLETION));
  const reply = await postJson(`${proxy.url}/v1/messages`, ASK);
  assert.equal(reply.status, 200, reply.body);
  assert.equal(reply.headers['x-modelmesh-model'], 'b.mb');
  assert.equal(b.requests.length, 1);
});

test('native non-stream: a 200 Anthropic error envelope, pretty-printed or with a leading newline, fails over', async (t) => {
  const envelope = { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } };
  const variants = [
    JSON.stringify(envelope, null, 2),
    `\n ${JSON.stringify(envelope)}`,
    '{ "type" : "error", "error": {"type": "api_error", "message": "Internal"} }',
    JSON.stringify({ error: envelope.error, type: 'error' }),
  ];
  // A fresh mesh per variant: the first failure may take a.ma to standby, and each must reach it.
  for (const body of variants) {
    const { a, b, proxy, events } = await setup(t, ['anthropic.claude.v1', 'vllm.local.v1']);
    a.handle(json(200, body));
    b.handle(json(200, COMPLETION));
    const reply = await postJson(`${proxy.url}/v1/messages`, ASK);
    assert.equal(reply.status, 200, `${body}: ${reply.body}`);
    assert.equal(reply.headers['x-modelmesh-model'], 'b.mb', body);
    assert.deepEqual(reply.json.content, [{ type: 'text', text: 'from b' }], body);
    assert.equal(a.requests.length, 1, body);
    const first = (await requestEvent(events)).attempts[0];
    assert.deepEqual([first?.model, first?.outcome], ['a.ma', 'failure'], body);
    assert.match(first?.reason ?? '', /^(529 Overloaded|500 Internal) \(200 error answer\)$/, body);
  }
});

test('native stream: an error event after a leading ping fails over before anything reaches the client', async (t) => {
  const { a, b, proxy } = await setup(t, ['anthropic.claude.v1', 'vllm.local.v1']);
  a.handle(sse([ev({ type: 'ping' }), ev({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } })], { done: false }));
  b.handle(sse([chunk({ content: 'ok' }), chunk({}, 'stop')]));
  const reply = await postJson(`${proxy.url}/v1/messages`, { ...ASK, stream: true });
  assert.equal(reply.status, 200);
  assert.equal(reply.headers['x-modelmesh-model'], 'b.mb');
  const events = parseSse(reply.body);
  assert.equal(events[0]?.event, 'message_start');
  assert.equal(events.at(-1)?.event, 'message_stop');
  assert.ok(!events.some((e) => e.event === 'error'), reply.body);
});

test('native stream: leading pings are skipped, the answer after them is relayed as is', async (t) => {
  const { a, b, proxy } = await setup(t, ['anthropic.claude.v1', 'vllm.local.v1']);
  a.handle(sse([ev({ type: 'ping' }), ev({ type: 'ping' }), ...NATIVE_STREAM], { done: false }));
  const reply = await postJson(`${proxy.url}/v1/messages`, { ...ASK, stream: true });
  assert.equal(reply.status, 200);
  assert.equal(reply.headers['x-modelmesh-model'], 'a.ma');
  assert.equal(reply.body, NATIVE_STREAM.join(''));
  assert.equal(b.requests.length, 0);
});

test('native stream: a stream that ends with nothing but pings fails over', async (t) => {
  const { a, b, proxy } = await setup(t, ['anthropic.claude.v1', 'vllm.local.v1']);
  a.handle(sse([ev({ type: 'ping' })], { done: false }));
  b.handle(sse([chunk({ content: 'ok' }), chunk({}, 'stop')]));
  const reply = await postJson(`${proxy.url}/v1/messages`, { ...ASK, stream: true });
  assert.equal(reply.headers['x-modelmesh-model'], 'b.mb', reply.body);
  assert.equal(parseSse(reply.body).at(-1)?.event, 'message_stop');
});

test('translated stream: a spaced finish_reason completes the answer when the upstream closes without [DONE]', async (t) => {
  const { a, proxy } = await setup(t, ['vllm.local.v1', 'vllm.local.v1']);
  a.handle(sse([
    'data: {"id": "c1", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hi"}, "finish_reason": null}]}\n\n',
    'data: {"id": "c1", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}\n\n',
  ], { done: false }));
  const reply = await postJson(`${proxy.url}/v1/messages`, { ...ASK, stream: true });
  assert.equal(reply.status, 200);
  const events = parseSse(reply.body);
  assert.equal(events.at(-1)?.event, 'message_stop', reply.body);
  assert.ok(!events.some((e) => e.event === 'error'), reply.body);
});
