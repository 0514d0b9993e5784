// A 2xx answer that is an error envelope (providers/error-answer.ts): found however it is spaced or ordered,
// never in an ordinary answer (the word "error" in its text, `"error": null`, a finish_reason "error"), and
// refused by the OpenAI-compatible connector's chat call, before the answer is committed, so the router fails over.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ModelConfig } from '../../src/config/types.ts';
import { chatErrorAnswer, errorEnvelope } from '../../src/providers/error-answer.ts';
import { FULL_PARSE_MAX, jsonObjectProblem } from '../../src/providers/json-answer.ts';
import { OpenAiCompatibleProvider } from '../../src/providers/openai-compatible.ts';
import { presetFor } from '../../src/providers/presets.ts';
import { json, providerConfig, startFakeUpstream } from '../helpers/fake-upstream.ts';
import { providerCall, rejection } from '../helpers/provider-call.ts';

/** A body as the connector sees it: after the JSON check (which parses a small answer's usage). */
function checked(text: string): Buffer {
  const body = Buffer.from(text);
  assert.equal(jsonObjectProblem(body), null, text);
  return body;
}

test('errorEnvelope: chat and Anthropic envelopes, spaced, pretty-printed or reordered', () => {
  for (const text of [
    '{"error":{"message":"x","code":502}}',
    `\n${JSON.stringify({ id: 'gen-1', error: { message: 'down', code: 503 }, user_id: 'u' }, null, 2)}\n`,
    '{ "type" : "error", "error": {"type": "overloaded_error", "message": "Overloaded"} }',
    '{"error":{"type":"api_error","message":"Internal"},"type":"error"}',
    '{"type": "error"}',
  ]) {
    assert.notEqual(errorEnvelope(checked(text)), null, text);
  }
});

test('errorEnvelope: ordinary answers are not envelopes', () => {
  const completion = (content: string, finish = 'stop', usage = true): string => JSON.stringify({
    id: 'c', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: finish }],
    ...(usage ? { usage: { prompt_tokens: 1, completion_tokens: 1 } } : {}),
  });
  for (const text of [
    completion('"error": {"message": "quoted"}'), // escaped inside the text
    completion('error', 'error'),
    completion('error', 'error', false), // searched and parsed: still no top-level error object
    '{"choices":[],"error":null}',
    '{"choices":[],"error":"a string is no envelope"}',
    '{"id":"msg","type":"message","content":[{"type":"text","text":"error"}],"usage":{"input_tokens":1}}',
  ]) {
    assert.equal(errorEnvelope(checked(text)), null, text);
  }
  // Envelopes are small: an answer past FULL_PARSE_MAX is not parsed to look for one.
  assert.equal(errorEnvelope(checked(`{"error":{"message":"${'x'.repeat(FULL_PARSE_MAX)}"}}`)), null);
});

test('chatErrorAnswer: a numeric code 400-599 is the attempt status, else 0; the message is the reason', () => {
  const of = (text: string): [number | undefined, string | undefined] => {
    const err = chatErrorAnswer('up', 200, checked(text));
    return [err?.upstream?.status, err?.upstream?.reason];
  };
  assert.deepEqual(of('{"error":{"message":"x","code":502}}'), [502, '200 error answer: 502 x']);
  assert.deepEqual(of('{"error":{"message":"bad param","code":400}}'), [400, '200 error answer: 400 bad param']);
  assert.deepEqual(of('{"error":{"message":"y","code":"server_error"}}'), [0, '200 error answer: y']);
  assert.deepEqual(of('{"error":{}}'), [0, '200 error answer: no message']);
  // Anthropic's envelope without an error object is not a chat envelope.
  assert.equal(chatErrorAnswer('up', 200, checked('{"type":"error"}')), null);
});

test('openai-compatible: a chat call answered 200 {"error":…} rejects (a failed attempt); a completion resolves', async (t) => {
  const up = await startFakeUpstream();
  t.after(() => up.close());
  const preset = presetFor('openai.llm.v1');
  assert.ok(preset);
  const p = new OpenAiCompatibleProvider(providerConfig('openai.llm.v1', up.url), preset);
  t.after(() => p.close());
  const model = { id: 'vendor.m', name: 'm' } as ModelConfig;
  up.handle(json(200, { error: { message: 'upstream overloaded', code: 503 } }));
  const err = await rejection(p.call(providerCall(model, 'hi', 'r1')));
  assert.equal(err.code, 'upstream_error');
  assert.deepEqual([err.upstream?.status, err.upstream?.reason], [503, '200 error answer: 503 upstream overloaded']);
  up.handle(json(200, { id: 'c', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }] }));
  assert.equal((await p.call(providerCall(model, 'hi', 'r2'))).kind, 'buffer');
});
