import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../src/lib/clock.ts';
import { MeshError } from '../../../src/errors.ts';
import { toChatRequest } from '../../../src/protocols/responses/request.ts';
import { fromChatCompletion } from '../../../src/protocols/responses/response.ts';
import { conversationOf, ResponseStore } from '../../../src/protocols/responses/store.ts';
import { ChatToResponsesStream } from '../../../src/protocols/responses/stream.ts';
import type { ResponseContext, ResponseObject } from '../../../src/protocols/responses/types.ts';

const answer = (message: Record<string, unknown>, finish_reason = 'stop'): unknown => ({ choices: [{ index: 0, message, finish_reason }] });

function ctx(id: string, echo: ResponseContext['echo']): ResponseContext {
  return { id, model: 'smart', createdAt: 1, echo };
}

test('a three-turn previous_response_id conversation (sync, then a streamed tool call, then its output)', () => {
  const store = new ResponseStore({ clock: new ManualClock() });
  const answered = (body: Record<string, unknown>, id: string, reply: (t: ReturnType<typeof toChatRequest>) => ResponseObject): { t: ReturnType<typeof toChatRequest>; response: ResponseObject } => {
    const prev = typeof body['previous_response_id'] === 'string' ? body['previous_response_id'] : null;
    const history = prev === null ? null : store.history(prev);
    const t = toChatRequest(body, history);
    const response = reply(t);
    if (t.echo.store) store.put(response, conversationOf(history, t.turn, response));
    return { t, response };
  };

  const one = answered({ model: 'smart', instructions: 'Be terse.', input: 'My name is Ada.' }, 'resp_1', (t) =>
    fromChatCompletion(answer({ role: 'assistant', content: 'Hi Ada.' }), ctx('resp_1', t.echo)),
  );
  assert.deepEqual(one.t.chat['messages'], [{ role: 'system', content: 'Be terse.' }, { role: 'user', content: 'My name is Ada.' }]);
  assert.deepEqual(store.history('resp_1'), [{ role: 'user', content: 'My name is Ada.' }, { role: 'assistant', content: 'Hi Ada.' }]);

  const tools = [{ type: 'function', name: 'lookup', parameters: { type: 'object' } }];
  const two = answered({ model: 'smart', previous_response_id: 'resp_1', input: [{ role: 'user', content: [{ type: 'input_text', text: 'Look me up.' }] }], tools, stream: true }, 'resp_2', (t) => {
    const s = new ChatToResponsesStream(ctx('resp_2', t.echo));
    s.start();
    s.push({ choices: [{ index: 0, delta: { role: 'assistant', tool_calls: [{ index: 0, id: 'call_9', type: 'function', function: { name: 'lookup', arguments: '{"n":"Ada"}' } }] }, finish_reason: null }] });
    s.push({ choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] });
    s.end();
    return s.response;
  });
  assert.deepEqual(two.t.chat['messages'], [
    { role: 'user', content: 'My name is Ada.' },
    { role: 'assistant', content: 'Hi Ada.' },
    { role: 'user', content: [{ type: 'text', text: 'Look me up.' }] },
  ], 'instructions of turn one are not carried over');
  assert.equal(two.response.previous_response_id, 'resp_1');

  const three = answered(
    { model: 'smart', previous_response_id: 'resp_2', input: [{ type: 'function_call_output', call_id: 'call_9', output: '{"found":true}' }], tools },
    'resp_3',
    (t) => fromChatCompletion(answer({ role: 'assistant', content: 'Found you.' }), ctx('resp_3', t.echo)),
  );
  assert.deepEqual(three.t.chat['messages'], [
    { role: 'user', content: 'My name is Ada.' },
    { role: 'assistant', content: 'Hi Ada.' },
    { role: 'user', content: [{ type: 'text', text: 'Look me up.' }] },
    { role: 'assistant', content: null, tool_calls: [{ id: 'call_9', type: 'function', function: { name: 'lookup', arguments: '{"n":"Ada"}' } }] },
    { role: 'tool', tool_call_id: 'call_9', content: '{"found":true}' },
  ]);
  assert.equal(store.get('resp_3')?.output[0]?.type, 'message');
  assert.equal(store.size, 3);

  // store: false answers but keeps nothing, so the next turn cannot chain on it.
  answered({ model: 'smart', previous_response_id: 'resp_3', input: 'Bye', store: false }, 'resp_4', (t) =>
    fromChatCompletion(answer({ role: 'assistant', content: 'Bye.' }), ctx('resp_4', t.echo)),
  );
  assert.equal(store.get('resp_4'), null);
  assert.throws(
    () => answered({ model: 'smart', previous_response_id: 'resp_4', input: 'Hello?' }, 'resp_5', () => assert.fail('not reached')),
    (err: unknown) => err instanceof MeshError && err.code === 'previous_response_not_found' && err.param === 'previous_response_id',
  );
});

