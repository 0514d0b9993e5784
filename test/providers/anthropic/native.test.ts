// The native Messages call (providers/anthropic/native.ts) refuses, before anything is committed, what is an
// upstream failure however it is framed: a 200 error envelope (spaced, reordered; its error type gives the
// status), an `error` event after keep-alive pings (with or without `event:` lines), a stream of pings only.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ModelConfig } from '../../../src/config/types.ts';
import { AnthropicProvider } from '../../../src/providers/anthropic/index.ts';
import { presetFor } from '../../../src/providers/presets.ts';
import type { ProviderCall } from '../../../src/providers/provider.ts';
import { json, providerConfig, sse, startFakeUpstream, type FakeUpstream } from '../../helpers/fake-upstream.ts';
import { providerCall, rejection } from '../../helpers/provider-call.ts';

const MODEL = { id: 'anthropic.claude', name: 'claude' } as ModelConfig;
const BODY = { model: 'x', max_tokens: 5, messages: [{ role: 'user', content: 'Hi' }] };
const call = (over: Partial<ProviderCall> = {}): ProviderCall => providerCall(MODEL, 'Hi', 'req-n', { endpoint: 'messages', body: { ...BODY }, ...over });

describe('native messages call', () => {
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

  test('a 200 error envelope is a failed attempt whose status its error type gives', async () => {
    for (const [body, status, reason] of [
      [JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }, null, 2), 529, '529 Overloaded (200 error answer)'],
      ['  {"error": {"type": "invalid_request_error", "message": "max_tokens: Field required"}, "type": "error"}', 400, '400 max_tokens: Field required (200 error answer)'],
    ] as const) {
      up.handle(json(200, body));
      const err = await rejection(p.call(call()));
      assert.deepEqual([err.upstream?.status, err.upstream?.reason], [status, reason], body);
    }
    const message = { id: 'msg', type: 'message', role: 'assistant', content: [{ type: 'text', text: 'an "error" word' }], usage: { input_tokens: 1, output_tokens: 1 } };
    up.handle(json(200, message));
    const res = await p.call(call());
    assert.equal(res.kind === 'buffer' ? JSON.parse(res.body.toString('utf8')).id : null, 'msg');
  });

  test('stream: pings are read past; an error after them rejects, whether or not events have event: lines', async () => {
    const error = { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } };
    for (const events of [
      ['event: ping\ndata: {"type": "ping"}\n\n', `event: error\ndata: ${JSON.stringify(error)}\n\n`],
      ['data: {"type": "ping"}\n\n', 'data: {"type": "ping"}\n\n', `data: ${JSON.stringify(error, null, 1).replace(/\n/g, '')}\n\n`],
    ]) {
      up.handle(sse(events, { done: false }));
      const err = await rejection(p.call(call({ mode: 'sse', body: { ...BODY, stream: true } })));
      assert.equal(err.upstream?.status, 529, events.join(''));
      assert.match(err.upstream?.reason ?? '', /^529 Overloaded \(error event before message_start: /);
    }
  });

  test('stream: one that ends with nothing but pings rejects; the first other event is handed on', async () => {
    up.handle(sse(['event: ping\ndata: {"type":"ping"}\n\n'], { done: false }));
    const err = await rejection(p.call(call({ mode: 'sse', body: { ...BODY, stream: true } })));
    assert.equal(err.upstream?.reason, 'stream ended before message_start');
    up.handle(sse(['event: ping\ndata: {"type":"ping"}\n\n', 'event: message_start\ndata: {"type":"message_start","message":{}}\n\n'], { done: false }));
    const res = await p.call(call({ mode: 'sse', body: { ...BODY, stream: true } }));
    assert.equal(res.kind, 'sse');
    if (res.kind !== 'sse') return;
    const first = await res.events.next();
    assert.equal(first.done !== true ? first.value.event : null, 'message_start');
    res.close();
  });
});
