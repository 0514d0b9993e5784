// POST /v1/chat/completions through the router against scripted fake upstreams: what the client received
// AND what each upstream saw (issue "Routing core", How it is checked).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { closedPort, destroy, hang, json, sse, startFakeUpstream, text, type Behaviour, type FakeUpstream } from '../../helpers/fake-upstream.ts';
import { errorOf, postJson, requestEvents, startProxy, type StartedProxy } from '../../helpers/proxy.ts';
import type { RequestEvent } from '../../../src/mesh/events.ts';

const COMPLETION = {
  id: 'chatcmpl-1', object: 'chat.completion', created: 1, model: 'up-model',
  choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, logprobs: null, finish_reason: 'stop' }],
  usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
};
const chunk = (delta: object, finish: string | null = null, extra: object = {}): object => ({
  id: 'chatcmpl-2', object: 'chat.completion.chunk', created: 1, model: 'up-model',
  choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], ...extra,
});
const STREAM = [chunk({ role: 'assistant', content: '' }), chunk({ content: 'Hel' }), chunk({ content: 'lo' }), chunk({}, 'stop'),
  { id: 'chatcmpl-2', object: 'chat.completion.chunk', created: 1, model: 'up-model', choices: [], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } }];
const ASK = { model: 'chat-pool', messages: [{ role: 'user', content: 'Hello' }] };

/** A proxy with two OpenAI-compatible providers a and b (one model each) in pool `chat-pool`. */
async function twoProviders(a: string, b: string, pool: Record<string, unknown> = {}, providerExtra: Record<string, unknown> = {}): Promise<StartedProxy> {
  return startProxy({
    providers: {
      a: { connector: 'openai.llm.v1', base_url: a, api_key: 'key-a', ...providerExtra },
      b: { connector: 'openai.llm.v1', base_url: b, api_key: 'key-b', ...providerExtra },
    },
    models: {
      'a.model-a': { provider: 'a', capabilities: ['chat-completion'] },
      'b.model-b': { provider: 'b', capabilities: ['chat-completion'] },
    },
    pools: { 'chat-pool': { models: ['a.model-a', 'b.model-b'], retry: { max_attempts: 2, initial_delay: '10ms' }, ...pool } },
  });
}

async function setup(t: { after: (fn: () => Promise<void>) => void }, pool: Record<string, unknown> = {}, providerExtra: Record<string, unknown> = {}): Promise<{ a: FakeUpstream; b: FakeUpstream; proxy: StartedProxy }> {
  const a = await startFakeUpstream();
  const b = await startFakeUpstream();
  const proxy = await twoProviders(a.url, b.url, pool, providerExtra);
  t.after(async () => {
    await proxy.close();
    await a.close();
    await b.close();
  });
  b.handle(json(200, COMPLETION));
  return { a, b, proxy };
}

test('forwards the client body with only model rewritten, auth per provider, x-modelmesh headers', async (t) => {
  const { a, b, proxy } = await setup(t);
  a.handle(json(200, COMPLETION));
  const reply = await postJson(`${proxy.url}/v1/chat/completions`, { ...ASK, temperature: 0.3, custom_field: { x: [1, 2] } }, { 'x-request-id': 'client-req-1' });
  assert.equal(reply.status, 200);
  assert.deepEqual(reply.json, COMPLETION);
  assert.equal(reply.headers['x-request-id'], 'client-req-1');
  assert.equal(reply.headers['x-modelmesh-pool'], 'chat-pool');
  assert.equal(reply.headers['x-modelmesh-model'], 'a.model-a');
  assert.equal(reply.headers['x-modelmesh-provider'], 'a');
  assert.equal(reply.headers['x-modelmesh-attempts'], '1');
  assert.equal(a.requests.length, 1);
  assert.equal(b.requests.length, 0);
  const seen = a.requests[0];
  assert.equal(seen?.path, '/v1/chat/completions');
  assert.equal(seen?.headers['authorization'], 'Bearer key-a');
  assert.deepEqual(seen?.json, { ...ASK, model: 'model-a', temperature: 0.3, custom_field: { x: [1, 2] } });
});

