// The stream translation's less common chat deltas: `delta.refusal` (the Responses refusal part and its
// response.refusal.* events, as the buffered translation has it), and tool-call deltas that tell calls apart
// by `id` only (no `index`, or the same index for every call).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromChatCompletion } from '../../../src/protocols/responses/response.ts';
import { ChatToResponsesStream } from '../../../src/protocols/responses/stream.ts';
import type { ResponsesEvent } from '../../../src/protocols/responses/types.ts';
import { accumulate, ctxFor, ids } from './helpers.ts';

const base = { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'up' };
const delta = (d: Record<string, unknown>, finish_reason: string | null = null): Record<string, unknown> => ({ ...base, choices: [{ index: 0, delta: d, logprobs: null, finish_reason }] });

function run(s: ChatToResponsesStream, chunks: unknown[]): ResponsesEvent[] {
  const events = s.start();
  for (const c of chunks) events.push(...s.push(c));
  events.push(...s.end());
  return events;
}

/** Events without sequence numbers and generated ids, the Response-carrying ones by type only. */
function shape(events: readonly ResponsesEvent[]): unknown[] {
  return ids(events).map((e) => {
    const { sequence_number, type, ...rest } = e;
    void sequence_number;
    return 'response' in rest ? type : { type, ...rest };
  });
}

test('a streamed refusal: a refusal part with response.refusal.delta/.done, kept in the final output', () => {
  const s = new ChatToResponsesStream(ctxFor({ model: 'm', input: 'x', stream: true }));
  // OpenAI's own chat stream opens with `refusal: null` and then sends the refusal text in deltas.
  const events = run(s, [delta({ role: 'assistant', content: null, refusal: null }), delta({ refusal: "I'm sorry, " }), delta({ refusal: 'I cannot help.' }), delta({}, 'stop')]);
  const msg = { id: 'msg_*', type: 'message', role: 'assistant' };
  const part = { type: 'refusal', refusal: "I'm sorry, I cannot help." };
  const at = { item_id: 'msg_*', output_index: 0, content_index: 0 };
  assert.deepEqual(shape(events), [
    'response.created',
    'response.in_progress',
    { type: 'response.output_item.added', output_index: 0, item: { ...msg, status: 'in_progress', content: [] } },
    { type: 'response.content_part.added', ...at, part: { type: 'refusal', refusal: '' } },
    { type: 'response.refusal.delta', ...at, delta: "I'm sorry, " },
    { type: 'response.refusal.delta', ...at, delta: 'I cannot help.' },
    { type: 'response.refusal.done', ...at, refusal: part.refusal },
    { type: 'response.content_part.done', ...at, part },
    { type: 'response.output_item.done', output_index: 0, item: { ...msg, status: 'completed', content: [part] } },
    'response.completed',
  ]);
  const final = events.at(-1);
  assert.ok(final !== undefined && final.type === 'response.completed');
  assert.deepEqual(ids(final.response.output), [{ ...msg, status: 'completed', content: [part] }]);
  assert.deepEqual(accumulate(events), s.response);
});

test('text then a refusal: one message with both parts, the same output as the buffered translation', () => {
  const ctx = ctxFor({ model: 'm', input: 'x', stream: true });
  const s = new ChatToResponsesStream(ctx);
  const events = run(s, [delta({ role: 'assistant', content: 'Well. ' }), delta({ refusal: 'No.' }), delta({ content: 'Sorry.' }), delta({}, 'stop')]);
  const types = events.map((e) => ('content_index' in e ? `${e.type}@${e.content_index}` : e.type));
  assert.deepEqual(types.slice(2), [
    'response.output_item.added',
    'response.content_part.added@0', 'response.output_text.delta@0',
    'response.content_part.added@1', 'response.refusal.delta@1',
    'response.output_text.delta@0',
    'response.output_text.done@0', 'response.content_part.done@0',
    'response.refusal.done@1', 'response.content_part.done@1',
    'response.output_item.done', 'response.completed',
  ]);
  const final = accumulate(events);
  assert.deepEqual(final, s.response);
  const buffered = fromChatCompletion({ choices: [{ index: 0, message: { role: 'assistant', content: 'Well. Sorry.', refusal: 'No.' }, finish_reason: 'stop' }] }, ctx);
  assert.deepEqual(ids(final.output), ids(buffered.output));
});

test('tool-call deltas without index: a new id starts a new function_call, deltas without id continue the last', () => {
  const s = new ChatToResponsesStream(ctxFor({ model: 'm', input: 'x', tools: [{ type: 'function', name: 'a' }, { type: 'function', name: 'b' }] }));
  const tc = (call: Record<string, unknown>): Record<string, unknown> => delta({ tool_calls: [call] });
  const events = run(s, [
    tc({ id: 'call_a', type: 'function', function: { name: 'a', arguments: '{"x":' } }),
    tc({ function: { arguments: '1}' } }),
    tc({ id: 'call_a', function: { arguments: '' } }),
    tc({ id: 'call_b', type: 'function', function: { name: 'b', arguments: '{"y":' } }),
    tc({ function: { arguments: '2}' } }),
    delta({}, 'tool_calls'),
  ]);
  const final = accumulate(events);
  assert.deepEqual(final, s.response);
  assert.deepEqual(ids(final.output), [
    { id: 'fc_*', type: 'function_call', status: 'completed', call_id: 'call_a', name: 'a', arguments: '{"x":1}' },
    { id: 'fc_*', type: 'function_call', status: 'completed', call_id: 'call_b', name: 'b', arguments: '{"y":2}' },
  ]);
  assert.notEqual(final.output[0]?.id, final.output[1]?.id);
  assert.deepEqual(events.filter((e) => e.type === 'response.function_call_arguments.done').map((e) => [e.output_index, 'arguments' in e ? e.arguments : null]), [[0, '{"x":1}'], [1, '{"y":2}']]);
});

test('whole tool calls that all say index 0 but carry their own ids are separate calls', () => {
  const s = new ChatToResponsesStream(ctxFor({ model: 'm', input: 'x', tools: [{ type: 'function', name: 'f' }] }));
  const call = (id: string, args: string): Record<string, unknown> => delta({ tool_calls: [{ index: 0, id, type: 'function', function: { name: 'f', arguments: args } }] });
  // A repeated id is the call it names, not a third one.
  const final = accumulate(run(s, [call('call_1', '{"n":1}'), call('call_2', '{"n":2}'), call('call_1', ''), delta({}, 'tool_calls')]));
  assert.deepEqual(final.output.map((o) => (o.type === 'function_call' ? [o.call_id, o.arguments] : o.type)), [['call_1', '{"n":1}'], ['call_2', '{"n":2}']]);
});
