// Stored responses belong to the client that created them (clients: keys, issue 12): GET, DELETE and
// previous_response_id from another client, or from an anonymous proxy.auth token, answer exactly as for an id
// never stored, change nothing and reach no upstream. Anonymous responses are the anonymous callers' only.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { keyDigest } from '../../../src/config/schema/clients.ts';
import { json, sse, startFakeUpstream, type FakeUpstream } from '../../helpers/fake-upstream.ts';
import { errorOf, postJson, request, startProxy, type Reply } from '../../helpers/proxy.ts';
import { parseSse } from '../../helpers/sse-events.ts';

const KEYS = { alice: 'mm-alice-0123456789abcdefghijklmnop', bob: 'mm-bob-0123456789abcdefghijklmnopqr' };
const ANON = 'sk-anonymous-proxy-token-0123';

const completion = (content: string): object => ({
  id: 'c0', object: 'chat.completion', created: 1, model: 'up', choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
});

async function setup(t: TestContext): Promise<{ up: FakeUpstream; as: (key: string) => Caller }> {
  const up = await startFakeUpstream();
  const proxy = await startProxy({
    proxy: { auth: { enabled: true, tokens: [ANON] } },
    providers: { a: { connector: 'vllm.local.v1', base_url: up.url, api_key: 'key-a' } },
    models: { 'a.ma': { provider: 'a', capabilities: ['chat-completion'] } },
    clients: { alice: { key_sha256: keyDigest(KEYS.alice) }, bob: { key_sha256: keyDigest(KEYS.bob) } },
  });
  t.after(async () => {
    await proxy.close();
    await up.close();
  });
  const as = (key: string): Caller => {
    const headers = { authorization: `Bearer ${key}` };
    return {
      create: (body) => postJson(`${proxy.url}/v1/responses`, { model: 'a.ma', ...body }, headers),
      get: (id) => request(`${proxy.url}/v1/responses/${id}`, { headers }),
      delete: (id) => request(`${proxy.url}/v1/responses/${id}`, { method: 'DELETE', headers }),
    };
  };
  return { up, as };
}

interface Caller {
  create(body: Record<string, unknown>): Promise<Reply>;
  get(id: string): Promise<Reply>;
  delete(id: string): Promise<Reply>;
}

/** What a caller gets for `id` where it is not theirs: the answer for an id never stored, with that id in it. */
async function assertUnknownTo(caller: Caller, id: string): Promise<void> {
  const never = 'resp_0000never0stored';
  const swap = (reply: Reply): unknown => ({ status: reply.status, retry: reply.headers['x-should-retry'], error: { ...errorOf(reply), message: errorOf(reply).message.replace(id, never) } });
  const unknownGet = await caller.get(never);
  assert.equal(unknownGet.status, 404);
  assert.deepEqual(errorOf(unknownGet), { message: `Response with id '${never}' not found.`, type: 'invalid_request_error', param: null, code: 'not_found' });
  assert.deepEqual(swap(await caller.get(id)), swap(unknownGet), 'GET');
  assert.deepEqual(swap(await caller.delete(id)), swap(await caller.delete(never)), 'DELETE');
  const unknownPrev = await caller.create({ previous_response_id: never, input: 'more' });
  assert.equal(errorOf(unknownPrev).code, 'previous_response_not_found');
  assert.deepEqual(swap(await caller.create({ previous_response_id: id, input: 'more' })), swap(unknownPrev), 'previous_response_id');
}

test("another client's stored response is unknown to a client and to an anonymous caller, and stays intact", async (t) => {
  const { up, as } = await setup(t);
  const [alice, bob, anon] = [as(KEYS.alice), as(KEYS.bob), as(ANON)];
  up.handle(json(200, completion('Paris.')));
  const first = await alice.create({ input: 'Capital of France?' });
  assert.equal(first.status, 200);
  const id = first.json.id as string;

  await assertUnknownTo(bob, id);
  await assertUnknownTo(anon, id);
  assert.equal(up.requests.length, 1, 'no refused continuation reached the upstream');

  // Nothing the others tried changed it: Alice reads and continues her conversation, then deletes it.
  const got = await alice.get(id);
  assert.equal(got.status, 200);
  assert.deepEqual(got.json, first.json);
  const next = await alice.create({ previous_response_id: id, input: 'And Italy?' });
  assert.equal(next.status, 200);
  assert.deepEqual((up.requests[1]?.json as Record<string, unknown>)['messages'], [
    { role: 'user', content: 'Capital of France?' }, { role: 'assistant', content: 'Paris.' }, { role: 'user', content: 'And Italy?' },
  ]);
  assert.deepEqual((await alice.delete(id)).json, { id, object: 'response', deleted: true });
  assert.equal((await alice.get(id)).status, 404);
});

test('a response created anonymously (streamed) is visible only to anonymous callers', async (t) => {
  const { up, as } = await setup(t);
  const [alice, anon] = [as(KEYS.alice), as(ANON)];
  const chunk = (delta: object, finish: string | null = null): object => ({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'up', choices: [{ index: 0, delta, finish_reason: finish }] });
  up.handle(sse([chunk({ role: 'assistant', content: 'Hi.' }), chunk({}, 'stop')]));
  const streamed = await anon.create({ input: 'Hello', stream: true });
  const id = parseSse(streamed.body).at(-1)?.data.response.id as string;
  assert.match(id, /^resp_/);

  await assertUnknownTo(alice, id);
  assert.equal(up.requests.length, 1);
  const got = await anon.get(id);
  assert.equal(got.status, 200);
  assert.equal(got.json.output[0].content[0].text, 'Hi.');
  assert.equal((await anon.delete(id)).status, 200);
});
