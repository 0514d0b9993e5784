import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ModelConfig } from '../../src/config/types.ts';
import { parseMultipart } from '../../src/lib/multipart.ts';
import type { FormData } from '../../src/lib/multipart.ts';
import { OpenAiCompatibleProvider, withModel } from '../../src/providers/openai-compatible.ts';
import { PRESETS, endpointFor, presetFor } from '../../src/providers/presets.ts';
import type { Endpoint, ProviderCall, ProviderResponse } from '../../src/providers/provider.ts';
import { bytes, json, providerConfig, sse, startFakeUpstream, text } from '../helpers/fake-upstream.ts';
import type { FakeUpstream } from '../helpers/fake-upstream.ts';
import { providerCall, rejection } from '../helpers/provider-call.ts';

/** A non-2xx failure carries the upstream's response headers (for the rate-limit strategies); the rest compares exactly. */
function withoutHeaders(upstream: { headers?: Readonly<Record<string, unknown>> } | undefined): object {
  assert.ok(upstream?.headers !== undefined, 'the upstream response headers are kept');
  assert.match(String(upstream.headers['content-type']), /json/);
  const { headers: _headers, ...rest } = upstream;
  return rest;
}

function model(name: string): ModelConfig {
  return {
    id: `vendor.${name}`,
    provider: 'p',
    name,
    capabilities: ['chat-completion'],
    delivery: { synchronous: true, streaming: true, batch: false },
    features: { tool_calling: null, structured_output: null, json_mode: null, system_prompt: null, grounding: null, logprobs: null, fine_tunable: null },
    constraints: { context_window: null, max_output_tokens: null, max_images: null, max_file_size: null, supported_languages: null },
    pricing: { input_per_1m: 0, output_per_1m: 0 },
  };
}

const call = (over: Partial<ProviderCall> = {}): ProviderCall => providerCall(model('gpt-upstream'), 'hi', 'req-1', over);

function provider(url: string, connector = 'openai.llm.v1', over: Parameters<typeof providerConfig>[2] = {}): OpenAiCompatibleProvider {
  const preset = presetFor(connector);
  assert.ok(preset);
  return new OpenAiCompatibleProvider(providerConfig(connector, url, over), preset);
}


function body(res: ProviderResponse): string {
  assert.equal(res.kind, 'buffer');
  return res.kind === 'buffer' ? res.body.toString('utf8') : '';
}

