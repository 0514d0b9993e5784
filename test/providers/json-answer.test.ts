// Issue 11.3: a 2xx answer of a JSON endpoint that is not a complete JSON object is an upstream failure
// (retried, rotated, counted), for the pass-through connector and for the Anthropic translation path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FULL_PARSE_MAX, jsonObjectProblem, parsedUsageOf } from '../../src/providers/json-answer.ts';
import { bodyUsage, scanUsage } from '../../src/proxy/endpoints/usage-scan.ts';
import { json, startFakeUpstream, text } from '../helpers/fake-upstream.ts';
import { postJson, startProxy } from '../helpers/proxy.ts';
import { startPair } from '../helpers/pair.ts';

test('jsonObjectProblem: html, truncated, empty, arrays and invalid JSON are problems; objects are not', () => {
  assert.equal(jsonObjectProblem(Buffer.from(' {"id":"x"}\n')), null);
  assert.equal(jsonObjectProblem(Buffer.from('\ufeff{"a":1}')), null);
  assert.match(jsonObjectProblem(Buffer.from('<html>502 oops</html>')) ?? '', /not a JSON object/);
  assert.match(jsonObjectProblem(Buffer.from('{"id":"x","choices":[tru')) ?? '', /truncated/);
  assert.match(jsonObjectProblem(Buffer.from('  ')) ?? '', /empty/);
  assert.match(jsonObjectProblem(Buffer.from('[1]')) ?? '', /not a JSON object/);
  assert.equal(jsonObjectProblem(Buffer.from('{"a":[tru}')), 'invalid JSON');
  // Past FULL_PARSE_MAX only the ends are checked (a cost decision, see json-answer.ts).
  const big = Buffer.from(`{"a":"${'x'.repeat(FULL_PARSE_MAX)}",tru}`);
  assert.equal(jsonObjectProblem(big), null);
  assert.match(jsonObjectProblem(big.subarray(0, big.length - 5)) ?? '', /truncated/);
});

