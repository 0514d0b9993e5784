import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ModelConfig } from '../../../src/config/types.ts';
import { MeshError } from '../../../src/errors.ts';
import type { SseEvent } from '../../../src/lib/sse.ts';
import { AnthropicProvider, toAnthropicRequest, toChatCompletion } from '../../../src/providers/anthropic/index.ts';
import { AnthropicStream, finishReason } from '../../../src/providers/anthropic/stream.ts';
import { presetFor } from '../../../src/providers/presets.ts';
import type { ProviderCall, ProviderResponse } from '../../../src/providers/provider.ts';
import { json, providerConfig, sse, startFakeUpstream } from '../../helpers/fake-upstream.ts';
import type { FakeUpstream } from '../../helpers/fake-upstream.ts';
import { providerCall, rejection } from '../../helpers/provider-call.ts';

/** A non-2xx failure carries the upstream's response headers (for the rate-limit strategies); the rest compares exactly. */
function withoutHeaders(upstream: { headers?: Readonly<Record<string, unknown>> } | undefined): object {
  assert.ok(upstream?.headers !== undefined, 'the upstream response headers are kept');
  assert.match(String(upstream.headers['content-type']), /json/);
  const { headers: _headers, ...rest } = upstream;
  return rest;
}

const MODEL = { id: 'anthropic.claude-sonnet-4', name: 'claude-sonnet-4' } as ModelConfig;

const call = (over: Partial<ProviderCall> = {}): ProviderCall => providerCall(MODEL, 'Hello', 'req-a', over);


async function events(res: ProviderResponse): Promise<unknown[]> {
  if (res.kind !== 'sse') return assert.fail('sse expected');
  const out: unknown[] = [];
  for (let r = await res.events.next(); r.done !== true; r = await res.events.next()) {
    out.push(r.value.data === '[DONE]' ? '[DONE]' : JSON.parse(r.value.data));
  }
  return out;
}

/** Anthropic's wire format: `event: <type>` + `data: <json>` per event. */
const ev = (data: { type: string } & Record<string, unknown>): string => `event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`;

