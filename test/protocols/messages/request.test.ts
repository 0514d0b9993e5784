import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MeshError } from '../../../src/errors.ts';
import { needsOf, toChatRequest } from '../../../src/protocols/messages/request.ts';

type Json = Record<string, unknown>;
const base = (extra: Json = {}): Json => ({ model: 'claude-sonnet-4', max_tokens: 256, messages: [{ role: 'user', content: 'Hi' }], ...extra });

function rejects(body: unknown, message: string): void {
  assert.throws(() => toChatRequest(body), (err: unknown) => {
    assert.ok(err instanceof MeshError);
    assert.equal(err.status, 400);
    assert.equal(err.type, 'invalid_request_error');
    assert.equal(err.message, message);
    return true;
  });
}

describe('toChatRequest', () => {
  it('simple text', () => {
    assert.deepEqual(toChatRequest(base()), {
      chat: { model: 'claude-sonnet-4', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 256 },
      stream: false,
    });
  });

  it('system string and system text blocks become one system message first', () => {
    assert.deepEqual(toChatRequest(base({ system: 'Be brief.' })).chat['messages'], [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
    ]);
    const blocks = [{ type: 'text', text: 'You are Claude Code.' }, { type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }];
    assert.deepEqual(toChatRequest(base({ system: blocks })).chat['messages'], [
      { role: 'system', content: 'You are Claude Code.\nBe brief.' },
      { role: 'user', content: 'Hi' },
    ]);
    assert.deepEqual(toChatRequest(base({ system: '' })).chat['messages'], [{ role: 'user', content: 'Hi' }]);
  });

  it('image blocks: base64 becomes a data: URL, url stays a URL, next to text parts', () => {
    const content = [
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
      { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
      { type: 'text', text: 'What are these?' },
    ];
    assert.deepEqual(toChatRequest(base({ messages: [{ role: 'user', content }] })).chat['messages'], [
      {
        role: 'user',
        content: [
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
          { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
          { type: 'text', text: 'What are these?' },
        ],
      },
    ]);
  });

  it('documents: text source as text, base64 PDF as a file part', () => {
    const content = [
      { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'Plain doc' } },
      { type: 'document', title: 'spec.pdf', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0=' } },
    ];
    assert.deepEqual(toChatRequest(base({ messages: [{ role: 'user', content }] })).chat['messages'], [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Plain doc' },
          { type: 'file', file: { filename: 'spec.pdf', file_data: 'data:application/pdf;base64,JVBERi0=' } },
        ],
      },
    ]);
  });

  it('tool use round trip: tool_use → assistant tool_calls, tool_result → tool messages before the user text', () => {
    const messages = [
      { role: 'user', content: 'Weather in Paris?' },
      {
        role: 'assistant',
        content: [
          { type: 'thinking', thinking: 'need the tool', signature: 'sig' },
          { type: 'text', text: 'Checking.' },
          { type: 'tool_use', id: 'toolu_01A', name: 'get_weather', input: { city: 'Paris' } },
          { type: 'tool_use', id: 'toolu_01B', name: 'get_time', input: {} },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_01A', content: '18°C' },
          { type: 'tool_result', tool_use_id: 'toolu_01B', content: [{ type: 'text', text: 'no clock' }], is_error: true },
          { type: 'text', text: 'Thanks' },
        ],
      },
    ];
    assert.deepEqual(toChatRequest(base({ messages })).chat['messages'], [
      { role: 'user', content: 'Weather in Paris?' },
      {
        role: 'assistant',
        content: 'Checking.',
        tool_calls: [
          { id: 'toolu_01A', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          { id: 'toolu_01B', type: 'function', function: { name: 'get_time', arguments: '{}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'toolu_01A', content: '18°C' },
      { role: 'tool', tool_call_id: 'toolu_01B', content: 'Error: no clock' },
      { role: 'user', content: 'Thanks' },
    ]);
  });

  it('tool-only assistant turn has null content; an image in a tool_result goes to the next user message', () => {
    const messages = [
      { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'screenshot', input: {} }] },
      {
        role: 'user',
        content: [{ type: 'tool_result', tool_use_id: 't1', content: [{ type: 'image', source: { type: 'url', url: 'https://x/s.png' } }] }],
      },
    ];
    assert.deepEqual(toChatRequest(base({ messages })).chat['messages'], [
      { role: 'assistant', content: null, tool_calls: [{ id: 't1', type: 'function', function: { name: 'screenshot', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 't1', content: '[1 attachment(s) in the next user message]' },
      { role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://x/s.png' } }] },
    ]);
  });

  it('documents in a tool_result: text joins the tool text, a PDF goes to the next user message', () => {
    const content = [
      { type: 'tool_result', tool_use_id: 't1', content: [
        { type: 'text', text: 'Read 2 files.' },
        { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'notes' } },
        { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBE' } },
      ] },
      { type: 'text', text: 'Summarise.' },
    ];
    assert.deepEqual(toChatRequest(base({ messages: [{ role: 'user', content }] })).chat['messages'], [
      { role: 'tool', tool_call_id: 't1', content: 'Read 2 files.\nnotes\n[1 attachment(s) in the next user message]' },
      { role: 'user', content: [{ type: 'text', text: 'Summarise.' }, { type: 'file', file: { filename: 'document.pdf', file_data: 'data:application/pdf;base64,JVBE' } }] },
    ]);
  });

  it("a message with role 'system' (SDK MessageParam) becomes a chat system message in place", () => {
    const messages = [{ role: 'user', content: 'a' }, { role: 'system', content: [{ type: 'text', text: 'Now be terse.' }] }, { role: 'user', content: 'b' }];
    assert.deepEqual(toChatRequest(base({ messages })).chat['messages'], [
      { role: 'user', content: 'a' }, { role: 'system', content: 'Now be terse.' }, { role: 'user', content: 'b' },
    ]);
    rejects(base({ messages: [{ role: 'system' }] }), 'messages.0.content: Field required');
    rejects(base({ messages: [{ role: 'system', content: [{ type: 'image' }] }] }),
      "messages.0.content.0: Input tag 'image' found using 'type' does not match any of the expected tags: 'text'");
  });

  it('tools, tool_choice and disable_parallel_tool_use', () => {
    const tools = [
      { name: 'get_weather', description: 'Weather by city', input_schema: { type: 'object', properties: { city: { type: 'string' } } }, cache_control: { type: 'ephemeral' } },
      { type: 'custom', name: 'noop', input_schema: { type: 'object' } },
    ];
    const chat = toChatRequest(base({ tools, tool_choice: { type: 'any', disable_parallel_tool_use: true } })).chat;
    assert.deepEqual(chat['tools'], [
      { type: 'function', function: { name: 'get_weather', description: 'Weather by city', parameters: { type: 'object', properties: { city: { type: 'string' } } } } },
      { type: 'function', function: { name: 'noop', parameters: { type: 'object' } } },
    ]);
    assert.equal(chat['tool_choice'], 'required');
    assert.equal(chat['parallel_tool_calls'], false);
    const choice = (tc: Json): unknown => toChatRequest(base({ tools, tool_choice: tc })).chat['tool_choice'];
    assert.equal(choice({ type: 'auto' }), 'auto');
    assert.equal(choice({ type: 'none' }), 'none');
    assert.deepEqual(choice({ type: 'tool', name: 'get_weather' }), { type: 'function', function: { name: 'get_weather' } });
    // Without tools, chat upstreams reject tool_choice: it is dropped.
    assert.equal('tool_choice' in toChatRequest(base({ tool_choice: { type: 'auto' } })).chat, false);
  });

  it('sampling, stop_sequences, metadata.user_id, stream with include_usage; top_k and thinking dropped', () => {
    const t = toChatRequest(base({
      temperature: 0.2, top_p: 0.9, top_k: 40, stop_sequences: ['END', '###'], metadata: { user_id: 'u-1' },
      stream: true, thinking: { type: 'enabled', budget_tokens: 1024 },
    }));
    assert.equal(t.stream, true);
    assert.deepEqual(t.chat, {
      model: 'claude-sonnet-4', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 256,
      temperature: 0.2, top_p: 0.9, stop: ['END', '###'], user: 'u-1',
      stream: true, stream_options: { include_usage: true },
    });
  });

  it('output_config.format json_schema becomes response_format json_schema', () => {
    const schema = { type: 'object', properties: { a: { type: 'number' } } };
    const chat = toChatRequest(base({ output_config: { format: { type: 'json_schema', schema } } })).chat;
    assert.deepEqual(chat['response_format'], { type: 'json_schema', json_schema: { name: 'output', schema, strict: true } });
  });

  it('validation errors are 400 invalid_request_error in Anthropic wording', () => {
    const { max_tokens: _drop, ...noMax } = base();
    rejects(noMax, 'max_tokens: Field required');
    rejects(base({ max_tokens: 'ten' }), 'max_tokens: Input should be a valid integer');
    rejects(base({ max_tokens: 1.5 }), 'max_tokens: Input should be a valid integer');
    rejects(base({ max_tokens: 0 }), 'max_tokens: Input should be greater than or equal to 1');
    rejects(base({ max_tokens: 1e308 }), 'max_tokens: Input should be less than or equal to 2147483647');
    rejects([], 'body: Input should be a valid dictionary');
    rejects(base({ model: undefined }), 'model: Field required');
    rejects(base({ model: 7 }), 'model: Input should be a valid string');
    rejects(base({ messages: undefined }), 'messages: Field required');
    rejects(base({ messages: {} }), 'messages: Input should be a valid list');
    rejects(base({ messages: [] }), 'messages: List should have at least 1 item after validation, not 0');
    rejects(base({ messages: ['hi'] }), 'messages.0: Input should be a valid dictionary');
    rejects(base({ messages: [{ content: 'x' }] }), 'messages.0.role: Field required');
    rejects(base({ messages: [{ role: 'bot', content: 'x' }] }), "messages.0.role: Input should be 'user', 'assistant' or 'system'");
    rejects(base({ messages: [{ role: 'user' }] }), 'messages.0.content: Field required');
    rejects(base({ messages: [{ role: 'user', content: 5 }] }), 'messages.0.content: Input should be a valid string or list');
    rejects(base({ messages: [{ role: 'user', content: [{ text: 'x' }] }] }), 'messages.0.content.0.type: Field required');
    rejects(base({ messages: [{ role: 'user', content: [{ type: 'text' }] }] }), 'messages.0.content.0.text: Field required');
    rejects(base({ messages: [{ role: 'user', content: [{ type: 'video' }] }] }),
      "messages.0.content.0: Input tag 'video' found using 'type' does not match any of the expected tags: 'text', 'image', 'document', 'tool_result'");
    rejects(base({ messages: [{ role: 'assistant', content: [{ type: 'image', source: {} }] }] }),
      "messages.0.content.0: Input tag 'image' found using 'type' does not match any of the expected tags: 'text', 'tool_use', 'thinking', 'redacted_thinking'");
    rejects(base({ messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'file', file_id: 'f' } }] }] }),
      "messages.0.content.0.source: Input tag 'file' found using 'type' does not match any of the expected tags: 'base64', 'url'");
    rejects(base({ messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', data: 'x' } }] }] }),
      'messages.0.content.0.source.media_type: Field required');
    rejects(base({ messages: [{ role: 'assistant', content: [{ type: 'tool_use', id: 't', name: 'n', input: [] }] }] }),
      'messages.0.content.0.input: Input should be a valid dictionary');
    rejects(base({ messages: [{ role: 'user', content: [{ type: 'tool_result' }] }] }), 'messages.0.content.0.tool_use_id: Field required');
    rejects(base({ system: [{ type: 'image' }] }), "system.0: Input tag 'image' found using 'type' does not match any of the expected tags: 'text'");
    rejects(base({ system: 3 }), 'system: Input should be a valid string or list');
    rejects(base({ temperature: 1.5 }), 'temperature: Input should be less than or equal to 1');
    rejects(base({ top_p: -1 }), 'top_p: Input should be greater than or equal to 0');
    rejects(base({ top_k: 'x' }), 'top_k: Input should be a valid integer');
    rejects(base({ stop_sequences: 'END' }), 'stop_sequences: Input should be a valid list');
    rejects(base({ stop_sequences: [1] }), 'stop_sequences.0: Input should be a valid string');
    rejects(base({ metadata: 'u' }), 'metadata: Input should be a valid dictionary');
    rejects(base({ metadata: { user_id: 3 } }), 'metadata.user_id: Input should be a valid string');
    rejects(base({ stream: 'yes' }), 'stream: Input should be a valid boolean');
    rejects(base({ tools: {} }), 'tools: Input should be a valid list');
    rejects(base({ tools: [{ input_schema: {} }] }), 'tools.0.name: Field required');
    rejects(base({ tools: [{ name: 'x' }] }), 'tools.0.input_schema: Field required');
    rejects(base({ tools: [{ type: 'web_search_20250305', name: 'web_search' }] }),
      "tools.0.type: Server tool 'web_search_20250305' is not supported by a chat-completions upstream");
    rejects(base({ tool_choice: 'auto' }), 'tool_choice: Input should be a valid dictionary');
    rejects(base({ tool_choice: { type: 'required' } }),
      "tool_choice: Input tag 'required' found using 'type' does not match any of the expected tags: 'auto', 'any', 'tool', 'none'");
    rejects(base({ tool_choice: { type: 'tool' } }), 'tool_choice.tool.name: Field required');
  });
});

describe('needsOf', () => {
  it('derives the router needs: stream, tools, structured output, system, images, tokens', () => {
    const body = base({
      stream: true,
      system: 'abcd'.repeat(10),
      tools: [{ name: 'x', input_schema: { type: 'object' } }],
      output_config: { format: { type: 'json_schema', schema: {} } },
      messages: [{ role: 'user', content: [{ type: 'text', text: 'abcd'.repeat(25) }, { type: 'image', source: { type: 'url', url: 'u' } }] }],
    });
    const needs = needsOf(body);
    assert.deepEqual({ ...needs, tokens: 0 }, {
      stream: true, tools: true, structured_output: true, json_mode: false, tokens: 0, system_prompt: true, logprobs: false, images: 1,
    });
    // 10 system + 25 text tokens + the tool's JSON estimate + one image (1600) + max_tokens 256.
    assert.ok(needs.tokens > 10 + 25 + 1600 + 256 && needs.tokens < 10 + 25 + 1600 + 256 + 20, String(needs.tokens));
    assert.deepEqual(needsOf(base()), {
      stream: false, tools: false, structured_output: false, json_mode: false, tokens: 1 + 256, system_prompt: false, logprobs: false, images: 0,
    });
  });
});
