import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MeshError } from '../../../src/errors.ts';
import { deletedBody, fromChatCompletion, outputMessages } from '../../../src/protocols/responses/response.ts';
import { CREATED_AT, ctxFor, ids } from './helpers.ts';

const USAGE = {
  prompt_tokens: 19,
  completion_tokens: 10,
  total_tokens: 29,
  prompt_tokens_details: { cached_tokens: 4, audio_tokens: 0 },
  completion_tokens_details: { reasoning_tokens: 3, audio_tokens: 0 },
};

function chat(message: Record<string, unknown>, finish_reason: string, usage: unknown = USAGE): unknown {
  return { id: 'chatcmpl-1', object: 'chat.completion', created: 1, model: 'upstream-model', choices: [{ index: 0, message, logprobs: null, finish_reason }], usage };
}

test('a text answer is one completed message item, with the exact Response wire shape', () => {
  const body = { model: 'smart', input: 'Hi', metadata: { k: 'v' } };
  const response = fromChatCompletion(chat({ role: 'assistant', content: 'Hello!', refusal: null, annotations: [] }, 'stop'), ctxFor(body));
  assert.deepEqual(ids(response), {
    id: 'resp_test',
    object: 'response',
    created_at: CREATED_AT,
    status: 'completed',
    background: false,
    completed_at: CREATED_AT + 2,
    error: null,
    incomplete_details: null,
    model: 'smart',
    output: [{ id: 'msg_*', type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'Hello!', annotations: [] }] }],
    reasoning: { effort: null, summary: null },
    truncation: 'disabled',
    usage: { input_tokens: 19, input_tokens_details: { cached_tokens: 4 }, output_tokens: 10, output_tokens_details: { reasoning_tokens: 3 }, total_tokens: 29 },
    instructions: null,
    max_output_tokens: null,
    parallel_tool_calls: true,
    previous_response_id: null,
    store: true,
    temperature: null,
    text: { format: { type: 'text' } },
    tool_choice: 'auto',
    tools: [],
    top_p: null,
    user: null,
    metadata: { k: 'v' },
  });
  assert.equal('output_text' in response, false, 'the SDKs compute output_text themselves');
});

test('tool calls become function_call items (fc_ ids, call_id from the chat id), after any text', () => {
  const response = fromChatCompletion(
    chat(
      {
        role: 'assistant',
        content: 'Checking.',
        tool_calls: [
          { id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          { id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '{}' } },
          { id: 'bad', type: 'function' },
        ],
      },
      'tool_calls',
    ),
    ctxFor({ model: 'm', input: 'x' }),
  );
  assert.deepEqual(ids(response.output), [
    { id: 'msg_*', type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'Checking.', annotations: [] }] },
    { id: 'fc_*', type: 'function_call', status: 'completed', call_id: 'call_a', name: 'get_weather', arguments: '{"city":"Paris"}' },
    { id: 'fc_*', type: 'function_call', status: 'completed', call_id: 'call_b', name: 'get_time', arguments: '{}' },
  ]);
  assert.equal(response.status, 'completed');
  assert.deepEqual(outputMessages(response.output), [
    {
      role: 'assistant',
      content: 'Checking.',
      tool_calls: [
        { id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
        { id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '{}' } },
      ],
    },
  ]);
});

test('a tool call without text or id: content null, a generated call_id, object arguments serialised', () => {
  const response = fromChatCompletion(
    chat({ role: 'assistant', content: null, tool_calls: [{ type: 'function', function: { name: 'f', arguments: { a: 1 } } }] }, 'tool_calls', null),
    ctxFor({ model: 'm', input: 'x' }),
  );
  assert.equal(response.output.length, 1);
  const item = response.output[0];
  assert.ok(item !== undefined && item.type === 'function_call');
  assert.match(item.call_id, /^call_[0-9a-f]{48}$/);
  assert.equal(item.arguments, '{"a":1}');
  assert.equal(response.usage, null);
  assert.deepEqual(outputMessages(response.output), [{ role: 'assistant', content: null, tool_calls: [{ id: item.call_id, type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] }]);
});

test('finish_reason length: status incomplete, incomplete_details max_output_tokens, item incomplete', () => {
  const response = fromChatCompletion(chat({ role: 'assistant', content: 'Once upon a' }, 'length'), ctxFor({ model: 'm', input: 'x', max_output_tokens: 3 }));
  assert.equal(response.status, 'incomplete');
  assert.deepEqual(response.incomplete_details, { reason: 'max_output_tokens' });
  assert.equal(response.completed_at, null);
  assert.equal(response.max_output_tokens, 3);
  assert.deepEqual(ids(response.output), [{ id: 'msg_*', type: 'message', status: 'incomplete', role: 'assistant', content: [{ type: 'output_text', text: 'Once upon a', annotations: [] }] }]);
});

test('content_filter is incomplete too; a refusal is a refusal part; text parts are joined', () => {
  const filtered = fromChatCompletion(chat({ role: 'assistant', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }], refusal: 'No.' }, 'content_filter'), ctxFor({ model: 'm', input: 'x' }));
  assert.deepEqual(filtered.incomplete_details, { reason: 'content_filter' });
  assert.deepEqual(ids(filtered.output), [
    { id: 'msg_*', type: 'message', status: 'incomplete', role: 'assistant', content: [{ type: 'output_text', text: 'ab', annotations: [] }, { type: 'refusal', refusal: 'No.' }] },
  ]);
  assert.deepEqual(outputMessages(filtered.output), [{ role: 'assistant', content: 'abNo.' }]);
});

test('an empty refusal adds no part; an empty answer has no output items', () => {
  const response = fromChatCompletion(chat({ role: 'assistant', content: '', refusal: '' }, 'stop'), ctxFor({ model: 'm', input: 'x' }));
  assert.deepEqual(response.output, []);
});

test('usage without total or details is filled in; junk values count as 0', () => {
  const response = fromChatCompletion(chat({ role: 'assistant', content: 'x' }, 'stop', { prompt_tokens: 5, completion_tokens: 'many' }), ctxFor({ model: 'm', input: 'x' }));
  assert.deepEqual(response.usage, { input_tokens: 5, input_tokens_details: { cached_tokens: 0 }, output_tokens: 0, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 5 });
});

test('a chat answer without choices or message is an upstream_error (502) the caller can fail over on', () => {
  for (const bad of [null, 'text', {}, { choices: [] }, { choices: [{ index: 0 }] }, { choices: [{ message: 'hi' }] }]) {
    assert.throws(
      () => fromChatCompletion(bad, ctxFor({ model: 'm', input: 'x' })),
      (err: unknown) => err instanceof MeshError && err.code === 'upstream_error' && err.status === 502 && /without a choice/.test(err.message),
    );
  }
});

test('DELETE body', () => {
  assert.deepEqual(deletedBody('resp_1'), { id: 'resp_1', object: 'response', deleted: true });
});
