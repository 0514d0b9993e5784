// POST /v1/messages/count_tokens checks its body and model as /v1/messages does, in Anthropic's error shape,
// before it estimates anything: a missing or wrongly typed `model` or a malformed `messages` is a 400
// invalid_request_error, an unknown model or one outside the client's `pools:` allow-list the 404
// not_found_error /v1/messages gives for it. No upstream is ever called.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keyDigest } from '../../../src/config/schema/clients.ts';
import { json, startFakeUpstream, type FakeUpstream } from '../../helpers/fake-upstream.ts';
import { postJson, startProxy, type Reply, type StartedProxy } from '../../helpers/proxy.ts';

const NARROW = 'mm-narrow-0123456789abcdefghijklmn';
const WIDE = 'mm-wide-0123456789abcdefghijklmnop';
const MESSAGES = [{ role: 'user', content: 'Hello world, how are you?' }];

async function setup(t: { after: (fn: () => Promise<void>) => void }): Promise<{ up: FakeUpstream; proxy: StartedProxy }> {
  const up = await startFakeUpstream();
  up.handle(json(500, { type: 'error', error: { type: 'api_error', message: 'no upstream call expected' } }));
  const proxy = await startProxy({
    providers: { a: { connector: 'anthropic.claude.v1', base_url: up.url, api_key: 'key-a' } },
    models: { 'a.ma': { provider: 'a', capabilities: ['chat-completion'] }, 'a.mb': { provider: 'a', name: 'mb', capabilities: ['chat-completion'] } },
    pools: { p: { models: ['a.ma'] }, q: { models: ['a.mb'] } },
    clients: { narrow: { key_sha256: keyDigest(NARROW), pools: ['q'] }, wide: { key_sha256: keyDigest(WIDE) } },
  });
  t.after(async () => {
    await proxy.close();
    await up.close();
  });
  return { up, proxy };
}

/** An Anthropic error answer: `{type:"error", error:{type, message}, request_id}`, nothing else. */
function anthropicError(reply: Reply, status: number, type: string): string {
  assert.equal(reply.status, status, reply.body);
  assert.deepEqual(Object.keys(reply.json).sort(), ['error', 'request_id', 'type'], reply.body);
  assert.equal(reply.json.type, 'error');
  assert.deepEqual(Object.keys(reply.json.error).sort(), ['message', 'type'], reply.body);
  assert.equal(reply.json.error.type, type, reply.body);
  return reply.json.error.message as string;
}

test('count_tokens: missing or invalid model and malformed messages are 400 invalid_request_error, as on /v1/messages', async (t) => {
  const { up, proxy } = await setup(t);
  const count = (body: unknown): Promise<Reply> => postJson(`${proxy.url}/v1/messages/count_tokens`, body, { 'x-api-key': WIDE });
  const cases: [unknown, string][] = [
    [{ messages: MESSAGES }, 'model: Field required'],
    [{ model: 5, messages: MESSAGES }, 'model: Input should be a valid string'],
    [{ model: '', messages: MESSAGES }, 'model: Input should be a valid string'],
    [{ model: 'p', messages: ['hi'] }, 'messages.0: Input should be a valid dictionary'],
    [{ model: 'p', messages: [{ content: 'hi' }] }, 'messages.0.role: Field required'],
    [{ model: 'p', messages: [{ role: 'bot', content: 'hi' }] }, "messages.0.role: Input should be 'user', 'assistant' or 'system'"],
    [{ model: 'p', messages: [{ role: 'user' }] }, 'messages.0.content: Field required'],
    [{ model: 'p', messages: [{ role: 'user', content: 7 }] }, 'messages.0.content: Input should be a valid string or list'],
    [{ model: 'p', messages: [{ role: 'user', content: [{ text: 'hi' }] }] }, 'messages.0.content.0.type: Field required'],
    [{ model: 'p', messages: MESSAGES, system: 7 }, 'system: Input should be a valid string or list'],
  ];
  for (const [body, message] of cases) {
    assert.equal(anthropicError(await count(body), 400, 'invalid_request_error'), message, JSON.stringify(body));
  }
  // The same wording /v1/messages uses for the same mistakes.
  const messagesRoute = await postJson(`${proxy.url}/v1/messages`, { max_tokens: 5, messages: MESSAGES }, { 'x-api-key': WIDE });
  assert.equal(anthropicError(messagesRoute, 400, 'invalid_request_error'), 'model: Field required');
  assert.equal(up.requests.length, 0);
});

test('count_tokens: an unknown model and one outside the client\'s allow-list get the 404 /v1/messages gives', async (t) => {
  const { up, proxy } = await setup(t);
  const both = async (model: string, key: string): Promise<[string, string]> => {
    const counted = await postJson(`${proxy.url}/v1/messages/count_tokens`, { model, messages: MESSAGES }, { 'x-api-key': key });
    const created = await postJson(`${proxy.url}/v1/messages`, { model, max_tokens: 5, messages: MESSAGES }, { 'x-api-key': key });
    return [anthropicError(counted, 404, 'not_found_error'), anthropicError(created, 404, 'not_found_error')];
  };
  const [unknown, unknownOnMessages] = await both('nope', WIDE);
  assert.match(unknown, /`nope` does not exist/);
  assert.equal(unknown, unknownOnMessages);
  for (const model of ['p', 'a.ma', 'ma', 'nope']) {
    const [counted, created] = await both(model, NARROW);
    assert.equal(counted, `The model \`${model}\` does not exist or you do not have access to it.`);
    assert.equal(counted, created);
  }
  assert.equal(up.requests.length, 0);
  // What the client may use is counted: its pool; for a client without an allow-list, any pool or model.
  for (const [model, key] of [['q', NARROW], ['p', WIDE], ['a.ma', WIDE]] as const) {
    const ok = await postJson(`${proxy.url}/v1/messages/count_tokens`, { model, messages: MESSAGES }, { 'x-api-key': key });
    assert.equal(ok.status, 200, `${model}: ${ok.body}`);
    assert.deepEqual(ok.json, { input_tokens: 7 });
  }
  assert.equal(up.requests.length, 0);
});