describe('openai-compatible connector', () => {
  let up: FakeUpstream;
  let p: OpenAiCompatibleProvider;
  before(async () => {
    up = await startFakeUpstream();
    p = provider(up.url);
  });
  after(async () => {
    p.close();
    await up.close();
  });

  test('forwards the body with only model rewritten, bearer auth and x-request-id', async () => {
    up.handle(json(200, { id: 'chatcmpl-1', object: 'chat.completion' }));
    const c = call({ body: { model: 'text-generation', messages: [], vendor_extension: { deep: [1, 2] }, temperature: 0.2 } });
    const res = await p.call(c);
    assert.equal(res.status, 200);
    assert.equal(res.contentType, 'application/json');
    assert.deepEqual(JSON.parse(body(res)), { id: 'chatcmpl-1', object: 'chat.completion' });
    const rec = up.requests.at(-1);
    assert.equal(rec?.path, '/v1/chat/completions');
    assert.deepEqual(rec?.json, { model: 'gpt-upstream', messages: [], vendor_extension: { deep: [1, 2] }, temperature: 0.2 });
    assert.equal(rec?.headers['authorization'], 'Bearer sk-test');
    assert.equal(rec?.headers['x-request-id'], 'req-1');
    assert.equal(rec?.headers['content-type'], 'application/json');
    assert.equal(rec?.headers['x-api-key'], undefined);
  });

  test('the same body is right across attempts with different models', async () => {
    up.handle(json(200, {}));
    const c = call();
    await p.call(c);
    await p.call({ ...c, model: model('second-model') });
    assert.equal((up.requests.at(-2)?.json as { model: string }).model, 'gpt-upstream');
    assert.equal((up.requests.at(-1)?.json as { model: string }).model, 'second-model');
  });

  test('endpoint paths', async () => {
    up.handle(json(200, {}));
    const paths: Partial<Record<Endpoint, string>> = {
      chat: '/v1/chat/completions',
      embeddings: '/v1/embeddings',
      speech: '/v1/audio/speech',
      transcriptions: '/v1/audio/transcriptions',
      translations: '/v1/audio/translations',
      images: '/v1/images/generations',
    };
    for (const [endpoint, path] of Object.entries(paths) as [Endpoint, string][]) {
      await p.call(call({ endpoint }));
      assert.equal(up.requests.at(-1)?.path, path);
    }
  });

  test('multipart: re-encoded with model replaced, other parts byte-exact and in order', async () => {
    up.handle(json(200, { text: 'hello' }));
    const audio = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7) % 256));
    const form: FormData = {
      parts: [
        { name: 'file', filename: 'clip "1".wav', contentType: 'audio/wav', data: audio },
        { name: 'model', data: Buffer.from('speech-to-text') },
        { name: 'timestamp_granularities[]', data: Buffer.from('word') },
        { name: 'response_format', data: Buffer.from('json') },
      ],
    };
    const res = await p.call(call({ endpoint: 'transcriptions', form, body: {} }));
    assert.deepEqual(JSON.parse(body(res)), { text: 'hello' });
    const rec = up.requests.at(-1);
    const type = String(rec?.headers['content-type']);
    assert.match(type, /^multipart\/form-data; boundary=/);
    assert.equal(Number(rec?.headers['content-length']), rec?.body.length);
    const source = (async function* () {
      yield rec?.body ?? Buffer.alloc(0);
    })();
    const parsed = await parseMultipart(source, type);
    assert.deepEqual(parsed, withModel(form, 'gpt-upstream'));
    assert.deepEqual(parsed.parts.map((x) => x.name), ['file', 'model', 'timestamp_granularities[]', 'response_format']);
    assert.equal(parsed.parts[1]?.data.toString(), 'gpt-upstream');
    assert.ok(parsed.parts[0]?.data.equals(audio));
    assert.equal(form.parts[1]?.data.toString(), 'speech-to-text', 'the client form is not mutated');
  });

  test('withModel appends a model part when the form has none', () => {
    const form = withModel({ parts: [{ name: 'file', filename: 'a.wav', data: Buffer.from('x') }] }, 'm');
    assert.deepEqual(form.parts.map((x) => [x.name, x.data.toString()]), [['file', 'x'], ['model', 'm']]);
  });

  test('sse: primed, upstream content type, accept header', async () => {
    up.handle(sse([{ choices: [{ delta: { content: 'a' } }] }]));
    const res = await p.call(call({ mode: 'sse' }));
    assert.equal(res.kind, 'sse');
    assert.equal(res.contentType, 'text/event-stream');
    assert.equal(up.requests.at(-1)?.headers['accept'], 'text/event-stream');
    if (res.kind !== 'sse') return;
    const got = [];
    for await (const e of { [Symbol.asyncIterator]: () => res.events }) got.push(e.data);
    assert.deepEqual(got, ['{"choices":[{"delta":{"content":"a"}}]}', '[DONE]']);
  });

  test('sse: an error as the first event is a failed attempt (failover before the first byte)', async () => {
    up.handle(sse([{ error: { message: 'Provider returned error', code: 502 } }], { done: false }));
    const err = await rejection(p.call(call({ mode: 'sse' })));
    assert.deepEqual(err.upstream, { status: 502, reason: '502 Provider returned error' });
    up.handle(sse([{ error: { message: 'boom' } }], { done: false }));
    assert.deepEqual((await rejection(p.call(call({ mode: 'sse' })))).upstream, { status: 0, reason: 'boom' });
  });

  test('sse: "error" inside a normal event is not a failure; iterator return closes', async () => {
    up.handle(sse([{ choices: [{ delta: { content: 'the "error" word' } }] }, '{"error" is not json'], { interval: 10 }));
    const res = await p.call(call({ mode: 'sse' }));
    if (res.kind !== 'sse') return assert.fail('sse');
    assert.equal((await res.events.next()).done, false);
    assert.deepEqual(await res.events.return?.(), { done: true, value: undefined });
    up.handle(sse(['{"error": 1}', '{"ok":1}']));
    const again = await p.call(call({ mode: 'sse' }));
    if (again.kind !== 'sse') return assert.fail('sse');
    assert.equal((await again.events.next()).value?.data, '{"error": 1}');
  });

  test('bytes: speech audio streams with the upstream content type', async () => {
    up.handle(bytes(200, [Buffer.from('ID3'), Buffer.from('data')], 'audio/mpeg'));
    const res = await p.call(call({ endpoint: 'speech', mode: 'bytes', body: { input: 'hi', voice: 'alloy' } }));
    assert.equal(res.kind, 'bytes');
    assert.equal(res.contentType, 'audio/mpeg');
    if (res.kind !== 'bytes') return;
    const chunks: Buffer[] = [];
    for (let r = await res.chunks.next(); r.done !== true; r = await res.chunks.next()) chunks.push(r.value);
    assert.equal(Buffer.concat(chunks).toString(), 'ID3data');
  });

  test('text answers keep their content type', async () => {
    up.handle(text(200, 'hello\n', 'text/plain; charset=utf-8'));
    const res = await p.call(call({ endpoint: 'transcriptions', form: { parts: [{ name: 'response_format', data: Buffer.from('text') }] } }));
    assert.equal(res.contentType, 'text/plain; charset=utf-8');
    // The default format is json: the same text answer is then a broken answer (issue 11.3).
    const err = await rejection(p.call(call({ endpoint: 'transcriptions', form: { parts: [] } })));
    assert.deepEqual(err.upstream, { status: 0, reason: '200 answer is not a JSON object (starts with "hello?")' });
  });

  test('4xx answers reject with the upstream status and message', async () => {
    up.handle(json(401, { error: { message: 'Incorrect API key provided', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } }));
    const err = await rejection(p.call(call()));
    assert.equal(err.code, 'upstream_error');
    assert.equal(err.status, 502);
    assert.deepEqual(withoutHeaders(err.upstream), { status: 401, reason: '401 Incorrect API key provided' });
  });

  test('base_url and headers override the preset; local presets send no auth without a key', async () => {
    const local = provider(up.url, 'ollama.local.v1', { api_key: null, headers: { 'X-Team': 'a', Authorization: 'Custom 1' } });
    up.handle(json(200, {}));
    await local.call(call());
    const rec = up.requests.at(-1);
    assert.equal(rec?.headers['authorization'], 'Custom 1');
    assert.equal(rec?.headers['x-team'], 'a');
    local.close();
    const bare = provider(up.url, 'vllm.local.v1', { api_key: null });
    await bare.call(call());
    assert.equal(up.requests.at(-1)?.headers['authorization'], undefined);
    bare.close();
  });
});

describe('presets', () => {
  test('defaults per connector', () => {
    const cfg = (connector: string) => providerConfig(connector, null);
    const at = (connector: string) => {
      const preset = presetFor(connector);
      assert.ok(preset, connector);
      return endpointFor(cfg(connector), preset);
    };
    assert.deepEqual(at('openai.llm.v1'), { baseUrl: 'https://api.openai.com/v1', headers: { authorization: 'Bearer sk-test' } });
    assert.equal(at('google.gemini.v1').baseUrl, 'https://generativelanguage.googleapis.com/v1beta/openai');
    assert.equal(at('groq.api.v1').baseUrl, 'https://api.groq.com/openai/v1');
    assert.equal(at('openrouter.gateway.v1').baseUrl, 'https://openrouter.ai/api/v1');
    assert.equal(at('localai.local.v1').baseUrl, 'http://127.0.0.1:8080/v1');
    assert.deepEqual(at('anthropic.claude.v1'), {
      baseUrl: 'https://api.anthropic.com/v1',
      headers: { 'x-api-key': 'sk-test', 'anthropic-version': '2023-06-01' },
    });
    assert.equal(presetFor('toString'), undefined);
    assert.equal(Object.keys(PRESETS).length, 14);
  });
});
