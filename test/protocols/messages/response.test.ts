import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MeshError } from '../../../src/errors.ts';
import { fromChatCompletion, toolInput, toolUseId } from '../../../src/protocols/messages/response.ts';

type Json = Record<string, unknown>;

function completion(message: Json, finish: string | null, extra: Json = {}): Json {
  return {
    id: 'chatcmpl-1', object: 'chat.completion', created: 1, model: 'gpt-4o',
    choices: [{ index: 0, message: { role: 'assistant', ...message }, logprobs: null, finish_reason: finish, ...extra }],
    usage: { prompt_tokens: 19, completion_tokens: 10, total_tokens: 29 },
  };
}

const usage = { input_tokens: 19, output_tokens: 10, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };

describe('fromChatCompletion', () => {
  it('text answer → one text block, end_turn, usage', () => {
    assert.deepEqual(fromChatCompletion(completion({ content: 'Hello!' }, 'stop'), { id: 'msg_1', model: 'claude-sonnet-4' }), {
      id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-sonnet-4',
      content: [{ type: 'text', text: 'Hello!' }],
      stop_reason: 'end_turn', stop_sequence: null, usage,
    });
  });

  it('tool_calls answer → tool_use blocks with parsed input and stop_reason tool_use', () => {
    const chat = completion({
      content: null,
      tool_calls: [
        { id: 'call_abc', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
        { id: 'toolu_keep', type: 'function', function: { name: 'get_time', arguments: '' } },
      ],
    }, 'tool_calls');
    assert.deepEqual(fromChatCompletion(chat, { id: 'msg_2', model: 'm' }), {
      id: 'msg_2', type: 'message', role: 'assistant', model: 'm',
      content: [
        { type: 'tool_use', id: 'toolu_call_abc', name: 'get_weather', input: { city: 'Paris' } },
        { type: 'tool_use', id: 'toolu_keep', name: 'get_time', input: {} },
      ],
      stop_reason: 'tool_use', stop_sequence: null, usage,
    });
  });

  it('text before tool calls keeps both, in order; finish "stop" with tool calls is still tool_use', () => {
    const chat = completion({ content: 'Let me check.', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }] }, 'stop');
    const msg = fromChatCompletion(chat, { model: 'm' });
    assert.deepEqual(msg['content'], [{ type: 'text', text: 'Let me check.' }, { type: 'tool_use', id: 'toolu_c1', name: 'f', input: {} }]);
    assert.equal(msg['stop_reason'], 'tool_use');
    assert.match(String(msg['id']), /^msg_[A-Za-z0-9]{24}$/);
  });

  it('each stop reason', () => {
    const reason = (finish: string | null, extra: Json = {}, stops?: string[]): unknown => {
      const msg = fromChatCompletion(completion({ content: 'x' }, finish, extra), stops === undefined ? { model: 'm' } : { model: 'm', stopSequences: stops });
      return [msg['stop_reason'], msg['stop_sequence']];
    };
    assert.deepEqual(reason('stop'), ['end_turn', null]);
    assert.deepEqual(reason(null), ['end_turn', null]);
    assert.deepEqual(reason('length'), ['max_tokens', null]);
    assert.deepEqual(reason('tool_calls'), ['tool_use', null]);
    assert.deepEqual(reason('content_filter'), ['refusal', null]);
    // vLLM / SGLang name the matched stop string; only the request's own sequences count.
    assert.deepEqual(reason('stop', { stop_reason: 'END' }, ['END', '###']), ['stop_sequence', 'END']);
    assert.deepEqual(reason('stop', { matched_stop: '###' }, ['END', '###']), ['stop_sequence', '###']);
    assert.deepEqual(reason('stop', { stop_reason: 'END' }), ['end_turn', null]);
    assert.deepEqual(reason('stop', { stop_reason: 151645 }, ['END']), ['end_turn', null]);
    // Cut-off arguments are max_tokens, not tool_use.
    const cut = completion({ content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{"a":' } }] }, 'length');
    const msg = fromChatCompletion(cut, { model: 'm' });
    assert.equal(msg['stop_reason'], 'max_tokens');
    assert.deepEqual(msg['content'], [{ type: 'tool_use', id: 'toolu_c', name: 'f', input: {} }]);
  });

  it('cached prompt tokens move from input_tokens to cache_read_input_tokens; missing usage is zeros', () => {
    const chat = { ...completion({ content: 'x' }, 'stop'), usage: { prompt_tokens: 100, completion_tokens: 5, prompt_tokens_details: { cached_tokens: 60 } } };
    assert.deepEqual(fromChatCompletion(chat, { model: 'm' })['usage'], { input_tokens: 40, output_tokens: 5, cache_creation_input_tokens: 0, cache_read_input_tokens: 60 });
    const { usage: _u, ...noUsage } = completion({ content: 'x' }, 'stop');
    assert.deepEqual(fromChatCompletion(noUsage, { model: 'm' })['usage'], { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 });
  });

  it('empty content gives no blocks; text parts are joined; a refusal is text', () => {
    assert.deepEqual(fromChatCompletion(completion({ content: '' }, 'stop'), { model: 'm' })['content'], []);
    assert.deepEqual(fromChatCompletion(completion({ content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] }, 'stop'), { model: 'm' })['content'], [{ type: 'text', text: 'ab' }]);
    const refused = fromChatCompletion(completion({ content: null, refusal: 'I cannot help with that.' }, 'content_filter'), { model: 'm' });
    assert.deepEqual([refused['content'], refused['stop_reason']], [[{ type: 'text', text: 'I cannot help with that.' }], 'refusal']);
  });

  it('a malformed chat answer is an upstream_error (502)', () => {
    const bad = (chat: unknown, message: RegExp): void => {
      assert.throws(() => fromChatCompletion(chat, { model: 'm' }), (err: unknown) => {
        assert.ok(err instanceof MeshError);
        assert.equal(err.code, 'upstream_error');
        assert.equal(err.status, 502);
        assert.match(err.message, message);
        return true;
      });
    };
    bad('nope', /not a JSON object/);
    bad({ choices: [] }, /no choices/);
    bad({ choices: [{ index: 0 }] }, /choices\[0\]\.message missing/);
    bad(completion({ tool_calls: ['x'] }, 'tool_calls'), /tool_calls item/);
    bad(completion({ tool_calls: [{ id: 'c', function: {} }] }, 'tool_calls'), /without a function name/);
    bad({ error: { message: 'model overloaded' } }, /model overloaded/);
  });
});

describe('tool ids and input', () => {
  it('ids get the toolu_ prefix and only Anthropic-legal characters; missing ids are generated', () => {
    assert.equal(toolUseId('call_abc'), 'toolu_call_abc');
    assert.equal(toolUseId('toolu_01X'), 'toolu_01X');
    assert.equal(toolUseId('fc.1:2'), 'toolu_fc_1_2');
    assert.match(toolUseId(undefined), /^toolu_[A-Za-z0-9]{24}$/);
  });
  it('arguments: objects parsed, anything else {}', () => {
    assert.deepEqual(toolInput('{"a":1}'), { a: 1 });
    assert.deepEqual(toolInput({ a: 2 }), { a: 2 });
    assert.deepEqual(toolInput('[1,2]'), {});
    assert.deepEqual(toolInput('{"a":'), {});
    assert.deepEqual(toolInput('  '), {});
  });
});