const CHAT = { id: 'chatcmpl-b', object: 'chat.completion', created: 1, model: 'up', choices: [{ index: 0, message: { role: 'assistant', content: 'from b' }, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 } };

for (const [name, broken] of [['html', '<html>502 oops</html>'], ['truncated', '{"id":"x","choices":[tru']] as const) {
  test(`a 200 application/json answer that is ${name} fails over to the other upstream and counts as a failure`, async (t) => {
    const { a, b, proxy, events } = await startPair(t, {
      models: { 'a.m': { provider: 'a', capabilities: ['chat-completion'] }, 'b.m': { provider: 'b', capabilities: ['chat-completion'] } },
      pools: { chat: { models: ['a.m', 'b.m'], strategy: 'stick-until-failure', retry: { max_attempts: 1 } } },
    });
    a.handle(json(200, broken));
    b.handle(json(200, CHAT));
    const reply = await postJson(`${proxy.url}/v1/chat/completions`, { model: 'chat', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(reply.status, 200);
    assert.equal(reply.json.id, 'chatcmpl-b');
    assert.equal(reply.headers['x-modelmesh-model'], 'b.m');
    assert.equal(a.requests.length, 1);
    const routed = events.filter((e) => e.type === 'request');
    assert.deepEqual(routed.flatMap((e) => e.type === 'request' ? e.attempts.map((x) => [x.model, x.outcome, x.status]) : []), [['a.m', 'failure', 0], ['b.m', 'success', 200]]);
    assert.equal(proxy.mesh.state.model('a.m').consecutive_failures, 1, 'the failure counts against a.m');
  });
}

test('a broken 200 on a text transcription format is not judged as JSON', async (t) => {
  const { a, proxy } = await startPair(t, {
    models: { 'a.w': { provider: 'a', capabilities: ['speech-to-text'] } },
  });
  a.handle(text(200, '1\n00:00:00,000 --> 00:00:01,000\nhi\n', 'text/plain'));
  const boundary = 'b0undary';
  const part = (name: string, value: string): string => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  const body = part('model', 'a.w') + part('response_format', 'srt') +
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\nContent-Type: audio/wav\r\n\r\nRIFF\r\n--${boundary}--\r\n`;
  const { request } = await import('../helpers/proxy.ts');
  const reply = await request(`${proxy.url}/v1/audio/transcriptions`, { method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, body });
  assert.equal(reply.status, 200);
  assert.match(reply.body, /00:00:01,000/);
});

test('anthropic: a broken 200 answer is an upstream failure, the client gets an OpenAI-shaped 502', async (t) => {
  const up = await startFakeUpstream();
  t.after(() => up.close());
  const proxy = await startProxy({
    providers: { anthropic: { connector: 'anthropic.claude.v1', base_url: up.url, api_key: 'k' } },
    models: { 'anthropic.claude': { provider: 'anthropic', name: 'claude', capabilities: ['chat-completion'] } },
    pools: { chat: { models: ['anthropic.claude'], retry: { max_attempts: 1 }, deactivation: { retry_limit: 10 } } },
  });
  t.after(() => proxy.close());
  for (const body of ['<html>502 oops</html>', '{"id":"msg_1","content":[{"type":"te', '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}']) {
    up.handle(json(200, body));
    const reply = await postJson(`${proxy.url}/v1/chat/completions`, { model: 'chat', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(reply.status, 502, body);
    assert.equal(reply.json.error.code, 'upstream_error');
  }
});

// Issue 16: a small answer's usage comes from the check's parse, the same as the scan; unparsed ones are scanned.
test('parsedUsageOf: the top-level usage of a parsed answer, the same as scanUsage', () => {
  const body = Buffer.from('{"id":"c","choices":[{"message":{"content":"\\"usage\\": {}"}}],"usage":{"prompt_tokens":3,"completion_tokens":5}}');
  assert.equal(parsedUsageOf(body), undefined); // not checked yet
  assert.equal(jsonObjectProblem(body), null);
  assert.deepEqual(parsedUsageOf(body), scanUsage(body));
  assert.deepEqual(bodyUsage(body), { prompt_tokens: 3, completion_tokens: 5 });
});

test('parsedUsageOf: nothing for answers without usage, invalid ones and big ones (those are scanned)', () => {
  const none = Buffer.from('{"id":"c","usage":null}');
  assert.equal(jsonObjectProblem(none), null);
  assert.equal(parsedUsageOf(none), undefined);
  assert.equal(bodyUsage(none), null);
  const invalid = Buffer.from('{"usage":{"prompt_tokens":1},}');
  assert.equal(jsonObjectProblem(invalid), 'invalid JSON');
  assert.equal(parsedUsageOf(invalid), undefined);
  const big = Buffer.from(`{"data":"${'x'.repeat(FULL_PARSE_MAX)}","usage":{"prompt_tokens":7}}`);
  assert.equal(jsonObjectProblem(big), null);
  assert.equal(parsedUsageOf(big), undefined);
  assert.deepEqual(bodyUsage(big), { prompt_tokens: 7, completion_tokens: 0 });
});

test('jsonObjectProblem reads the top-level usage object only, the last one as JSON.parse does; deep nesting falls back to JSON.parse', () => {
  const body = Buffer.from('{"usage":{"prompt_tokens":1},"choices":[{"usage":{"x":9}}],"usage" : {"prompt_tokens":7,"details":{"a":[1]}} }');
  assert.equal(jsonObjectProblem(body), null);
  assert.deepEqual(parsedUsageOf(body), { prompt_tokens: 7, details: { a: [1] } });
  const noUsage = Buffer.from('{"usage":null,"choices":[]}');
  assert.equal(jsonObjectProblem(noUsage), null);
  assert.equal(parsedUsageOf(noUsage), undefined);
  const deep = Buffer.from(`{"a":${'['.repeat(600)}${']'.repeat(600)},"usage":{"total_tokens":3}}`);
  assert.equal(jsonObjectProblem(deep), null);
  assert.deepEqual(parsedUsageOf(deep), { total_tokens: 3 });
  assert.equal(jsonObjectProblem(Buffer.from(`{"a":${'['.repeat(600)}${']'.repeat(599)}}`)), 'invalid JSON');
});