function stored(id: string): ResponseObject {
  return fromChatCompletion(answer({ role: 'assistant', content: id }), ctx(id, toChatRequest({ model: 'm', input: 'x' }, null).echo));
}

test('entries expire after the TTL', () => {
  const clock = new ManualClock();
  const store = new ResponseStore({ clock, ttlMs: 1000 });
  store.put(stored('resp_a'), [{ role: 'user', content: 'a' }]);
  clock.advance(500);
  store.put(stored('resp_b'), []);
  clock.advance(499);
  assert.equal(store.get('resp_a')?.id, 'resp_a');
  clock.advance(1);
  assert.equal(store.get('resp_a'), null, 'expired exactly at the TTL');
  assert.equal(store.history('resp_a'), null);
  assert.equal(store.size, 1);
  clock.advance(500);
  assert.equal(store.size, 0, 'swept');
  assert.equal(store.history('resp_b'), null);
});

test('the store is bounded: the oldest entry is evicted first; re-putting an id refreshes it', () => {
  const clock = new ManualClock();
  const store = new ResponseStore({ clock, maxEntries: 3 });
  for (const id of ['resp_1', 'resp_2', 'resp_3']) store.put(stored(id), []);
  store.put(stored('resp_1'), [{ role: 'user', content: 'again' }]);
  store.put(stored('resp_4'), []);
  assert.equal(store.size, 3);
  assert.equal(store.get('resp_2'), null, 'oldest evicted');
  assert.deepEqual(store.history('resp_1'), [{ role: 'user', content: 'again' }]);
  assert.ok(store.get('resp_3') !== null && store.get('resp_4') !== null);
  assert.equal(new ResponseStore({ maxEntries: 0 }).size, 0);
  const one = new ResponseStore({ maxEntries: 0 });
  one.put(stored('resp_x'), []);
  one.put(stored('resp_y'), []);
  assert.equal(one.size, 1, 'at least one entry is kept');
});

test('delete removes an entry and says whether it was there', () => {
  const clock = new ManualClock();
  const store = new ResponseStore({ clock, ttlMs: 10 });
  store.put(stored('resp_d'), []);
  assert.equal(store.delete('resp_d'), true);
  assert.equal(store.delete('resp_d'), false);
  assert.equal(store.get('resp_d'), null);
  store.put(stored('resp_e'), []);
  clock.advance(10);
  assert.equal(store.delete('resp_e'), false, 'an expired entry counts as gone');
});

test('an entry is its owner\'s only: another client or an anonymous caller neither finds, continues nor deletes it', () => {
  const store = new ResponseStore({ clock: new ManualClock() });
  store.put(stored('resp_a'), [{ role: 'user', content: 'a' }], 'alice');
  store.put(stored('resp_n'), [{ role: 'user', content: 'n' }], null);
  for (const other of ['bob', null] as const) {
    assert.equal(store.get('resp_a', other), null);
    assert.equal(store.history('resp_a', other), null);
    assert.equal(store.delete('resp_a', other), false);
  }
  assert.equal(store.get('resp_n', 'alice'), null, 'an anonymous entry is not a client\'s');
  assert.equal(store.delete('resp_n', 'alice'), false);
  assert.equal(store.get('resp_a', 'alice')?.id, 'resp_a', 'the refused deletes left it in place');
  assert.deepEqual(store.history('resp_a', 'alice'), [{ role: 'user', content: 'a' }]);
  assert.equal(store.get('resp_n')?.id, 'resp_n');
  assert.equal(store.delete('resp_a', 'alice'), true);
  assert.equal(store.size, 1);
});
