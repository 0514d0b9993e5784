// POST /v1/completions (legacy, fill-in-the-middle) through the router against scripted fake upstreams: the body
// passes through with only `model` swapped, streaming with usage accounting, failover, eligibility reasons
// (capability and connector), 400s before anything is sent, and the simulated provider's answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closedPort, json, sse, startFakeUpstream, type FakeUpstream } from '../../helpers/fake-upstream.ts';
import { errorOf, postJson, simulatedConfig, startProxy, type StartedProxy } from '../../helpers/proxy.ts';
import type { RequestEvent } from '../../../src/mesh/events.ts';
import { startPair } from '../../helpers/pair.ts';

type Json = Record<string, unknown>;

const ANSWER = {
  id: 'cmpl-1', object: 'text_completion', created: 1, model: 'cmp-a',
  choices: [{ text: '    return a + b\n', index: 0, logprobs: null, finish_reason: 'stop' }],
  usage: { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 },
};
const ASK = { model: 'completions', prompt: 'def add(a, b):\n', suffix: '\nprint(add(1, 2))', max_tokens: 32 };

interface Setup { a: FakeUpstream; b: FakeUpstream; proxy: StartedProxy; events: RequestEvent[] }

async function setup(t: { after: (fn: () => Promise<void>) => void }, aUrl?: string): Promise<Setup> {
  const pair = await startPair(t, {
    models: {
      'a.cmp-a': { provider: 'a', capabilities: ['code-generation'], pricing: { input_per_1m: 1, output_per_1m: 2 } },
      'b.chat': { provider: 'b', capabilities: ['chat-completion'] },
      'b.cmp-b': { provider: 'b', capabilities: ['text-completion'] },
    },
    pools: { completions: { models: ['a.cmp-a', 'b.chat', 'b.cmp-b'], retry: { max_attempts: 1 } } },
  }, aUrl);
  pair.a.handle(json(200, ANSWER));
  pair.b.handle(json(200, ANSWER));
  return { a: pair.a, b: pair.b, proxy: pair.proxy, events: pair.requests };
}

const post = (proxy: StartedProxy, body: unknown) => postJson(`${proxy.url}/v1/completions`, body);

test('the body passes through untouched but for model; the answer is relayed as received; usage and cost recorded', async (t) => {
  const { a, b, proxy, events } = await setup(t);
  const ask = { ...ASK, prompt: ['one', 'two'], n: 2, best_of: 3, stop: ['\n\n', '```'], echo: true, temperature: 0.2, logprobs: 2, user: 'u1', seed: 7, vendor_extra: { x: 1 } };
  const reply = await post(proxy, ask);
  assert.equal(reply.status, 200, reply.body);
  assert.equal(reply.body, JSON.stringify(ANSWER));
  assert.equal(reply.headers['x-modelmesh-model'], 'a.cmp-a');
  assert.equal(a.requests[0]?.path, '/v1/completions');
  assert.deepEqual(a.requests[0]?.json, { ...ask, model: 'cmp-a' });
  assert.equal(b.requests.length, 0);
  assert.deepEqual([events[0]?.tokens_in, events[0]?.tokens_out], [11, 7]);
  assert.equal(events[0]?.cost, (11 * 1 + 7 * 2) / 1e6);
});

test('token-array prompts pass through as sent', async (t) => {
  const { a, proxy } = await setup(t);
  for (const prompt of [[1, 2, 3], [[1, 2], [3]]]) {
    const reply = await post(proxy, { model: 'completions', prompt });
    assert.equal(reply.status, 200, reply.body);
    assert.deepEqual((a.requests.at(-1)?.json as Json)['prompt'], prompt);
  }
});