const TEXT_STREAM = [
  ev({ type: 'message_start', message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-sonnet-4-20250514', content: [], stop_reason: null, usage: { input_tokens: 12, output_tokens: 1 } } }),
  ev({ type: 'ping' }),
  ev({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
  ev({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hi' } }),
  ev({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: ' there' } }),
  ev({ type: 'content_block_stop', index: 0 }),
  ev({ type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 5 } }),
  ev({ type: 'message_stop' }),
];

const TOOL_STREAM = [
  ev({ type: 'message_start', message: { id: 'msg_2', model: 'claude-sonnet-4', usage: { input_tokens: 30, output_tokens: 1 } } }),
  ev({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: 'Let me check.' } }),
  ev({ type: 'content_block_stop', index: 0 }),
  ev({ type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: {} } }),
  ev({ type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '' } }),
  ev({ type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"location":' } }),
  ev({ type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '"Boston"}' } }),
  ev({ type: 'content_block_stop', index: 1 }),
  ev({ type: 'message_delta', delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 20 } }),
  ev({ type: 'message_stop' }),
];

describe('anthropic connector', () => {
  let up: FakeUpstream;
  let p: AnthropicProvider;
  before(async () => {
    up = await startFakeUpstream();
    const preset = presetFor('anthropic.claude.v1');
    assert.ok(preset);
    p = new AnthropicProvider(providerConfig('anthropic.claude.v1', up.url), preset);
  });
  after(async () => {
    p.close();
    await up.close();
  });

  test('sync: request translated, x-api-key + anthropic-version, response as chat.completion', async () => {
    up.handle(json(200, {
      id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-sonnet-4-20250514',
      content: [{ type: 'text', text: 'Hi there' }], stop_reason: 'end_turn', stop_sequence: null,
      usage: { input_tokens: 12, output_tokens: 5 },
    }));
    const res = await p.call(call({ body: { model: 'x', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello' }], max_tokens: 100, temperature: 1.5, stop: 'END' } }));
    const rec = up.requests.at(-1);
    assert.equal(rec?.path, '/v1/messages');
    assert.equal(rec?.headers['x-api-key'], 'sk-test');
    assert.equal(rec?.headers['anthropic-version'], '2023-06-01');
    assert.equal(rec?.headers['authorization'], undefined);
    assert.equal(rec?.headers['x-request-id'], 'req-a');
    assert.deepEqual(rec?.json, {
      model: 'claude-sonnet-4', system: 'Be brief.', max_tokens: 100, temperature: 1, stop_sequences: ['END'],
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello' }] }],
    });
    assert.equal(res.kind, 'buffer');
    assert.equal(res.contentType, 'application/json');
    assert.equal(res.headers['content-length'], undefined, 'the untranslated length is not passed on');
    const body = JSON.parse(res.kind === 'buffer' ? res.body.toString() : '{}');
    assert.equal(body.object, 'chat.completion');
    assert.equal(body.model, 'claude-sonnet-4-20250514');
    assert.deepEqual(body.choices, [{ index: 0, message: { role: 'assistant', content: 'Hi there', refusal: null }, logprobs: null, finish_reason: 'stop' }]);
    assert.deepEqual(body.usage, { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 });
  });

  test('sync: tool_use comes back as tool_calls with JSON-string arguments', async () => {
    up.handle(json(200, {
      id: 'msg_3', model: 'claude-sonnet-4',
      content: [{ type: 'tool_use', id: 'toolu_9', name: 'get_weather', input: { location: 'Boston' } }],
      stop_reason: 'tool_use', usage: { input_tokens: 3, output_tokens: 4, cache_read_input_tokens: 10 },
    }));
    const res = await p.call(call());
    const body = JSON.parse(res.kind === 'buffer' ? res.body.toString() : '{}');
    assert.deepEqual(body.choices[0].message, {
      role: 'assistant', content: null, refusal: null,
      tool_calls: [{ id: 'toolu_9', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Boston"}' } }],
    });
    assert.equal(body.choices[0].finish_reason, 'tool_calls');
    assert.deepEqual(body.usage, { prompt_tokens: 13, completion_tokens: 4, total_tokens: 17 });
  });

  test('errors: Anthropic error bodies give the reason; other endpoints are rejected', async () => {
    up.handle(json(529, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }));
    assert.deepEqual(withoutHeaders((await rejection(p.call(call()))).upstream), { status: 529, reason: '529 Overloaded' });
    up.handle(json(200, 'not json'));
    assert.deepEqual((await rejection(p.call(call()))).upstream, { status: 0, reason: '200 answer is not a complete JSON object' });
    const err = await rejection(p.call(call({ endpoint: 'embeddings' })));
    assert.equal(err.message, 'anthropic.claude.v1 does not support embeddings');
    assert.deepEqual(err.upstream, { status: 400, reason: 'endpoint not supported' });
  });

  test('stream: text events become chat.completion.chunk events, usage chunk, [DONE]', async () => {
    up.handle(sse(TEXT_STREAM, { done: false }));
    const res = await p.call(call({ mode: 'sse', body: { model: 'x', messages: [{ role: 'user', content: 'Hello' }], stream: true, stream_options: { include_usage: true } } }));
    assert.equal(up.requests.at(-1)?.json && (up.requests.at(-1)?.json as { stream: boolean }).stream, true);
    assert.equal(res.contentType, 'text/event-stream');
    const got = (await events(res)) as Record<string, unknown>[];
    const base = { id: 'msg_1', object: 'chat.completion.chunk', model: 'claude-sonnet-4-20250514' };
    const choices = got.map((c) => (c === ('[DONE]' as unknown) ? '[DONE]' : c['choices']));
    assert.deepEqual(choices, [
      [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }],
      [{ index: 0, delta: { content: 'Hi' }, logprobs: null, finish_reason: null }],
      [{ index: 0, delta: { content: ' there' }, logprobs: null, finish_reason: null }],
      [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }],
      [],
      '[DONE]',
    ]);
    for (const c of got.slice(0, 5)) assert.deepEqual({ id: c['id'], object: c['object'], model: c['model'] }, base);
    assert.equal(got[0]?.['usage'], null);
    assert.deepEqual(got[4]?.['usage'], { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 });
  });

  test('stream: tool_use blocks become tool call deltas', async () => {
    up.handle(sse(TOOL_STREAM, { done: false }));
    const got = (await events(await p.call(call({ mode: 'sse' })))) as { choices: { delta: unknown; finish_reason: unknown }[]; usage?: unknown }[];
    const deltas = got.slice(0, -1).map((c) => c.choices[0]?.delta);
    assert.deepEqual(deltas, [
      { role: 'assistant', content: '' },
      { content: 'Let me check.' },
      { tool_calls: [{ index: 0, id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '' } }] },
      { tool_calls: [{ index: 0, function: { arguments: '{"location":' } }] },
      { tool_calls: [{ index: 0, function: { arguments: '"Boston"}' } }] },
      {},
    ]);
    assert.equal(got.at(-2)?.choices[0]?.finish_reason, 'tool_calls');
    assert.equal(got.at(-1), '[DONE]' as unknown);
    assert.equal('usage' in (got[0] ?? {}), false, 'no usage fields without include_usage');
  });

  test('stream: an error event before any content rejects; after content the iterator throws', async () => {
    up.handle(sse([ev({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } })], { done: false }));
    assert.deepEqual((await rejection(p.call(call({ mode: 'sse' })))).upstream, { status: 529, reason: '529 Overloaded' });
    up.handle(sse([...TEXT_STREAM.slice(0, 4), ev({ type: 'error', error: { type: 'api_error', message: 'Internal' } })], { done: false }));
    const res = await p.call(call({ mode: 'sse' }));
    const err = await rejection(events(res));
    assert.deepEqual(err.upstream, { status: 500, reason: '500 Internal' });
    up.handle(sse(TEXT_STREAM.slice(0, 4), { done: false }));
    const cut = await rejection(events(await p.call(call({ mode: 'sse' }))));
    assert.equal(cut.upstream?.reason, 'upstream ended the stream before message_stop');
  });

  test('stream: return() closes the upstream', async () => {
    up.handle(sse(TEXT_STREAM, { done: false, interval: 1_000 }));
    const res = await p.call(call({ mode: 'sse' }));
    if (res.kind !== 'sse') return assert.fail('sse');
    const closed = up.onSocketClose();
    await res.events.return?.();
    await closed;
  });
});

describe('anthropic translation', () => {
  test('messages: developer→system, tools, tool results merged into one user turn, images', () => {
    const out = toAnthropicRequest({
      messages: [
        { role: 'developer', content: [{ type: 'text', text: 'Rule 1' }] },
        { role: 'system', content: 'Rule 2' },
        { role: 'user', content: [{ type: 'text', text: 'Weather?' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }, { type: 'image_url', image_url: { url: 'https://x/y.png' } }] },
        { role: 'assistant', content: null, tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } },
          { id: 'call_2', type: 'function', function: { name: 'get_time', arguments: 'not json' } },
        ] },
        { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
        { role: 'tool', tool_call_id: 'call_2', content: [{ type: 'text', text: 'noon' }] },
        { role: 'user', content: 'thanks' },
        { role: 'assistant', content: '' },
      ],
      tools: [
        { type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { location: { type: 'string' } } } } },
        { type: 'function', function: { name: 'get_time' } },
      ],
      tool_choice: 'required',
      parallel_tool_calls: false,
      max_completion_tokens: 50,
      max_tokens: 99,
      top_p: 0.5,
      stop: ['a', 'b'],
      user: 'u1',
    }, 'claude-x');
    assert.deepEqual(out, {
      model: 'claude-x',
      max_tokens: 50,
      system: 'Rule 1\n\nRule 2',
      messages: [
        { role: 'user', content: [
          { type: 'text', text: 'Weather?' },
          { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } },
          { type: 'image', source: { type: 'url', url: 'https://x/y.png' } },
        ] },
        { role: 'assistant', content: [
          { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { location: 'Paris' } },
          { type: 'tool_use', id: 'call_2', name: 'get_time', input: {} },
        ] },
        { role: 'user', content: [
          { type: 'tool_result', tool_use_id: 'call_1', content: 'sunny' },
          { type: 'tool_result', tool_use_id: 'call_2', content: 'noon' },
          { type: 'text', text: 'thanks' },
        ] },
      ],
      top_p: 0.5,
      stop_sequences: ['a', 'b'],
      tools: [
        { name: 'get_weather', description: 'Weather', input_schema: { type: 'object', properties: { location: { type: 'string' } } } },
        { name: 'get_time', input_schema: { type: 'object', properties: {} } },
      ],
      tool_choice: { type: 'any', disable_parallel_tool_use: true },
      metadata: { user_id: 'u1' },
    });
  });

  test('tool_choice and defaults', () => {
    const tools = [{ type: 'function', function: { name: 'f' } }];
    const choice = (tool_choice: unknown, parallel?: boolean): unknown =>
      toAnthropicRequest({ messages: [], tools, tool_choice, ...(parallel === undefined ? {} : { parallel_tool_calls: parallel }) }, 'm')['tool_choice'];
    assert.deepEqual(choice('auto'), { type: 'auto' });
    assert.deepEqual(choice('none'), { type: 'none' });
    assert.deepEqual(choice({ type: 'function', function: { name: 'f' } }), { type: 'tool', name: 'f' });
    assert.deepEqual(choice(undefined, false), { type: 'auto', disable_parallel_tool_use: true });
    assert.equal(choice(undefined), undefined);
    assert.equal(toAnthropicRequest({ messages: [] }, 'm')['max_tokens'], 4096);
  });

  test('finish reasons', () => {
    assert.equal(finishReason('end_turn'), 'stop');
    assert.equal(finishReason('stop_sequence'), 'stop');
    assert.equal(finishReason('max_tokens'), 'length');
    assert.equal(finishReason('tool_use'), 'tool_calls');
    assert.equal(finishReason('refusal'), 'content_filter');
    assert.equal(toChatCompletion({ content: [], stop_reason: 'max_tokens' }, 'm', 1)['model'], 'm');
  });

  test('stream translator: message_stop without message_delta still finishes; junk is rejected', () => {
    const s = new AnthropicStream('p', 'm', false);
    const data = (e: SseEvent[]): unknown[] => e.map((x) => (x.data === '[DONE]' ? x.data : JSON.parse(x.data)));
    assert.deepEqual(s.translate({ data: '{"type":"ping"}' }), []);
    assert.deepEqual(s.translate({ data: '[1]' }), []);
    const out = data(s.translate({ data: '{}', event: 'message_stop' })) as { choices?: { finish_reason: string }[] }[];
    assert.equal(out[0]?.choices?.[0]?.finish_reason, 'stop');
    assert.equal(out[1], '[DONE]');
    assert.equal(s.done, true);
    assert.throws(() => s.translate({ data: 'nope' }), (e: unknown) => e instanceof MeshError && e.upstream?.reason === 'invalid event data from upstream');
    assert.throws(() => s.translate({ data: '{"type":"error"}' }), (e: unknown) => e instanceof MeshError && e.upstream?.reason === '500 api_error');
  });
});
