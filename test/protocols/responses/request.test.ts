import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MeshError } from '../../../src/errors.ts';
import { needsOf, toChatRequest } from '../../../src/protocols/responses/request.ts';
import type { ChatMessage } from '../../../src/protocols/responses/types.ts';

test('string input with instructions: a system and a user message, defaults echoed', () => {
  const t = toChatRequest({ model: 'smart', instructions: 'Be brief.', input: 'Hi', max_output_tokens: 64, temperature: 0.2, top_p: 0.9, user: 'u1', metadata: { team: 'a' } }, null);
  assert.deepEqual(t.chat, {
    model: 'smart',
    messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }],
    max_tokens: 64,
    temperature: 0.2,
    top_p: 0.9,
    user: 'u1',
  });
  assert.equal(t.stream, false);
  assert.deepEqual(t.turn, [{ role: 'user', content: 'Hi' }]);
  assert.deepEqual(t.echo, {
    instructions: 'Be brief.',
    max_output_tokens: 64,
    parallel_tool_calls: true,
    previous_response_id: null,
    store: true,
    temperature: 0.2,
    text: { format: { type: 'text' } },
    tool_choice: 'auto',
    tools: [],
    top_p: 0.9,
    user: 'u1',
    metadata: { team: 'a' },
  });
});

test('max_completion_tokens on request, and stream asks for usage', () => {
  const t = toChatRequest({ model: 'm', input: 'x', max_output_tokens: 5, stream: true }, null, { maxTokensField: 'max_completion_tokens' });
  assert.deepEqual(t.chat, { model: 'm', messages: [{ role: 'user', content: 'x' }], max_completion_tokens: 5, stream: true, stream_options: { include_usage: true } });
  assert.equal(t.stream, true);
});

test('item input: developer/system text, user parts with images, assistant output_text, reasoning dropped', () => {
  const t = toChatRequest(
    {
      model: 'm',
      input: [
        { role: 'developer', content: 'Rules.' },
        { type: 'message', role: 'system', content: [{ type: 'input_text', text: 'A' }, { type: 'input_text', text: 'B' }] },
        {
          role: 'user',
          content: [
            { type: 'input_text', text: 'What is this?' },
            { type: 'input_image', image_url: 'https://x/cat.png', detail: 'high' },
            { type: 'input_image', image_url: 'data:image/png;base64,AAAA', detail: 'original' },
          ],
        },
        { type: 'reasoning', id: 'rs_1', summary: [] },
        { type: 'message', role: 'assistant', status: 'completed', id: 'msg_1', content: [{ type: 'output_text', text: 'A cat.', annotations: [] }] },
      ],
    },
    null,
  );
  assert.deepEqual(t.chat['messages'], [
    { role: 'system', content: 'Rules.' },
    { role: 'system', content: 'AB' },
    {
      role: 'user',
      content: [
        { type: 'text', text: 'What is this?' },
        { type: 'image_url', image_url: { url: 'https://x/cat.png', detail: 'high' } },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
      ],
    },
    { role: 'assistant', content: 'A cat.' },
  ]);
});

test('tool round trip: function_call items join one assistant message, outputs become tool messages', () => {
  const t = toChatRequest(
    {
      model: 'm',
      input: [
        { role: 'user', content: 'Weather in Paris and Rome?' },
        { type: 'function_call', id: 'fc_1', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}', status: 'completed' },
        { type: 'function_call', call_id: 'call_2', name: 'get_weather', arguments: '{"city":"Rome"}' },
        { type: 'function_call_output', call_id: 'call_1', output: '18C' },
        { type: 'function_call_output', call_id: 'call_2', output: [{ type: 'input_text', text: '2' }, { type: 'input_text', text: '1C' }] },
      ],
      tools: [{ type: 'function', name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: false }],
      tool_choice: { type: 'function', name: 'get_weather' },
      parallel_tool_calls: false,
    },
    null,
  );
  assert.deepEqual(t.chat, {
    model: 'm',
    messages: [
      { role: 'user', content: 'Weather in Paris and Rome?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          { id: 'call_2', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: '18C' },
      { role: 'tool', tool_call_id: 'call_2', content: '21C' },
    ],
    tools: [{ type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: false } }],
    tool_choice: { type: 'function', function: { name: 'get_weather' } },
    parallel_tool_calls: false,
  });
  assert.deepEqual(t.echo.tools, [{ type: 'function', name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: false }]);
  assert.deepEqual(t.echo.tool_choice, { type: 'function', name: 'get_weather' });
  assert.equal(t.echo.parallel_tool_calls, false);
});