test('primary refusing connections fails over to the secondary before the client sees a byte', async (t) => {
  const b = await startFakeUpstream();
  b.handle(json(200, COMPLETION));
  const proxy = await twoProviders(`http://127.0.0.1:${await closedPort()}/v1`, b.url);
  t.after(async () => {
    await proxy.close();
    await b.close();
  });
  const started = performance.now();
  const reply = await postJson(`${proxy.url}/v1/chat/completions`, ASK);
  const elapsed = performance.now() - started;
  assert.equal(reply.status, 200);
  assert.equal(reply.headers['x-modelmesh-model'], 'b.model-b');
  assert.equal(reply.headers['x-modelmesh-attempts'], '3'); // two tries on a (transport errors retry), then b
  assert.equal((b.requests[0]?.json as { model: string }).model, 'model-b');
  t.diagnostic(`failover with a refused primary took ${elapsed.toFixed(1)} ms including one 10 ms backoff`);
});

test('500 is retried on the same model, then rotates; the final error lists every attempt', async (t) => {
  const { a, b, proxy } = await setup(t);
  a.handle(json(500, { error: { message: 'boom', type: 'server_error', param: null, code: null } }));
  b.handle(json(503, { error: { message: 'overloaded', type: 'server_error', param: null, code: null } }));
  const reply = await postJson(`${proxy.url}/v1/chat/completions`, ASK);
  assert.equal(reply.status, 502);
  assert.equal(a.requests.length, 2);
  assert.equal(b.requests.length, 2);
  const err = errorOf(reply);
  assert.equal(err.type, 'server_error');
  assert.equal(err.code, 'upstream_error');
  assert.match(err.message, /a\.model-a: 500 boom; a\.model-a: 500 boom; b\.model-b: 503 overloaded; b\.model-b: 503 overloaded/);
  assert.deepEqual(Object.keys(reply.json.error).sort(), ['code', 'message', 'param', 'type']);
});

test('503 then success on the same model: one retry, no rotation', async (t) => {
  const { a, b, proxy } = await setup(t);
  a.sequence(json(503, { error: { message: 'busy' } }), json(200, COMPLETION));
  const reply = await postJson(`${proxy.url}/v1/chat/completions`, ASK);
  assert.equal(reply.status, 200);
  assert.equal(reply.headers['x-modelmesh-model'], 'a.model-a');
  assert.equal(reply.headers['x-modelmesh-attempts'], '2');
  assert.equal(b.requests.length, 0);
});

test('429 with Retry-After within max_delay waits and retries; beyond max_delay rotates at once', async (t) => {
  const { a, b, proxy } = await setup(t, { retry: { max_attempts: 2, initial_delay: '10ms', max_delay: '2s' } });
  a.sequence(json(429, { error: { message: 'slow down' } }, { 'retry-after-ms': '50' }), json(200, COMPLETION));
  const first = await postJson(`${proxy.url}/v1/chat/completions`, ASK);
  assert.equal(first.status, 200);
  assert.equal(first.headers['x-modelmesh-model'], 'a.model-a');
  assert.equal(a.requests.length, 2);
  assert.equal(b.requests.length, 0, 'the wait was short enough: no rotation');

  a.handle(json(429, { error: { message: 'come back later' } }, { 'retry-after': '30' }));
  const second = await postJson(`${proxy.url}/v1/chat/completions`, ASK);
  assert.equal(second.status, 200);
  assert.equal(b.requests.length, 1);
  assert.equal(second.headers['x-modelmesh-model'], 'b.model-b');
  assert.equal(a.requests.length, 3, 'Retry-After 30s > max_delay 2s: no second try on a');
});

test('a Retry-After wait the deadline would cut short rotates at once instead of ending in a 504', async (t) => {
  const a = await startFakeUpstream();
  const b = await startFakeUpstream();
  a.handle(json(503, { error: { message: 'busy' } }, { 'retry-after': '1' }));
  b.handle(json(200, COMPLETION));
  const proxy = await startProxy({
    proxy: { timeouts: { deadline: '500ms' } },
    providers: { a: { connector: 'openai.llm.v1', base_url: a.url, api_key: 'key-a' }, b: { connector: 'openai.llm.v1', base_url: b.url, api_key: 'key-b' } },
    models: { 'a.model-a': { provider: 'a', capabilities: ['chat-completion'] }, 'b.model-b': { provider: 'b', capabilities: ['chat-completion'] } },
    pools: { 'chat-pool': { models: ['a.model-a', 'b.model-b'], strategy: 'modelmesh.priority-selection.v1', retry: { max_attempts: 2, max_delay: '5s' } } },
  });
  t.after(async () => {
    await proxy.close();
    await a.close();
    await b.close();
  });
  const started = Date.now();
  const reply = await postJson(`${proxy.url}/v1/chat/completions`, ASK);
  assert.equal(reply.status, 200, reply.body);
  assert.equal(reply.headers['x-modelmesh-model'], 'b.model-b');
  assert.equal(a.requests.length, 1, 'no wait of 1 s within a 500 ms deadline');
  assert.ok(Date.now() - started < 400, `answered at once (${Date.now() - started} ms)`);
});

