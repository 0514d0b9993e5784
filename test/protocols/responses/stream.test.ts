import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { SseParser } from '../../../src/lib/sse.ts';
import { sseEvents } from '../../helpers/sse.ts';
import { ChatToResponsesStream, encodeEvent, encodeEvents } from '../../../src/protocols/responses/stream.ts';
import type { ResponsesEvent } from '../../../src/protocols/responses/types.ts';
import { CREATED_AT, accumulate, ctxFor, ids } from './helpers.ts';

const base = { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'up' };
const delta = (d: Record<string, unknown>, finish_reason: string | null = null): Record<string, unknown> => ({ ...base, choices: [{ index: 0, delta: d, logprobs: null, finish_reason }], usage: null });
const usageChunk = { ...base, choices: [], usage: { prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 } };

function run(s: ChatToResponsesStream, chunks: unknown[]): ResponsesEvent[] {
  const events = s.start();
  for (const c of chunks) events.push(...s.push(c));
  events.push(...s.end());
  return events;
}

test('streaming text: the exact Responses event sequence, numbered from 0', () => {
  const s = new ChatToResponsesStream(ctxFor({ model: 'smart', input: 'Hi', stream: true }));
  const events = run(s, [delta({ role: 'assistant', content: '' }), delta({ content: 'Hel' }), delta({ content: 'lo' }), delta({}, 'stop'), usageChunk]);
  const created = { ...ids(s.response), status: 'in_progress', completed_at: null, output: [], usage: null };
  const msg = { id: 'msg_*', type: 'message', role: 'assistant' };
  const part = (text: string): unknown => ({ type: 'output_text', text, annotations: [] });
  assert.deepEqual(ids(events), [
    { type: 'response.created', response: created, sequence_number: 0 },
    { type: 'response.in_progress', response: created, sequence_number: 1 },
    { type: 'response.output_item.added', output_index: 0, item: { ...msg, status: 'in_progress', content: [] }, sequence_number: 2 },
    { type: 'response.content_part.added', item_id: 'msg_*', output_index: 0, content_index: 0, part: part(''), sequence_number: 3 },
    { type: 'response.output_text.delta', item_id: 'msg_*', output_index: 0, content_index: 0, delta: 'Hel', logprobs: [], sequence_number: 4 },
    { type: 'response.output_text.delta', item_id: 'msg_*', output_index: 0, content_index: 0, delta: 'lo', logprobs: [], sequence_number: 5 },
    { type: 'response.output_text.done', item_id: 'msg_*', output_index: 0, content_index: 0, text: 'Hello', logprobs: [], sequence_number: 6 },
    { type: 'response.content_part.done', item_id: 'msg_*', output_index: 0, content_index: 0, part: part('Hello'), sequence_number: 7 },
    { type: 'response.output_item.done', output_index: 0, item: { ...msg, status: 'completed', content: [part('Hello')] }, sequence_number: 8 },
    {
      type: 'response.completed',
      response: {
        ...created,
        status: 'completed',
        completed_at: CREATED_AT + 2,
        output: [{ ...msg, status: 'completed', content: [part('Hello')] }],
        usage: { input_tokens: 9, input_tokens_details: { cached_tokens: 0 }, output_tokens: 2, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 11 },
      },
      sequence_number: 9,
    },
  ]);
  const first = events[2];
  assert.ok(first !== undefined && first.type === 'response.output_item.added');
  assert.match(first.item.id, /^msg_[0-9a-f]{48}$/);
  assert.deepEqual(accumulate(events), s.response);
  assert.equal(s.ended && s.finished, true);
  assert.deepEqual(s.push(delta({ content: 'late' })), [], 'nothing after the end');
  assert.deepEqual(s.end(), []);
});