test('a function_call after an assistant text message joins it; strict defaults to true but is not sent', () => {
  const t = toChatRequest(
    {
      model: 'm',
      input: [
        { role: 'assistant', content: 'Let me check.' },
        { type: 'function_call', call_id: 'c', name: 'f', arguments: '{}' },
      ],
      tools: [{ type: 'function', name: 'f' }],
      tool_choice: 'required',
      parallel_tool_calls: true,
    },
    null,
  );
  assert.deepEqual(t.chat['messages'], [{ role: 'assistant', content: 'Let me check.', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }] }]);
  assert.deepEqual(t.chat['tools'], [{ type: 'function', function: { name: 'f' } }]);
  assert.equal(t.chat['tool_choice'], 'required');
  assert.deepEqual(t.echo.tools, [{ type: 'function', name: 'f', description: null, parameters: null, strict: true }]);
});

test('parallel_tool_calls and tool_choice without tools are not sent (chat rejects them)', () => {
  const t = toChatRequest({ model: 'm', input: 'x', parallel_tool_calls: false, tool_choice: 'none' }, null);
  assert.deepEqual(Object.keys(t.chat), ['model', 'messages']);
  assert.equal(t.echo.tool_choice, 'none');
});

test('text.format json_schema and json_object become response_format', () => {
  const schema = { type: 'object', properties: { a: { type: 'number' } }, required: ['a'], additionalProperties: false };
  const t = toChatRequest({ model: 'm', input: 'x', text: { format: { type: 'json_schema', name: 'out', schema, strict: true, description: 'd' } } }, null);
  assert.deepEqual(t.chat['response_format'], { type: 'json_schema', json_schema: { name: 'out', schema, strict: true, description: 'd' } });
  assert.deepEqual(t.echo.text, { format: { type: 'json_schema', name: 'out', schema, strict: true, description: 'd' } });
  const loose = toChatRequest({ model: 'm', input: 'x', text: { format: { type: 'json_schema', name: 'out', schema } } }, null);
  assert.deepEqual(loose.chat['response_format'], { type: 'json_schema', json_schema: { name: 'out', schema } });
  const obj = toChatRequest({ model: 'm', input: 'x', text: { format: { type: 'json_object' } } }, null);
  assert.deepEqual(obj.chat['response_format'], { type: 'json_object' });
  const plain = toChatRequest({ model: 'm', input: 'x', text: { format: { type: 'text' }, verbosity: 'low' } }, null);
  assert.equal(plain.chat['response_format'], undefined);
});