test("stick-until-failure keeps its pick through a client's 400 and through a request naming another model directly", async (t) => {
  const { a, b, proxy } = await setup(t, { retry: { max_attempts: 1 } });
  const refusesBadTemperature = (ok: Behaviour): Behaviour => (req, res, recorded) => {
    const temperature = (recorded.json as { temperature?: number } | undefined)?.temperature;
    return temperature === 99 ? json(400, { error: { message: 'temperature must be at most 2' } })(req, res, recorded) : ok(req, res, recorded);
  };
  a.sequence(json(503, { error: { message: 'busy' } }), refusesBadTemperature(json(200, COMPLETION)));
  b.handle(refusesBadTemperature(json(200, COMPLETION)));
  const served = async (body: Record<string, unknown>): Promise<string> => {
    const reply = await postJson(`${proxy.url}/v1/chat/completions`, body);
    return `${reply.status}:${reply.headers['x-modelmesh-model'] ?? '-'}`;
  };
  assert.equal(await served(ASK), '200:b.model-b', 'a failed once: the pool moves to b');
  assert.equal(await served(ASK), '200:b.model-b');
  assert.equal((await served({ ...ASK, temperature: 99 })).split(':')[0], '400');
  assert.equal(await served(ASK), '200:b.model-b', "a client's mistake is not b's failure");
  assert.equal(await served({ ...ASK, model: 'a.model-a' }), '200:a.model-a', 'a model named directly');
  assert.equal(await served(ASK), '200:b.model-b', 'the pool did not choose a: its pick stays b');
});

test('a megabyte model name is a quick 404 with the name clipped (the did-you-mean table was (len+1)² per known name)', async (t) => {
  const { proxy } = await setup(t);
  const name = 'x'.repeat(1_000_000);
  const started = Date.now();
  const reply = await postJson(`${proxy.url}/v1/chat/completions`, { ...ASK, model: name });
  assert.equal(reply.status, 404);
  assert.equal(errorOf(reply).code, 'model_not_found');
  assert.ok(Date.now() - started < 1_000, `answered in ${Date.now() - started} ms`);
  assert.ok(reply.body.length < 1_000, `the name is not echoed whole (${reply.body.length} bytes)`);
  assert.match(errorOf(reply).message, /^The model `x{200}…` does not exist\./);
});

test('all attempts rate limited → 429 with Retry-After', async (t) => {
  const { a, b, proxy } = await setup(t, { retry: { max_attempts: 1 } });
  a.handle(json(429, { error: { message: 'rl a' } }, { 'retry-after': '7' }));
  b.handle(json(429, { error: { message: 'rl b' } }, { 'retry-after': '3' }));
  const reply = await postJson(`${proxy.url}/v1/chat/completions`, ASK);
  assert.equal(reply.status, 429);
  assert.ok(Number(reply.headers['retry-after']) >= 1);
  assert.equal(errorOf(reply).code, 'rate_limit_exceeded');
});

test('400 is not retried: it rotates, and the same 400 everywhere is returned as 400', async (t) => {
  const { a, b, proxy } = await setup(t);
  const bad = json(400, { error: { message: 'bad temperature', type: 'invalid_request_error', param: 'temperature', code: null } });
  a.handle(bad);
  b.handle(bad);
  const reply = await postJson(`${proxy.url}/v1/chat/completions`, ASK);
  assert.equal(reply.status, 400);
  assert.equal(a.requests.length, 1);
  assert.equal(b.requests.length, 1);
  assert.equal(reply.headers['x-should-retry'], 'false');
  assert.match(errorOf(reply).message, /400 bad temperature/);
});