test('streaming two tool calls with argument deltas by index (interleaved), after some text', () => {
  const s = new ChatToResponsesStream(ctxFor({ model: 'm', input: 'x', tools: [{ type: 'function', name: 'a' }, { type: 'function', name: 'b' }] }));
  const tc = (index: number, fn: Record<string, unknown>, id?: string): Record<string, unknown> =>
    delta({ tool_calls: [{ index, ...(id === undefined ? {} : { id, type: 'function' }), function: fn }] });
  const events = run(s, [
    delta({ role: 'assistant', content: 'On it.' }),
    tc(0, { name: 'a', arguments: '' }, 'call_0'),
    tc(0, { arguments: '{"x":' }),
    tc(1, { name: 'b', arguments: '{"y"' }, 'call_1'),
    tc(0, { arguments: '1}' }),
    tc(1, { arguments: ':2}' }),
    delta({}, 'tool_calls'),
    usageChunk,
  ]);
  const shape = ids(events).map((e) => {
    const { sequence_number, type, ...rest } = e;
    void sequence_number;
    if ('response' in rest) return type;
    return [type, JSON.stringify(rest)];
  });
  assert.deepEqual(shape, [
    'response.created',
    'response.in_progress',
    ['response.output_item.added', '{"output_index":0,"item":{"id":"msg_*","type":"message","status":"in_progress","role":"assistant","content":[]}}'],
    ['response.content_part.added', '{"item_id":"msg_*","output_index":0,"content_index":0,"part":{"type":"output_text","text":"","annotations":[]}}'],
    ['response.output_text.delta', '{"item_id":"msg_*","output_index":0,"content_index":0,"delta":"On it.","logprobs":[]}'],
    ['response.output_item.added', '{"output_index":1,"item":{"id":"fc_*","type":"function_call","status":"in_progress","call_id":"call_0","name":"a","arguments":""}}'],
    ['response.function_call_arguments.delta', '{"item_id":"fc_*","output_index":1,"delta":"{\\"x\\":"}'],
    ['response.output_item.added', '{"output_index":2,"item":{"id":"fc_*","type":"function_call","status":"in_progress","call_id":"call_1","name":"b","arguments":""}}'],
    ['response.function_call_arguments.delta', '{"item_id":"fc_*","output_index":2,"delta":"{\\"y\\""}'],
    ['response.function_call_arguments.delta', '{"item_id":"fc_*","output_index":1,"delta":"1}"}'],
    ['response.function_call_arguments.delta', '{"item_id":"fc_*","output_index":2,"delta":":2}"}'],
    ['response.output_text.done', '{"item_id":"msg_*","output_index":0,"content_index":0,"text":"On it.","logprobs":[]}'],
    ['response.content_part.done', '{"item_id":"msg_*","output_index":0,"content_index":0,"part":{"type":"output_text","text":"On it.","annotations":[]}}'],
    ['response.output_item.done', '{"output_index":0,"item":{"id":"msg_*","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","text":"On it.","annotations":[]}]}}'],
    ['response.function_call_arguments.done', '{"item_id":"fc_*","output_index":1,"name":"a","arguments":"{\\"x\\":1}"}'],
    ['response.output_item.done', '{"output_index":1,"item":{"id":"fc_*","type":"function_call","status":"completed","call_id":"call_0","name":"a","arguments":"{\\"x\\":1}"}}'],
    ['response.function_call_arguments.done', '{"item_id":"fc_*","output_index":2,"name":"b","arguments":"{\\"y\\":2}"}'],
    ['response.output_item.done', '{"output_index":2,"item":{"id":"fc_*","type":"function_call","status":"completed","call_id":"call_1","name":"b","arguments":"{\\"y\\":2}"}}'],
    'response.completed',
  ]);
  const final = accumulate(events);
  assert.deepEqual(final, s.response);
  assert.equal(final.status, 'completed');
  const [, a, b] = final.output;
  assert.ok(a?.type === 'function_call' && b?.type === 'function_call');
  assert.notEqual(a.id, b.id);
  assert.deepEqual([a.arguments, b.arguments], ['{"x":1}', '{"y":2}']);
});

test('finish_reason length: response.incomplete with incomplete_details, the last item incomplete', () => {
  const s = new ChatToResponsesStream(ctxFor({ model: 'm', input: 'x', max_output_tokens: 2 }));
  const events = run(s, [delta({ role: 'assistant', content: 'Once' }), delta({}, 'length')]);
  const last = events[events.length - 1];
  assert.ok(last !== undefined && last.type === 'response.incomplete');
  assert.equal(last.response.status, 'incomplete');
  assert.deepEqual(last.response.incomplete_details, { reason: 'max_output_tokens' });
  assert.equal(last.response.output[0]?.status, 'incomplete');
  assert.equal(last.response.completed_at, null);
  assert.equal(last.response.usage, null, 'no usage chunk came');
  assert.deepEqual(accumulate(events), s.response);
});

test('failure mid-stream: response.failed carrying the error and the partial output, never a clean end', () => {
  const s = new ChatToResponsesStream(ctxFor({ model: 'm', input: 'x' }));
  const events = s.start();
  events.push(...s.push(delta({ role: 'assistant', content: 'Par' })));
  events.push(...s.fail('upstream connection reset'));
  assert.deepEqual(
    events.map((e) => e.type),
    ['response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added', 'response.output_text.delta', 'response.failed'],
  );
  const failed = events[5];
  assert.ok(failed !== undefined && failed.type === 'response.failed');
  assert.equal(failed.sequence_number, 5);
  assert.equal(failed.response.status, 'failed');
  assert.deepEqual(failed.response.error, { code: 'server_error', message: 'upstream connection reset' });
  assert.deepEqual(ids(failed.response.output), [{ id: 'msg_*', type: 'message', status: 'incomplete', role: 'assistant', content: [{ type: 'output_text', text: 'Par', annotations: [] }] }]);
  assert.deepEqual(s.end(), [], 'end after fail adds nothing');
  assert.deepEqual(s.fail('again'), []);
});