test('history: instructions first, then the stored conversation, then this turn', () => {
  const history: ChatMessage[] = [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello' }];
  const t = toChatRequest({ model: 'm', instructions: 'New rules.', previous_response_id: 'resp_1', input: 'Again' }, history);
  assert.deepEqual(t.chat['messages'], [{ role: 'system', content: 'New rules.' }, ...history, { role: 'user', content: 'Again' }]);
  assert.deepEqual(t.turn, [{ role: 'user', content: 'Again' }]);
  assert.equal(t.echo.previous_response_id, 'resp_1');
});

/** [body, param, code, message fragment] for every validation error. */
const CASES: [Record<string, unknown>, string, string, string][] = [
  [{ input: 'x' }, 'model', 'missing_param', "Missing required parameter: 'model'."],
  [{ model: 3, input: 'x' }, 'model', 'invalid_param', "Invalid type for 'model': expected a string, but got a number instead."],
  [{ model: 'm' }, 'input', 'missing_param', "Missing required parameter: 'input'."],
  [{ model: 'm', input: 5 }, 'input', 'invalid_param', 'expected a string or an array of input items'],
  [{ model: 'm', input: [], instructions: 'Be brief.' }, 'input', 'invalid_param', "Invalid 'input': empty array. Expected an array with minimum length 1, but got an empty array instead."],
  [{ model: 'm', input: ['x'] }, 'input[0]', 'invalid_param', "Invalid type for 'input[0]': expected an object, but got a string instead."],
  [{ model: 'm', input: [{ content: 'x' }] }, 'input[0].role', 'missing_param', "'input[0].role'"],
  [{ model: 'm', input: [{ role: 'bot', content: 'x' }] }, 'input[0].role', 'invalid_param', "Invalid value: \"bot\". Supported values are: 'user', 'assistant', 'system', 'developer'."],
  [{ model: 'm', input: [{ role: 'user' }] }, 'input[0].content', 'missing_param', "'input[0].content'"],
  [{ model: 'm', input: [{ role: 'user', content: 7 }] }, 'input[0].content', 'invalid_param', 'a string or an array of content parts'],
  [{ model: 'm', input: [{ role: 'user', content: [{ type: 'input_text' }] }] }, 'input[0].content[0].text', 'missing_param', "'input[0].content[0].text'"],
  [{ model: 'm', input: [{ role: 'user', content: [{ type: 'input_text', text: 1 }] }] }, 'input[0].content[0].text', 'invalid_param', 'expected a string'],
  [{ model: 'm', input: [{ role: 'user', content: [{ type: 'input_audio' }] }] }, 'input[0].content[0].type', 'invalid_param', 'Supported values are'],
  [{ model: 'm', input: [{ role: 'user', content: [{ type: 'input_image', file_id: 'file_1' }] }] }, 'input[0].content[0].file_id', 'invalid_param', "send 'image_url'"],
  [{ model: 'm', input: [{ role: 'user', content: [{ type: 'input_image' }] }] }, 'input[0].content[0].image_url', 'missing_param', "'input[0].content[0].image_url'"],
  [{ model: 'm', input: [{ role: 'user', content: [{ type: 'input_image', image_url: { url: 'x' } }] }] }, 'input[0].content[0].image_url', 'invalid_param', 'expected a string, but got an object instead.'],
  [{ model: 'm', input: [{ role: 'user', content: [{ type: 'input_file', file_id: 'f' }] }] }, 'input[0].content[0]', 'invalid_param', 'File inputs'],
  [{ model: 'm', input: [{ role: 'system', content: [{ type: 'input_image', image_url: 'u' }] }] }, 'input[0].content[0]', 'invalid_param', 'only supported in user messages'],
  [{ model: 'm', input: [{ role: 'assistant', content: [{ type: 'refusal', refusal: 3 }] }] }, 'input[0].content[0].refusal', 'invalid_param', 'expected a string'],
  [{ model: 'm', input: [{ type: 'web_search_call', id: 'ws' }] }, 'input[0].type', 'invalid_param', 'natively'],
  [{ model: 'm', input: [{ type: 'function_call', name: 'f', arguments: '{}' }] }, 'input[0].call_id', 'missing_param', "'input[0].call_id'"],
  [{ model: 'm', input: [{ type: 'function_call', call_id: 'c', arguments: '{}' }] }, 'input[0].name', 'missing_param', "'input[0].name'"],
  [{ model: 'm', input: [{ type: 'function_call', call_id: 'c', name: 7, arguments: '{}' }] }, 'input[0].name', 'invalid_param', 'expected a string'],
  [{ model: 'm', input: [{ type: 'function_call', call_id: 'c', name: 'f' }] }, 'input[0].arguments', 'missing_param', "'input[0].arguments'"],
  [{ model: 'm', input: [{ type: 'function_call', call_id: 'c', name: 'f', arguments: {} }] }, 'input[0].arguments', 'invalid_param', 'expected a string'],
  [{ model: 'm', input: [{ type: 'function_call_output', call_id: 'c' }] }, 'input[0].output', 'missing_param', "'input[0].output'"],
  [{ model: 'm', input: [{ type: 'function_call_output', call_id: 'c', output: 3 }] }, 'input[0].output', 'invalid_param', 'a string or an array'],
  [{ model: 'm', input: [{ type: 'function_call_output', call_id: 'c', output: [{ type: 'input_image', image_url: 'u' }] }] }, 'input[0].output[0]', 'invalid_param', 'Images in a function_call_output'],
  [{ model: 'm', input: 'x', instructions: 4 }, 'instructions', 'invalid_param', "Invalid type for 'instructions'"],
  [{ model: 'm', input: 'x', tools: {} }, 'tools', 'invalid_param', 'expected an array'],
  [{ model: 'm', input: 'x', tools: [null] }, 'tools[0]', 'invalid_param', 'expected an object'],
  [{ model: 'm', input: 'x', tools: [{ name: 'f' }] }, 'tools[0].type', 'missing_param', "'tools[0].type'"],
  [{ model: 'm', input: 'x', tools: [{ type: 'function', name: 'f' }, { type: 'web_search' }] }, 'tools[1].type', 'invalid_param', 'The built-in tool "web_search" (\'tools[1]\')'],
  [{ model: 'm', input: 'x', tools: [{ type: 'file_search', vector_store_ids: [] }] }, 'tools[0].type', 'invalid_param', 'natively'],
  [{ model: 'm', input: 'x', tools: [{ type: 'code_interpreter', container: { type: 'auto' } }] }, 'tools[0].type', 'invalid_param', 'natively'],
  [{ model: 'm', input: 'x', tools: [{ type: 'computer_use_preview' }] }, 'tools[0].type', 'invalid_param', 'natively'],
  [{ model: 'm', input: 'x', tools: [{ type: 'function' }] }, 'tools[0].name', 'missing_param', "Missing required parameter: 'tools[0].name'."],
  [{ model: 'm', input: 'x', tools: [{ type: 'function', name: '' }] }, 'tools[0].name', 'invalid_param', 'a non-empty string'],
  [{ model: 'm', input: 'x', tools: [{ type: 'function', name: 'f', description: 1 }] }, 'tools[0].description', 'invalid_param', 'expected a string'],
  [{ model: 'm', input: 'x', tools: [{ type: 'function', name: 'f', parameters: [] }] }, 'tools[0].parameters', 'invalid_param', 'expected an object, but got an array'],
  [{ model: 'm', input: 'x', tools: [{ type: 'function', name: 'f', strict: 'yes' }] }, 'tools[0].strict', 'invalid_param', 'expected a boolean'],
  [{ model: 'm', input: 'x', tool_choice: 'any' }, 'tool_choice', 'invalid_param', "Invalid value: \"any\". Supported values are: 'none', 'auto', 'required'."],
  [{ model: 'm', input: 'x', tool_choice: 1 }, 'tool_choice', 'invalid_param', 'a string or an object'],
  [{ model: 'm', input: 'x', tool_choice: { type: 'web_search_preview' } }, 'tool_choice', 'invalid_param', 'natively'],
  [{ model: 'm', input: 'x', tool_choice: { type: 'function' } }, 'tool_choice.name', 'missing_param', "'tool_choice.name'"],
  [{ model: 'm', input: 'x', tool_choice: { type: 'function', name: 2 } }, 'tool_choice.name', 'invalid_param', 'expected a string'],
  [{ model: 'm', input: 'x', text: 'json' }, 'text', 'invalid_param', 'expected an object'],
  [{ model: 'm', input: 'x', text: { format: 'json' } }, 'text.format', 'invalid_param', 'expected an object'],
  [{ model: 'm', input: 'x', text: { format: { type: 'yaml' } } }, 'text.format.type', 'invalid_param', "Supported values are: 'text', 'json_schema', 'json_object'."],
  [{ model: 'm', input: 'x', text: { format: { type: 'json_schema', schema: {} } } }, 'text.format.name', 'missing_param', "Missing required parameter: 'text.format.name'."],
  [{ model: 'm', input: 'x', text: { format: { type: 'json_schema', name: 1, schema: {} } } }, 'text.format.name', 'invalid_param', 'expected a string'],
  [{ model: 'm', input: 'x', text: { format: { type: 'json_schema', name: 'n' } } }, 'text.format.schema', 'missing_param', "'text.format.schema'"],
  [{ model: 'm', input: 'x', text: { format: { type: 'json_schema', name: 'n', schema: 'x' } } }, 'text.format.schema', 'invalid_param', 'expected an object'],
  [{ model: 'm', input: 'x', text: { format: { type: 'json_schema', name: 'n', schema: {}, strict: 1 } } }, 'text.format.strict', 'invalid_param', 'expected a boolean'],
  [{ model: 'm', input: 'x', text: { format: { type: 'json_schema', name: 'n', schema: {}, description: 1 } } }, 'text.format.description', 'invalid_param', 'expected a string'],
  [{ model: 'm', input: 'x', max_output_tokens: 1.5 }, 'max_output_tokens', 'invalid_param', "Invalid type for 'max_output_tokens': expected an integer"],
  [{ model: 'm', input: 'x', max_output_tokens: 1e308 }, 'max_output_tokens', 'invalid_param', "Invalid 'max_output_tokens': integer above maximum value. Expected a value <= 2147483647, but got 1e+308 instead."],
  [{ model: 'm', input: 'x', max_output_tokens: 0 }, 'max_output_tokens', 'invalid_param', "Invalid 'max_output_tokens': integer below minimum value. Expected a value >= 1, but got 0 instead."],
  [{ model: 'm', input: 'x', temperature: '1' }, 'temperature', 'invalid_param', "Invalid type for 'temperature': expected a decimal, but got a string instead."],
  [{ model: 'm', input: 'x', temperature: 3 }, 'temperature', 'invalid_param', "Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 3 instead."],
  [{ model: 'm', input: 'x', top_p: -1 }, 'top_p', 'invalid_param', 'decimal below minimum value'],
  [{ model: 'm', input: 'x', parallel_tool_calls: 'no' }, 'parallel_tool_calls', 'invalid_param', 'expected a boolean'],
  [{ model: 'm', input: 'x', store: 1 }, 'store', 'invalid_param', 'expected a boolean'],
  [{ model: 'm', input: 'x', stream: 'yes' }, 'stream', 'invalid_param', 'expected a boolean'],
  [{ model: 'm', input: 'x', user: 1 }, 'user', 'invalid_param', 'expected a string'],
  [{ model: 'm', input: 'x', metadata: [] }, 'metadata', 'invalid_param', 'expected an object'],
  [{ model: 'm', input: 'x', metadata: { a: 1 } }, 'metadata.a', 'invalid_param', 'expected a string'],
  [{ model: 'm', input: 'x', metadata: { a: 'x'.repeat(513) } }, 'metadata.a', 'invalid_param', 'string too long'],
  [{ model: 'm', input: 'x', metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])) }, 'metadata', 'invalid_param', 'too many properties'],
  [{ model: 'm', input: 'x', background: true }, 'background', 'invalid_param', "'background': true"],
  [{ model: 'm', input: 'x', conversation: 'conv_1' }, 'conversation', 'invalid_param', 'natively'],
  [{ model: 'm', input: 'x', prompt: { id: 'pmpt_1' } }, 'prompt', 'invalid_param', 'natively'],
  [{ model: 'm', input: 'x', previous_response_id: 7 }, 'previous_response_id', 'invalid_param', 'expected a string'],
];