test('401 puts the provider in standby in every pool', async (t) => {
  const a = await startFakeUpstream();
  const b = await startFakeUpstream();
  a.handle(json(401, { error: { message: 'Incorrect API key provided', code: 'invalid_api_key' } }));
  b.handle(json(200, COMPLETION));
  const proxy = await startProxy({
    providers: { a: { connector: 'openai.llm.v1', base_url: a.url, api_key: 'k' }, b: { connector: 'openai.llm.v1', base_url: b.url, api_key: 'k' } },
    models: {
      'a.m1': { provider: 'a', capabilities: ['chat-completion'] },
      'a.m2': { provider: 'a', capabilities: ['chat-completion'] },
      'b.m3': { provider: 'b', capabilities: ['chat-completion'] },
    },
    pools: { one: { models: ['a.m1', 'b.m3'] }, two: { models: ['a.m2', 'b.m3'] } },
  });
  t.after(async () => {
    await proxy.close();
    await a.close();
    await b.close();
  });
  const first = await postJson(`${proxy.url}/v1/chat/completions`, { ...ASK, model: 'one' });
  assert.equal(first.status, 200);
  assert.equal(first.headers['x-modelmesh-model'], 'b.m3');
  assert.equal(a.requests.length, 1, '401 is not retried');
  const second = await postJson(`${proxy.url}/v1/chat/completions`, { ...ASK, model: 'two' });
  assert.equal(second.headers['x-modelmesh-model'], 'b.m3');
  assert.equal(a.requests.length, 1, 'a.m2 skipped: its provider is in standby');
  const models = await postJson(`${proxy.url}/v1/models/two`, undefined).catch(() => null);
  void models;
  const card = proxy.mesh.findModel('two');
  const member = card?.modelmesh.members.find((m) => m.id === 'a.m2');
  assert.equal(member?.status, 'standby');
  assert.match(member?.reason ?? '', /auth failure/);
});

test('an upstream hanging past the first-byte timeout rotates', async (t) => {
  const { a, b, proxy } = await setup(t, { retry: { max_attempts: 1 } }, { timeouts: { first_byte: '150ms' } });
  a.handle(hang());
  const reply = await postJson(`${proxy.url}/v1/chat/completions`, ASK);
  assert.equal(reply.status, 200);
  assert.equal(reply.headers['x-modelmesh-model'], 'b.model-b');
  assert.equal(b.requests.length, 1);
});

test('request deadline bounds the whole attempt loop → 504', async (t) => {
  const a = await startFakeUpstream();
  a.handle(hang());
  const proxy = await startProxy({
    proxy: { timeouts: { deadline: '200ms' } },
    providers: { a: { connector: 'openai.llm.v1', base_url: a.url, api_key: 'k' } },
    models: { 'a.m': { provider: 'a', capabilities: ['chat-completion'] } },
    pools: { 'chat-pool': { models: ['a.m'] } },
  });
  t.after(async () => {
    await proxy.close();
    await a.close();
  });
  const reply = await postJson(`${proxy.url}/v1/chat/completions`, ASK);
  assert.equal(reply.status, 504);
  assert.match(errorOf(reply).message, /deadline/);
});

test('streaming: events relayed, usage chunk removed when not asked, upstream asked for usage', async (t) => {
  const { a, proxy } = await setup(t);
  a.handle(sse(STREAM));
  const reply = await postJson(`${proxy.url}/v1/chat/completions`, { ...ASK, stream: true });
  assert.equal(reply.status, 200);
  assert.match(String(reply.headers['content-type']), /^text\/event-stream/);
  const events = reply.body.split('\n\n').filter((e) => e.length > 0);
  assert.equal(events.length, 5, 'four chunks + [DONE], usage chunk removed');
  assert.equal(events.at(-1), 'data: [DONE]');
  assert.ok(!reply.body.includes('"usage":{'));
  assert.deepEqual((a.requests[0]?.json as { stream_options: unknown }).stream_options, { include_usage: true });
});

test('streaming: usage chunk kept when the client asked for it', async (t) => {
  const { a, proxy } = await setup(t);
  a.handle(sse(STREAM));
  const reply = await postJson(`${proxy.url}/v1/chat/completions`, { ...ASK, stream: true, stream_options: { include_usage: true } });
  assert.ok(reply.body.includes('"usage":{"prompt_tokens":3'));
});

test('streaming: failure before the first event rotates; mid-stream failure gives an in-band error and no [DONE]', async (t) => {
  const { a, b, proxy } = await setup(t, { retry: { max_attempts: 1 } });
  a.handle(sse(STREAM, { dropAfter: 0 }));
  b.handle(sse(STREAM));
  const rotated = await postJson(`${proxy.url}/v1/chat/completions`, { ...ASK, stream: true });
  assert.equal(rotated.status, 200);
  assert.equal(rotated.headers['x-modelmesh-model'], 'b.model-b');
  assert.ok(rotated.body.endsWith('data: [DONE]\n\n'));

  b.handle(sse(STREAM, { dropAfter: 2, interval: 20 }));
  a.handle(sse(STREAM, { dropAfter: 2, interval: 20 }));
  const cut = await postJson(`${proxy.url}/v1/chat/completions`, { ...ASK, stream: true });
  assert.equal(cut.status, 200);
  const events = cut.body.split('\n\n').filter((e) => e.length > 0);
  assert.equal(events.length, 3, 'two relayed chunks + one error event');
  const last = JSON.parse((events.at(-1) as string).slice('data: '.length)) as { error: { message: string; type: string } };
  assert.equal(last.error.type, 'server_error');
  assert.match(last.error.message, /failed mid-stream/);
  assert.ok(!cut.body.includes('[DONE]'));
});