test('an in-band upstream error chunk fails the response; junk chunks are ignored', () => {
  const s = new ChatToResponsesStream(ctxFor({ model: 'm', input: 'x' }));
  s.start();
  assert.deepEqual(s.push('junk'), []);
  assert.deepEqual(s.push({ ...base, choices: [] }), []);
  const out = s.push({ error: { message: 'overloaded', type: 'server_error', param: null, code: null } });
  assert.deepEqual(out.map((e) => e.type), ['response.failed']);
  assert.equal(s.response.error?.message, 'overloaded');
  // Without start(), the first events still lead: the sequence is always a valid one.
  const other = new ChatToResponsesStream(ctxFor({ model: 'm', input: 'x' }));
  const failed = other.push({ error: {} });
  assert.deepEqual(failed.map((e) => [e.type, e.sequence_number]), [['response.created', 0], ['response.in_progress', 1], ['response.failed', 2]]);
  assert.equal(other.response.error?.message, 'The upstream stream failed.');
  assert.deepEqual(other.start(), []);
});

test('push and end without start() still begin with response.created; start() is idempotent', () => {
  const s = new ChatToResponsesStream(ctxFor({ model: 'm', input: 'x' }));
  const events = [...s.push(delta({ content: 'a' })), ...s.start(), ...s.end()];
  assert.equal(events[0]?.type, 'response.created');
  assert.equal(accumulate(events).output.length, 1);
  const empty = new ChatToResponsesStream(ctxFor({ model: 'm', input: 'x' }));
  assert.deepEqual(empty.end().map((e) => e.type), ['response.created', 'response.in_progress', 'response.completed']);
});

test('a stream that ends without a finish_reason still completes, but finished tells the caller', () => {
  const s = new ChatToResponsesStream(ctxFor({ model: 'm', input: 'x' }));
  const events = run(s, [delta({ content: 'x' })]);
  assert.equal(s.finished, false);
  assert.equal(events[events.length - 1]?.type, 'response.completed');
});

test('encoder: `event: <type>` then `data: <json>` with OpenAI\'s blank-line framing', () => {
  const s = new ChatToResponsesStream(ctxFor({ model: 'm', input: 'line1\nline2' }));
  const [created] = s.start();
  assert.ok(created !== undefined);
  const text = encodeEvent(created);
  assert.ok(text.startsWith('event: response.created\ndata: {"type":"response.created","response":{"id":"resp_test","object":"response",'));
  assert.ok(text.endsWith('"sequence_number":0}\n\n'));
  assert.equal(text.split('\n').length, 4);
  assert.equal(encodeEvents([created, created]), text + text);
});

/** A chat-only upstream over loopback: its SSE is parsed, translated, encoded and parsed back like a client. */
test('end to end over loopback: chat SSE in, Responses SSE out that an SDK-style parser accumulates', async (t) => {
  const chunks = [
    delta({ role: 'assistant', content: '' }),
    delta({ content: 'Hi ' }),
    delta({ content: 'there \u00e9\u4e16' }),
    delta({ tool_calls: [{ index: 0, id: 'call_z', type: 'function', function: { name: 'f', arguments: '{"q":' } }] }),
    delta({ tool_calls: [{ index: 0, function: { arguments: '"\\n"}' } }] }),
    delta({}, 'tool_calls'),
    usageChunk,
  ];
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    // Split mid-line to exercise the parser's buffering.
    const wire = chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`).join('') + 'data: [DONE]\n\n';
    const cut = Math.floor(wire.length / 3);
    res.write(wire.slice(0, cut));
    setTimeout(() => res.end(wire.slice(cut)), 5);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const { port } = server.address() as AddressInfo;
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => http.get({ host: '127.0.0.1', port, path: '/v1/chat/completions' }, resolve).on('error', reject));

  const s = new ChatToResponsesStream(ctxFor({ model: 'm', input: 'x', stream: true }));
  let out = encodeEvents(s.start());
  for await (const event of sseEvents(res)) {
    if (event.data === '[DONE]') break;
    out += encodeEvents(s.push(JSON.parse(event.data)));
  }
  out += encodeEvents(s.end());

  const parsed = new SseParser().push(Buffer.from(out, 'utf8'));
  const events = parsed.map((e) => {
    const data = JSON.parse(e.data) as ResponsesEvent;
    assert.equal(e.event, data.type, 'event name is the type');
    return data;
  });
  const final = accumulate(events);
  assert.equal(final.status, 'completed');
  assert.deepEqual(ids(final.output), [
    { id: 'msg_*', type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'Hi there \u00e9\u4e16', annotations: [] }] },
    { id: 'fc_*', type: 'function_call', status: 'completed', call_id: 'call_z', name: 'f', arguments: '{"q":"\\n"}' },
  ]);
  assert.equal(final.usage?.total_tokens, 11);
});