test('every validation error is a 400 invalid_request_error naming the param', () => {
  for (const [body, param, code, fragment] of CASES) {
    assert.throws(
      () => toChatRequest(body, null),
      (err: unknown) => {
        assert.ok(err instanceof MeshError, `${param}: a MeshError`);
        assert.equal(err.status, 400, param);
        assert.equal(err.type, 'invalid_request_error', param);
        assert.equal(err.param, param, JSON.stringify(body));
        assert.equal(err.code, code, param);
        assert.ok(err.message.includes(fragment), `${param}: ${err.message}`);
        return true;
      },
    );
  }
});

test('an unknown previous_response_id is OpenAI\'s 400 previous_response_not_found', () => {
  assert.throws(
    () => toChatRequest({ model: 'm', input: 'x', previous_response_id: 'resp_gone' }, null),
    (err: unknown) => {
      assert.ok(err instanceof MeshError);
      assert.deepEqual(err.toJSON(), {
        error: { message: "Previous response with id 'resp_gone' not found.", type: 'invalid_request_error', param: 'previous_response_id', code: 'previous_response_not_found' },
      });
      assert.equal(err.status, 400);
      return true;
    },
  );
});

test('background: false and harmless Responses-only fields (reasoning, include, truncation) are accepted', () => {
  const t = toChatRequest({ model: 'm', input: 'x', background: false, reasoning: { effort: 'low' }, include: ['reasoning.encrypted_content'], truncation: 'auto', store: false }, null);
  assert.deepEqual(Object.keys(t.chat), ['model', 'messages']);
  assert.equal(t.echo.store, false);
});