test('stream: events relayed to [DONE]; usage asked for upstream, recorded, and its chunk dropped unless asked', async (t) => {
  const { a, proxy, events } = await setup(t);
  const chunk = (text: string, finish: string | null) => ({ id: 'cmpl-1', object: 'text_completion', created: 1, model: 'cmp-a', choices: [{ text, index: 0, logprobs: null, finish_reason: finish }], usage: null });
  const usageChunk = { id: 'cmpl-1', object: 'text_completion', created: 1, model: 'cmp-a', choices: [], usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 } };
  a.handle(sse([chunk('    return', null), chunk(' a + b', 'stop'), usageChunk]));

  const reply = await post(proxy, { ...ASK, stream: true });
  assert.equal(reply.status, 200);
  assert.match(String(reply.headers['content-type']), /^text\/event-stream/);
  const sent = (a.requests[0]?.json as Json);
  assert.deepEqual(sent['stream_options'], { include_usage: true });
  assert.equal(reply.body, [chunk('    return', null), chunk(' a + b', 'stop')].map((c) => `data: ${JSON.stringify(c)}\n\n`).join('') + 'data: [DONE]\n\n');
  assert.deepEqual([events[0]?.outcome, events[0]?.tokens_in, events[0]?.tokens_out], ['success', 5, 2]);

  const asked = await post(proxy, { ...ASK, stream: true, stream_options: { include_usage: true } });
  assert.ok(asked.body.includes(JSON.stringify(usageChunk)), asked.body);
});

test('stream: a model answering stream=true whole is relayed as the stream asked for (text chunk, finish chunk, usage read), not failed over', async (t) => {
  const { a, b, proxy, events } = await setup(t);
  const reply = await post(proxy, { ...ASK, stream: true }); // a answers the whole ANSWER JSON
  assert.equal(reply.status, 200);
  assert.match(String(reply.headers['content-type']), /^text\/event-stream/);
  assert.equal(reply.headers['x-modelmesh-model'], 'a.cmp-a');
  assert.equal(b.requests.length, 0);
  const base = { id: 'cmpl-1', object: 'text_completion', created: 1, model: 'cmp-a' };
  assert.equal(reply.body, [
    { ...base, choices: [{ text: '    return a + b\n', index: 0, logprobs: null, finish_reason: null }] },
    { ...base, choices: [{ text: '', index: 0, logprobs: null, finish_reason: 'stop' }] },
  ].map((c) => `data: ${JSON.stringify(c)}\n\n`).join('') + 'data: [DONE]\n\n');
  assert.deepEqual([events[0]?.outcome, events[0]?.tokens_in, events[0]?.tokens_out], ['success', 11, 7]);
  // A gateway's 200 error envelope to the same request is a failed attempt: the next model answers.
  a.handle(json(200, { error: { message: 'overloaded', type: 'server_error' } }));
  const rotated = await post(proxy, { ...ASK, stream: true });
  assert.equal(rotated.headers['x-modelmesh-model'], 'b.cmp-b');
  assert.ok(rotated.body.includes('return a + b') && rotated.body.endsWith('data: [DONE]\n\n'), rotated.body);
});

test('a failing first provider (500) fails over to the second; a refused one too', async (t) => {
  const { a, b, proxy } = await setup(t);
  a.handle(json(500, { error: { message: 'boom' } }));
  const reply = await post(proxy, ASK);
  assert.equal(reply.status, 200);
  assert.equal(reply.headers['x-modelmesh-model'], 'b.cmp-b');
  assert.equal(reply.headers['x-modelmesh-attempts'], '2');
  assert.deepEqual([a.requests.length, b.requests.length], [1, 1]);
  assert.deepEqual(b.requests[0]?.json, { ...ASK, model: 'cmp-b' });

  const refused = await setup(t, `http://127.0.0.1:${await closedPort()}/v1`);
  refused.b.handle(sse([{ ...ANSWER, usage: null }]));
  const again = await post(refused.proxy, { ...ASK, stream: true });
  assert.equal(again.status, 200);
  assert.equal(again.headers['x-modelmesh-model'], 'b.cmp-b');
});

test('a broken 2xx JSON answer is a failed attempt: the next model answers', async (t) => {
  const { a, proxy } = await setup(t);
  a.handle(json(200, '<html>gateway</html>'));
  const reply = await post(proxy, ASK);
  assert.equal(reply.status, 200);
  assert.equal(reply.headers['x-modelmesh-model'], 'b.cmp-b');
});