test('streaming: a 200 answer that is not SSE (malformed) rotates', async (t) => {
  const { a, b, proxy } = await setup(t, { retry: { max_attempts: 1 } });
  a.handle(text(200, 'this is not an event stream', 'text/plain'));
  b.handle(sse(STREAM));
  const reply = await postJson(`${proxy.url}/v1/chat/completions`, { ...ASK, stream: true });
  assert.equal(reply.status, 200);
  assert.equal(reply.headers['x-modelmesh-model'], 'b.model-b');
});

test('streaming: a model that answers stream=true whole (plain JSON) is relayed as the stream asked for, not failed over or counted against it', async (t) => {
  const { a, b, proxy } = await setup(t, { retry: { max_attempts: 1 } });
  const events = requestEvents(proxy.mesh);
  const call = { id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } };
  a.handle(json(200, {
    ...COMPLETION, system_fingerprint: 'fp_1',
    choices: [{ index: 0, message: { role: 'assistant', content: null, tool_calls: [call] }, logprobs: null, finish_reason: 'tool_calls' }],
  }));
  const reply = await postJson(`${proxy.url}/v1/chat/completions`, { ...ASK, stream: true, stream_options: { include_usage: true } });
  assert.equal(reply.status, 200);
  assert.match(String(reply.headers['content-type']), /^text\/event-stream/);
  assert.equal(reply.headers['x-modelmesh-model'], 'a.model-a', 'no failover');
  assert.equal(b.requests.length, 0);
  assert.ok(reply.body.endsWith('data: [DONE]\n\n'), reply.body);
  const chunks = reply.body.split('\n\n').filter((e) => e.length > 0 && e !== 'data: [DONE]').map((e) => JSON.parse(e.slice('data: '.length)) as Record<string, unknown>);
  const base = { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'up-model', system_fingerprint: 'fp_1' };
  assert.deepEqual(chunks, [
    { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: null, tool_calls: [{ index: 0, ...call }] }, logprobs: null, finish_reason: null }] },
    { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] },
    { ...base, choices: [], usage: COMPLETION.usage },
  ]);
  assert.equal(events[0]?.outcome, 'success');
  assert.equal(events[0]?.tokens_in, 5, 'usage read from the whole answer');
  assert.equal(proxy.mesh.state.model('a.model-a').status, 'active');

  // Without include_usage the client gets no usage chunk (it is read, then dropped, as for a real stream).
  a.handle(json(200, COMPLETION));
  const plain = await postJson(`${proxy.url}/v1/chat/completions`, { ...ASK, stream: true });
  const data = plain.body.split('\n\n').filter((e) => e.length > 0);
  assert.equal(data.length, 3, 'content chunk, finish chunk, [DONE]');
  assert.ok(!plain.body.includes('"usage"'));
  assert.deepEqual((JSON.parse(data[0]?.slice('data: '.length) ?? '{}') as { choices: { delta: unknown }[] }).choices[0]?.delta, { role: 'assistant', content: 'hi' });
});

test('streaming: a whole answer that is an error envelope, or an SSE stream sent without its content type, is still read as such', async (t) => {
  const { a, b, proxy } = await setup(t, { retry: { max_attempts: 1 } });
  // A gateway's 200 {"error":…} to a streaming request: a failed attempt, rotated.
  a.handle(json(200, { error: { message: 'upstream overloaded', type: 'server_error' } }));
  b.handle(sse(STREAM));
  const rotated = await postJson(`${proxy.url}/v1/chat/completions`, { ...ASK, stream: true });
  assert.equal(rotated.headers['x-modelmesh-model'], 'b.model-b');
  assert.ok(rotated.body.endsWith('data: [DONE]\n\n'));
  // Events without a Content-Type: still a stream.
  a.handle((_req, res) => {
    res.removeHeader('content-type');
    res.writeHead(200);
    res.end(STREAM.map((e) => `data: ${JSON.stringify(e)}\n\n`).join('') + 'data: [DONE]\n\n');
  });
  const untyped = await postJson(`${proxy.url}/v1/chat/completions`, { ...ASK, stream: true, model: 'a.model-a' });
  assert.equal(untyped.headers['x-modelmesh-model'], 'a.model-a');
  assert.ok(untyped.body.includes('"content":"Hel"') && untyped.body.endsWith('data: [DONE]\n\n'), untyped.body);
});

