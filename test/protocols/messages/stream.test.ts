import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MeshError } from '../../../src/errors.ts';
import { SseParser, type SseEvent } from '../../../src/lib/sse.ts';
import { ChatToMessagesStream, encodeEvents, type MessagesEvent } from '../../../src/protocols/messages/stream.ts';

type Json = Record<string, unknown>;

const chunk = (delta: Json, finish: string | null = null, extra: Json = {}): SseEvent => ({
  data: JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish, ...extra }], usage: null }),
});
const usageChunk = (prompt: number, completion: number): SseEvent => ({
  data: JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o', choices: [], usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion } }),
});
const DONE: SseEvent = { data: '[DONE]' };

function run(stream: ChatToMessagesStream, events: SseEvent[]): MessagesEvent[] {
  const out = stream.start();
  for (const e of events) out.push(...stream.push(e));
  out.push(...stream.end());
  return out;
}

const START = (inputTokens = 0): MessagesEvent => ({
  type: 'message_start',
  message: {
    id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-sonnet-4', content: [], stop_reason: null, stop_sequence: null,
    usage: { input_tokens: inputTokens, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
  },
});
const finalUsage = (input: number, output: number): Json => ({ input_tokens: input, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: output });

describe('ChatToMessagesStream', () => {
  it('streaming text: the full Anthropic event sequence', () => {
    const stream = new ChatToMessagesStream({ id: 'msg_1', model: 'claude-sonnet-4', inputTokens: 12 });
    const events = run(stream, [chunk({ role: 'assistant', content: '' }), chunk({ content: 'Hel' }), chunk({ content: 'lo' }), chunk({}, 'stop'), usageChunk(9, 2), DONE]);
    assert.deepEqual(events, [
      START(12),
      { type: 'ping' },
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hel' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'lo' } },
      { type: 'content_block_stop', index: 0 },
      { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: finalUsage(9, 2) },
      { type: 'message_stop' },
    ]);
    assert.deepEqual(stream.usage(), { prompt_tokens: 9, completion_tokens: 2 });
    assert.equal(stream.done, true);
    assert.deepEqual(stream.push(chunk({ content: 'late' })), []);
    assert.deepEqual(stream.end(), []);
  });

  it('streaming tool call: text block closed, tool_use block with input_json_delta, stop_reason tool_use', () => {
    const stream = new ChatToMessagesStream({ id: 'msg_1', model: 'claude-sonnet-4' });
    const events = run(stream, [
      chunk({ role: 'assistant', content: 'Checking.' }),
      chunk({ tool_calls: [{ index: 0, id: 'call_abc', type: 'function', function: { name: 'get_weather', arguments: '' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"ci' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: 'ty":"Paris"}' } }] }),
      chunk({ tool_calls: [{ index: 1, id: 'call_def', type: 'function', function: { name: 'get_time', arguments: '{}' } }] }),
      chunk({}, 'tool_calls'),
      usageChunk(30, 20),
      DONE,
    ]);
    assert.deepEqual(events.slice(2), [
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Checking.' } },
      { type: 'content_block_stop', index: 0 },
      { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'toolu_call_abc', name: 'get_weather', input: {} } },
      { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"ci' } },
      { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: 'ty":"Paris"}' } },
      { type: 'content_block_stop', index: 1 },
      { type: 'content_block_start', index: 2, content_block: { type: 'tool_use', id: 'toolu_call_def', name: 'get_time', input: {} } },
      { type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: '{}' } },
      { type: 'content_block_stop', index: 2 },
      { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: finalUsage(30, 20) },
      { type: 'message_stop' },
    ]);
  });

  it('stop reasons: length → max_tokens, a named stop sequence → stop_sequence; no usage → output estimate', () => {
    const reasonOf = (events: MessagesEvent[]): unknown => events.find((e) => e.type === 'message_delta');
    const cut = run(new ChatToMessagesStream({ model: 'm' }), [chunk({ content: 'abcdefgh' }), chunk({}, 'length'), DONE]);
    assert.deepEqual(reasonOf(cut), { type: 'message_delta', delta: { stop_reason: 'max_tokens', stop_sequence: null }, usage: { output_tokens: 2 } });
    const stopped = run(new ChatToMessagesStream({ model: 'm', stopSequences: ['END'] }), [chunk({ content: 'x' }), chunk({}, 'stop', { stop_reason: 'END' })]);
    assert.deepEqual((reasonOf(stopped) as Json)['delta'], { stop_reason: 'stop_sequence', stop_sequence: 'END' });
  });

  it('tool call deltas without index are keyed by id (some upstreams omit index)', () => {
    const events = run(new ChatToMessagesStream({ model: 'm' }), [
      chunk({ tool_calls: [{ id: 'a', function: { name: 'f', arguments: '{"x":' } }] }),
      chunk({ tool_calls: [{ function: { arguments: '1}' } }] }),
      chunk({ tool_calls: [{ id: 'b', function: { name: 'g', arguments: '{}' } }] }),
      chunk({}, 'tool_calls'),
    ]);
    const starts = events.filter((e) => e.type === 'content_block_start').map((e) => [e['index'], (e['content_block'] as Json)['id']]);
    assert.deepEqual(starts, [[0, 'toolu_a'], [1, 'toolu_b']]);
    const deltas = events.filter((e) => e.type === 'content_block_delta').map((e) => [e['index'], (e['delta'] as Json)['partial_json']]);
    assert.deepEqual(deltas, [[0, '{"x":'], [0, '1}'], [1, '{}']]);
  });

  it('failure mid-stream: one error event and never message_stop', () => {
    const stream = new ChatToMessagesStream({ id: 'msg_1', model: 'claude-sonnet-4' });
    const out = [...stream.start(), ...stream.push(chunk({ content: 'partial' }))];
    assert.throws(() => stream.push({ data: '{"error":{"message":"boom","type":"server_error","param":null,"code":null}}' }),
      (err: unknown) => err instanceof MeshError && err.code === 'upstream_error' && /boom/.test(err.message));
    out.push(...stream.fail('Upstream failed mid-stream.', 'overloaded_error'));
    assert.deepEqual(out.at(-1), { type: 'error', error: { type: 'overloaded_error', message: 'Upstream failed mid-stream.' } });
    assert.equal(out.some((e) => e.type === 'message_stop' || e.type === 'message_delta'), false);
    assert.deepEqual(stream.end(), []);
    assert.deepEqual(stream.fail('again'), []);
    assert.throws(() => new ChatToMessagesStream({ model: 'm' }).push({ data: 'not json' }), /not JSON/);
  });

  it('push before start starts the message; ping only while open', () => {
    const stream = new ChatToMessagesStream({ model: 'm' });
    assert.deepEqual(stream.ping(), []);
    const first = stream.push(chunk({ content: 'x' }));
    assert.deepEqual(first.map((e) => e.type), ['message_start', 'ping', 'content_block_start', 'content_block_delta']);
    assert.deepEqual(stream.start(), []);
    assert.deepEqual(stream.ping(), [{ type: 'ping' }]);
    assert.equal(stream.usage(), null);
  });

  it('encodeEvents writes event: lines that an SSE parser reads back unchanged', () => {
    const stream = new ChatToMessagesStream({ id: 'msg_1', model: 'claude-sonnet-4' });
    const events = run(stream, [chunk({ content: 'line1\nline2' }), chunk({}, 'stop')]);
    const wire = encodeEvents(events);
    assert.equal(wire.slice(0, wire.indexOf('\n\n') + 2), `event: message_start\ndata: ${JSON.stringify(START())}\n\n`);
    assert.ok(wire.includes('event: ping\ndata: {"type":"ping"}\n\n'));
    assert.ok(wire.endsWith('event: message_stop\ndata: {"type":"message_stop"}\n\n'));
    const parsed = new SseParser().push(Buffer.from(wire));
    assert.deepEqual(parsed.map((e) => e.event), events.map((e) => e.type));
    assert.deepEqual(parsed.map((e) => JSON.parse(e.data) as unknown), events);
    assert.equal(encodeEvents(stream.fail('x')), '');
    assert.equal(encodeEvents(new ChatToMessagesStream({ model: 'm' }).fail('Overloaded', 'overloaded_error')),
      'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n');
  });
});

describe('ChatToMessagesStream.finished', () => {
  it('is true once a chunk carries a finish_reason, however the JSON is spaced; null is not one', () => {
    const stream = new ChatToMessagesStream({ model: 'm' });
    stream.push({ data: '{"choices": [{"index": 0, "delta": {"content": "Hi"}, "finish_reason": null}]}' });
    assert.equal(stream.finished, false);
    stream.push({ data: '{ "choices" : [ { "index" : 0 , "delta" : { } , "finish_reason" : "stop" } ] }' });
    assert.equal(stream.finished, true);
  });
});