test('needsOf reads stream, tools, formats, system prompt, images and a token estimate', () => {
  const body = {
    model: 'm',
    instructions: 'x'.repeat(40),
    input: [
      { role: 'user', content: [{ type: 'input_text', text: 'y'.repeat(40) }, { type: 'input_image', image_url: 'u' }, { type: 'input_image', image_url: 'v' }] },
      { type: 'function_call', call_id: 'c', name: 'f', arguments: 'z'.repeat(8) },
      { type: 'function_call_output', call_id: 'c', output: 'w'.repeat(12) },
      'junk',
    ],
    tools: [{ type: 'function', name: 'f' }],
    text: { format: { type: 'json_schema', name: 'n', schema: {} } },
    max_output_tokens: 100,
    stream: true,
  };
  assert.deepEqual(needsOf(body), { stream: true, tools: true, structured_output: true, json_mode: false, tokens: 25 + 100, system_prompt: true, images: 2 });
  assert.deepEqual(needsOf({ model: 'm', input: 'abcd', text: { format: { type: 'json_object' } } }, [{ role: 'system', content: 'x'.repeat(8) }]), {
    stream: false,
    tools: false,
    structured_output: false,
    json_mode: true,
    tokens: 3,
    system_prompt: true,
    images: 0,
  });
  assert.deepEqual(needsOf({ model: 'm', input: [{ role: 'developer', content: 'd' }] }).system_prompt, true);
  assert.deepEqual(needsOf({ model: 'm', input: 'hi' }).system_prompt, false);
});
