// Native or translated per attempt (src/mesh/route/attempt-call.ts): which body, endpoint and headers each model's call gets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attemptCall, isNative, type AttemptRequest } from '../../../src/mesh/route/attempt-call.ts';
import { MeshError } from '../../../src/errors.ts';
import { CancelToken } from '../../../src/lib/cancel.ts';
import type { ModelEntry } from '../../../src/mesh/types.ts';
import type { Provider } from '../../../src/providers/provider.ts';

const entry = (speaks: boolean | undefined): ModelEntry => ({
  id: 'p.m', capabilities: [], config: { name: 'm' } as ModelEntry['config'],
  provider: { ...(speaks === undefined ? {} : { speaks: () => speaks }) } as unknown as Provider,
});
const base: AttemptRequest = {
  endpoint: 'messages', body: { model: 'x', max_tokens: 1 }, form: null, mode: 'sse', requestId: 'r',
  translated: { body: { model: 'x', messages: [] }, mode: 'sse' }, headers: { traceparent: 't' }, nativeHeaders: { 'anthropic-version': 'v' },
};

test('a model that speaks the protocol gets the native body with native and common headers', () => {
  const call = attemptCall(base, entry(true), new CancelToken());
  assert.equal(call.endpoint, 'messages');
  assert.equal(call.body, base.body);
  assert.deepEqual(call.headers, { traceparent: 't', 'anthropic-version': 'v' });
});

test('any other model gets the chat translation and only the common headers', () => {
  for (const speaks of [false, undefined]) {
    const call = attemptCall(base, entry(speaks), new CancelToken());
    assert.equal(call.endpoint, 'chat');
    assert.deepEqual(call.body, { model: 'x', messages: [] });
    assert.deepEqual(call.headers, { traceparent: 't' });
  }
});

test('`only` translates for native models too; no translation means native; an error leaves natives native', () => {
  assert.equal(isNative({ ...base, translated: { body: {}, mode: 'sse', only: true } }, entry(true)), false);
  const { translated: _, ...plain } = base;
  assert.equal(isNative({ ...plain, endpoint: 'chat' }, entry(false)), true);
  const failed = { ...base, translated: { error: new MeshError('invalid_request', 'no') } };
  assert.equal(isNative(failed, entry(true)), true);
  assert.equal(isNative(failed, entry(false)), false);
});