test('a client aborting mid-stream makes the upstream see its socket close within 100 ms', async (t) => {
  const { a, proxy } = await setup(t);
  a.handle(sse([...STREAM, ...STREAM, ...STREAM], { interval: 200 }));
  const closed = a.onSocketClose();
  const aborted = await new Promise<number>((resolve, reject) => {
    const req = httpRequest(`${proxy.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      res.once('data', () => {
        const at = performance.now();
        req.destroy();
        resolve(at);
      });
    });
    req.on('error', () => undefined);
    req.end(JSON.stringify({ ...ASK, stream: true }));
    setTimeout(() => reject(new Error('no first chunk')), 5000).unref();
  });
  await closed;
  const delay = performance.now() - aborted;
  assert.ok(delay < 100, `upstream socket closed ${delay.toFixed(1)} ms after the client left`);
  assert.equal(a.requests.length, 1, 'no further attempts after a cancel');
});

test('a client aborting a synchronous request aborts the upstream call', async (t) => {
  const { a, b, proxy } = await setup(t);
  a.handle(hang());
  const closed = a.onSocketClose();
  const req = httpRequest(`${proxy.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' } });
  req.on('error', () => undefined);
  req.end(JSON.stringify(ASK));
  while (a.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
  const at = performance.now();
  req.destroy();
  await closed;
  assert.ok(performance.now() - at < 100);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(b.requests.length, 0, 'cancelled: not rotated');
});

test('a transport reset (socket destroyed) is retryable and rotates', async (t) => {
  const { a, b, proxy } = await setup(t, { retry: { max_attempts: 1 } });
  a.handle(destroy());
  const reply = await postJson(`${proxy.url}/v1/chat/completions`, ASK);
  assert.equal(reply.status, 200);
  assert.equal(b.requests.length, 1);
});

test('validation: model and messages are required, with param named', async (t) => {
  const { proxy } = await setup(t);
  const noModel = await postJson(`${proxy.url}/v1/chat/completions`, { messages: [] });
  assert.equal(noModel.status, 400);
  assert.equal(errorOf(noModel).param, 'model');
  const noMessages = await postJson(`${proxy.url}/v1/chat/completions`, { model: 'chat-pool' });
  assert.equal(noMessages.status, 400);
  assert.equal(errorOf(noMessages).param, 'messages');
  const badMessage = await postJson(`${proxy.url}/v1/chat/completions`, { model: 'chat-pool', messages: ['hi'] });
  assert.equal(errorOf(badMessage).param, 'messages[0]');
  const unknown = await postJson(`${proxy.url}/v1/chat/completions`, { ...ASK, model: 'chat-pol' });
  assert.equal(unknown.status, 404);
  assert.equal(errorOf(unknown).code, 'model_not_found');
  assert.match(errorOf(unknown).message, /chat-pool/);
});

test('eligibility: a request with tools skips a model that declares tool_calling: false, and explains', async (t) => {
  const a = await startFakeUpstream();
  a.handle(json(200, COMPLETION));
  const proxy = await startProxy({
    providers: { a: { connector: 'openai.llm.v1', base_url: a.url, api_key: 'k' } },
    models: {
      'a.notools': { provider: 'a', capabilities: ['chat-completion'], features: { tool_calling: false } },
      'a.small': { provider: 'a', capabilities: ['chat-completion'], constraints: { context_window: 10 } },
    },
    pools: { p: { models: ['a.notools', 'a.small'] } },
  });
  t.after(async () => {
    await proxy.close();
    await a.close();
  });
  const tools = [{ type: 'function', function: { name: 'f', parameters: {} } }];
  const reply = await postJson(`${proxy.url}/v1/chat/completions`, { model: 'p', messages: [{ role: 'user', content: 'x'.repeat(200) }], tools });
  assert.equal(reply.status, 400);
  assert.equal(errorOf(reply).code, 'no_eligible_models');
  assert.match(errorOf(reply).message, /a\.notools: no tool calling/);
  assert.match(errorOf(reply).message, /a\.small: context window 10 tokens/);
  assert.equal(a.requests.length, 0);
});

test('an upstream error quoting a configured secret is redacted before it reaches the client', async (t) => {
  const a = await startFakeUpstream();
  const secret = 'sk-live-ABCDEF0123456789';
  a.handle(json(500, { error: { message: `invalid key ${secret} for org` } }));
  const proxy = await startProxy({
    providers: { a: { connector: 'openai.llm.v1', base_url: a.url, api_key: secret } },
    models: { 'a.m': { provider: 'a', capabilities: ['chat-completion'] } },
    pools: { 'chat-pool': { models: ['a.m'], retry: { max_attempts: 1 } } },
  });
  t.after(async () => {
    await proxy.close();
    await a.close();
  });
  const reply = await postJson(`${proxy.url}/v1/chat/completions`, ASK);
  assert.equal(reply.status, 502);
  assert.match(errorOf(reply).message, /invalid key \[REDACTED\] for org/);
  assert.ok(!reply.body.includes(secret));
});

test('an upstream error quoting a configured secret is redacted where it is recorded: attempt reasons, rotation events and the standby reason', async (t) => {
  const a = await startFakeUpstream();
  const b = await startFakeUpstream();
  const secret = 'sk-live-ABCDEF0123456789';
  a.handle(json(500, { error: { message: `invalid key ${secret} for org` } }));
  b.handle(json(200, COMPLETION));
  const proxy = await startProxy({
    providers: {
      a: { connector: 'openai.llm.v1', base_url: a.url, api_key: secret },
      b: { connector: 'openai.llm.v1', base_url: b.url, api_key: 'sk-b-key-000000000000' },
    },
    models: { 'a.m': { provider: 'a', capabilities: ['chat-completion'] }, 'b.m': { provider: 'b', capabilities: ['chat-completion'] } },
    pools: { 'chat-pool': { models: ['a.m', 'b.m'], strategy: 'modelmesh.priority-selection.v1', retry: { max_attempts: 1 }, deactivation: { error_codes: [500] } } },
  });
  const seen: unknown[] = [];
  proxy.mesh.events.on((e) => seen.push(e));
  t.after(async () => {
    await proxy.close();
    await a.close();
    await b.close();
  });
  const reply = await postJson(`${proxy.url}/v1/chat/completions`, ASK);
  assert.equal(reply.status, 200);
  const request = seen.find((e): e is RequestEvent => (e as RequestEvent).type === 'request');
  assert.equal(request?.attempts[0]?.reason, '500 invalid key [REDACTED] for org');
  assert.ok(seen.some((e) => (e as { type: string }).type === 'rotation'), 'a rotation event was emitted');
  // Events feed spans, the status page and logs; the standby reason goes to /mesh/models and to Redis.
  assert.ok(!JSON.stringify(seen).includes(secret), JSON.stringify(seen));
  const held = proxy.mesh.state.model('a.m');
  assert.equal(held.status, 'standby');
  assert.ok(held.reason?.includes('[REDACTED]') === true && !held.reason.includes(secret), held.reason ?? '');
});

test("streaming: an upstream's own error event mid-stream is not relayed as it came: one redacted in-band error of ours, blamed on that model", async (t) => {
  const a = await startFakeUpstream();
  const secret = 'sk-live-ABCDEF0123456789';
  // OpenRouter-style: 200, some text, then the failure as an event (and no [DONE]).
  a.handle(sse([chunk({ role: 'assistant', content: 'He' }), { error: { message: `boom key=${secret}`, type: 'server_error', code: 502 } }], { done: false }));
  const proxy = await startProxy({
    providers: { a: { connector: 'openai.llm.v1', base_url: a.url, api_key: secret } },
    models: { 'a.m': { provider: 'a', capabilities: ['chat-completion'] } },
    pools: { 'chat-pool': { models: ['a.m'], retry: { max_attempts: 1 } } },
  });
  const events = requestEvents(proxy.mesh);
  t.after(async () => {
    await proxy.close();
    await a.close();
  });
  const reply = await postJson(`${proxy.url}/v1/chat/completions`, { ...ASK, model: 'chat-pool', stream: true });
  assert.equal(reply.status, 200);
  assert.ok(!reply.body.includes(secret), reply.body);
  const data = reply.body.split('\n\n').filter((e) => e.length > 0).map((e) => JSON.parse(e.slice('data: '.length)) as Record<string, unknown>);
  assert.equal(data.length, 2, 'the text chunk, then exactly one error event');
  assert.deepEqual(Object.keys(data[1]?.['error'] as object), ['message', 'type', 'param', 'code'], 'our error shape, all four keys');
  const error = data[1]?.['error'] as { message: string; code: string };
  assert.equal(error.message, 'The upstream model a.m failed mid-stream: 502 boom key=[REDACTED]');
  assert.equal(error.code, 'upstream_error');
  assert.ok(!reply.body.includes('[DONE]'));
  assert.equal(events[0]?.outcome, 'failure');
  assert.equal(events[0]?.status, 200, 'the status the client got (the failure went in band): what the request log says too');
  assert.equal(events[0]?.attempts[0]?.reason, '502 boom key=[REDACTED]', "the upstream's reason, not 'stream ended before [DONE]'");
});

test('streams reuse the upstream keep-alive socket: [DONE] releases it instead of destroying it', async (t) => {
  const { a, proxy } = await setup(t);
  // Paced, so the upstream's end of response arrives after [DONE] (as from a real model).
  a.handle(sse(STREAM, { interval: 2 }));
  for (let i = 0; i < 20; i++) {
    const reply = await postJson(`${proxy.url}/v1/chat/completions`, { ...ASK, stream: true });
    assert.ok(reply.body.endsWith('data: [DONE]\n\n'));
  }
  assert.equal(a.requests.length, 20);
  assert.ok(a.connections <= 2, `20 sequential streams opened ${a.connections} upstream connections`);
  assert.equal(a.socketsClosed, 0, 'no upstream socket was destroyed');
});

test('hasUsageObject: only a usage object counts, null or absent usage does not', async () => {
  const { hasUsageObject } = await import('../../../src/proxy/endpoints/chat.ts');
  const cases: [string, boolean][] = [
    ['{"choices":[],"usage":{"prompt_tokens":1}}', true],
    ['{"choices":[], "usage" : { "prompt_tokens":1}}', true],
    ['{"choices":[{"delta":{}}],"usage":null}', false],
    ['{"choices":[{"delta":{"content":"the \\"usage\\": {"}}]}', false],
    ['{"choices":[]}', false],
    ['{"usage"', false],
  ];
  for (const [data, expected] of cases) assert.equal(hasUsageObject(data), expected, data);
});

test('request events measure latency and time to first byte from the same origin (arrival)', async (t) => {
  const { a, proxy } = await setup(t);
  a.handle(json(200, COMPLETION));
  const seen: { latency: number; ttfb: number; stream: boolean }[] = [];
  proxy.mesh.events.on((e) => {
    if (e.type === 'request') seen.push({ latency: e.latency_ms, ttfb: e.ttfb_ms, stream: e.stream });
  });
  await postJson(`${proxy.url}/v1/chat/completions`, ASK);
  a.handle(sse(STREAM, { interval: 5 }));
  await postJson(`${proxy.url}/v1/chat/completions`, { ...ASK, stream: true });
  assert.equal(seen.length, 2);
  for (const s of seen) {
    assert.ok(s.ttfb > 0 && s.latency >= s.ttfb, JSON.stringify(s));
  }
  const streamed = seen.find((s) => s.stream);
  assert.ok(streamed && streamed.latency - streamed.ttfb >= 15, 'a paced stream ends well after its first byte');
});

test('stick-until-failure moves away from a model that failed mid-stream', async (t) => {
  const { a, b, proxy } = await setup(t, { retry: { max_attempts: 1 }, deactivation: { retry_limit: 5 } });
  // a fails once: the pool rotates to b and sticks to it.
  a.handle(json(500, { error: { message: 'down' } }));
  assert.equal((await postJson(`${proxy.url}/v1/chat/completions`, ASK)).headers['x-modelmesh-model'], 'b.model-b');
  a.handle(json(200, COMPLETION));
  assert.equal((await postJson(`${proxy.url}/v1/chat/completions`, ASK)).headers['x-modelmesh-model'], 'b.model-b', 'sticky b');
  // b's stream breaks after the response was committed…
  b.handle(sse(STREAM, { dropAfter: 2, interval: 10 }));
  const cut = await postJson(`${proxy.url}/v1/chat/completions`, { ...ASK, stream: true });
  assert.equal(cut.headers['x-modelmesh-model'], 'b.model-b');
  assert.ok(!cut.body.includes('[DONE]'));
  // …so the pool no longer sticks to b (which answers fine again): the next request starts from the priority order.
  b.handle(json(200, COMPLETION));
  assert.equal((await postJson(`${proxy.url}/v1/chat/completions`, ASK)).headers['x-modelmesh-model'], 'a.model-a');
});