test('not eligible: a chat-only model (capability) and an Anthropic model (connector), each with its reason', async (t) => {
  const up = await startFakeUpstream();
  t.after(() => up.close());
  const proxy = await startProxy({
    providers: {
      a: { connector: 'openai.llm.v1', base_url: up.url, api_key: 'k' },
      anthropic: { connector: 'anthropic.claude.v1', base_url: up.url, api_key: 'k' },
    },
    models: {
      'a.chat': { provider: 'a', capabilities: ['chat-completion'] },
      'anthropic.claude': { provider: 'anthropic', capabilities: ['chat-completion', 'code-generation'] },
    },
    pools: { coders: { models: ['a.chat', 'anthropic.claude'] } },
  });
  t.after(() => proxy.close());
  const reply = await post(proxy, { model: 'coders', prompt: 'x' });
  assert.equal(reply.status, 400, reply.body);
  const err = errorOf(reply);
  assert.equal(err.code, 'no_eligible_models');
  assert.match(err.message, /a\.chat: does not serve completions \(capabilities: generation\.text-generation\.chat-completion\)/);
  assert.match(err.message, /anthropic\.claude: its connector anthropic\.claude\.v1 does not serve completions/);
  assert.equal(up.requests.length, 0);
  // The same Anthropic model still serves chat.
  up.handle(json(200, { id: 'msg_1', type: 'message', role: 'assistant', content: [{ type: 'text', text: 'hi' }], stop_reason: 'end_turn', usage: { input_tokens: 1, output_tokens: 1 } }));
  const chat = await postJson(`${proxy.url}/v1/chat/completions`, { model: 'anthropic.claude', messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(chat.status, 200, chat.body);
});

test('a text-completion model serves no chat-shaped endpoint: chat, Responses and Messages skip it (it has no chat endpoint)', async (t) => {
  const pair = await startPair(t, {
    models: {
      'a.chat': { provider: 'a', capabilities: ['chat-completion'] },
      'b.cmp-b': { provider: 'b', capabilities: ['text-completion'] },
    },
    // The completion model first: stick-until-failure would have kept sending chat-shaped requests to it.
    pools: { mixed: { models: ['b.cmp-b', 'a.chat'] }, legacy: { models: ['b.cmp-b'] } },
  });
  pair.a.handle(json(200, { id: 'c1', object: 'chat.completion', created: 1, model: 'chat', choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } }));
  const asks: [string, Record<string, unknown>][] = [
    ['/v1/chat/completions', { messages: [{ role: 'user', content: 'hi' }] }],
    ['/v1/responses', { input: 'hi' }],
    ['/v1/messages', { max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }],
  ];
  for (const [path, body] of asks) {
    const ok = await postJson(`${pair.proxy.url}${path}`, { ...body, model: 'mixed' });
    assert.equal(ok.status, 200, `${path}: ${ok.body}`);
    assert.equal(ok.headers['x-modelmesh-model'], 'a.chat', path);
    const refused = await postJson(`${pair.proxy.url}${path}`, { ...body, model: 'legacy' });
    assert.equal(refused.status, 400, `${path}: ${refused.body}`);
    assert.match(refused.body, /no_eligible_models|b\.cmp-b: does not serve/, path);
  }
  assert.equal(pair.b.requests.length, 0, 'nothing reached the completion-only model');
  assert.equal(pair.requests.filter((e) => e.attempts.some((x) => x.model === 'b.cmp-b')).length, 0);
});

test('invalid requests: 400 naming the parameter, nothing sent upstream', async (t) => {
  const { a, b, proxy } = await setup(t);
  const cases: [unknown, string][] = [
    [{ prompt: 'x' }, 'model'],
    [{ model: 'completions' }, 'prompt'],
    [{ model: 'completions', prompt: 5 }, 'prompt'],
    [{ model: 'completions', prompt: [] }, 'prompt'],
    [{ model: 'completions', prompt: ['a', 3] }, 'prompt'],
    [{ model: 'completions', prompt: [1.5] }, 'prompt'],
    [{ ...ASK, suffix: 3 }, 'suffix'],
    [{ ...ASK, max_tokens: -1 }, 'max_tokens'],
    [{ ...ASK, max_tokens: 'ten' }, 'max_tokens'],
    [{ ...ASK, max_tokens: 1e308 }, 'max_tokens'],
    [{ ...ASK, max_tokens: 2 ** 31 }, 'max_tokens'],
    [{ ...ASK, n: 0 }, 'n'],
    [{ ...ASK, n: 2, best_of: 1 }, 'best_of'],
    [{ ...ASK, best_of: 2, stream: true }, 'best_of'],
    [{ ...ASK, stop: ['a', 'b', 'c', 'd', 'e'] }, 'stop'],
    [{ ...ASK, stop: 7 }, 'stop'],
    [{ ...ASK, stream: 'yes' }, 'stream'],
    [{ ...ASK, echo: 1 }, 'echo'],
    [{ ...ASK, logprobs: 6 }, 'logprobs'],
    [{ ...ASK, temperature: 3 }, 'temperature'],
    [{ ...ASK, stream: true, stream_options: 'on' }, 'stream_options'],
  ];
  for (const [body, param] of cases) {
    const reply = await post(proxy, body);
    assert.equal(reply.status, 400, JSON.stringify(body));
    assert.equal(errorOf(reply).param, param, JSON.stringify(body));
  }
  assert.equal(a.requests.length + b.requests.length, 0);
});

test('simulated: deterministic text, suffix (FIM), echo, n, stop, max_tokens, and a stream with usage', async (t) => {
  const proxy = await startProxy(simulatedConfig({
    models: { 'sim.complete': { provider: 'sim', capabilities: ['text-completion'] } },
  }));
  t.after(() => proxy.close());
  const first = await post(proxy, { model: 'sim.complete', prompt: 'def add(a, b):', suffix: '    return c' });
  const again = await post(proxy, { model: 'sim.complete', prompt: 'def add(a, b):', suffix: '    return c' });
  assert.equal(first.status, 200, first.body);
  assert.equal(first.json.object, 'text_completion');
  assert.match(first.json.id, /^cmpl-[0-9a-f]{24}$/);
  assert.equal(first.json.choices[0].text, ' /* simulated fill-in-the-middle by complete: after "def add(a, b):", before "return c" */ ');
  assert.equal(again.json.choices[0].text, first.json.choices[0].text);
  assert.ok(first.json.usage.prompt_tokens > 0 && first.json.usage.completion_tokens > 0);

  const many = await post(proxy, { model: 'sim.complete', prompt: ['Once', 'Twice'], n: 2, echo: true, stop: ' of' });
  assert.deepEqual(many.json.choices.map((c: Json) => [c['index'], c['text'], c['finish_reason']]), [
    [0, 'Once Simulated completion from complete', 'stop'],
    [1, 'Once Simulated completion from complete #2', 'stop'],
    [2, 'Twice Simulated completion from complete', 'stop'],
    [3, 'Twice Simulated completion from complete #2', 'stop'],
  ]);
  const cut = await post(proxy, { model: 'sim.complete', prompt: 'Hello', max_tokens: 2 });
  assert.deepEqual([cut.json.choices[0].text, cut.json.choices[0].finish_reason], [' Simulat', 'length']);

  const stream = await post(proxy, { model: 'sim.complete', prompt: 'Hello', stream: true, stream_options: { include_usage: true } });
  assert.equal(stream.status, 200);
  const data = stream.body.split('\n\n').filter((b) => b.startsWith('data: ')).map((b) => b.slice(6));
  assert.equal(data.at(-1), '[DONE]');
  const chunks = data.slice(0, -1).map((d) => JSON.parse(d) as Json);
  const texts = chunks.flatMap((c) => (c['choices'] as Json[]).map((ch) => ch['text'])).join('');
  assert.equal(texts, ' Simulated completion from complete of "Hello".');
  const last = chunks.at(-1) as Json;
  assert.deepEqual(last['choices'], []);
  assert.ok((last['usage'] as Json)['completion_tokens'] as number > 0);
  assert.equal((chunks.at(-2)?.['choices'] as Json[])[0]?.['finish_reason'], 'stop');
});
