// POST /v1/moderations through the router against scripted fake upstreams: pass-through with only `model`
// swapped, the default model name, failover, eligibility reasons, 400s before anything is sent, and the
// simulated provider's answer (flags nothing but the documented test keyword).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { json, startFakeUpstream, type FakeUpstream } from '../../helpers/fake-upstream.ts';
import { errorOf, postJson, simulatedConfig, startProxy, type StartedProxy } from '../../helpers/proxy.ts';
import { MODERATION_CATEGORIES } from '../../../src/providers/simulated/legacy.ts';
import { startPair } from '../../helpers/pair.ts';

type Json = Record<string, unknown>;

const RESULT = {
  flagged: false,
  categories: { harassment: false, violence: false },
  category_scores: { harassment: 0.0001, violence: 0.0002 },
};
const ANSWER = { id: 'modr-1', model: 'omni-moderation-2024-09-26', results: [RESULT] };
const ASK = { model: 'moderation', input: 'I want to hug you' };

interface Setup { a: FakeUpstream; b: FakeUpstream; proxy: StartedProxy }

async function setup(t: { after: (fn: () => Promise<void>) => void }): Promise<Setup> {
  const pair = await startPair(t, {
    models: {
      'a.mod-a': { provider: 'a', capabilities: ['content-moderation'] },
      'b.chat': { provider: 'b', capabilities: ['chat-completion'] },
      'b.mod-b': { provider: 'b', capabilities: ['content-moderation'] },
    },
    pools: { moderation: { models: ['a.mod-a', 'b.chat', 'b.mod-b'], aliases: ['omni-moderation-latest'], retry: { max_attempts: 1 } } },
  });
  pair.a.handle(json(200, ANSWER));
  pair.b.handle(json(200, ANSWER));
  return { a: pair.a, b: pair.b, proxy: pair.proxy };
}

const post = (proxy: StartedProxy, body: unknown) => postJson(`${proxy.url}/v1/moderations`, body);

test('the body passes through untouched but for model, for every input shape; the answer is relayed as received', async (t) => {
  const { a, b, proxy } = await setup(t);
  const inputs: unknown[] = [
    'text',
    ['one', 'two'],
    [{ type: 'text', text: 'look' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }],
  ];
  for (const input of inputs) {
    const reply = await post(proxy, { ...ASK, input, extra: true });
    assert.equal(reply.status, 200, reply.body);
    assert.equal(reply.body, JSON.stringify(ANSWER));
    assert.equal(reply.headers['x-modelmesh-model'], 'a.mod-a');
    assert.equal(a.requests.at(-1)?.path, '/v1/moderations');
    assert.deepEqual(a.requests.at(-1)?.json, { ...ASK, input, extra: true, model: 'mod-a' });
  }
  assert.equal(b.requests.length, 0);
});

test('without model the request is routed as omni-moderation-latest (the real API default)', async (t) => {
  const { a, proxy } = await setup(t);
  const reply = await post(proxy, { input: 'hello' });
  assert.equal(reply.status, 200, reply.body);
  assert.deepEqual(a.requests[0]?.json, { input: 'hello', model: 'mod-a' });
});

test('a failing first provider (500) fails over to the second; a broken 2xx JSON answer too', async (t) => {
  const { a, b, proxy } = await setup(t);
  a.handle(json(500, { error: { message: 'boom' } }));
  const reply = await post(proxy, ASK);
  assert.equal(reply.status, 200);
  assert.equal(reply.headers['x-modelmesh-model'], 'b.mod-b');
  assert.deepEqual([a.requests.length, b.requests.length], [1, 1]);
  assert.equal((b.requests[0]?.json as Json)['model'], 'mod-b');
  a.handle(json(200, '{"id":"modr-1","results":['));
  const cut = await post(proxy, ASK);
  assert.equal(cut.status, 200);
  assert.equal(cut.headers['x-modelmesh-model'], 'b.mod-b');
});

test('not eligible: models without content-moderation and an Anthropic model, each with its reason', async (t) => {
  const up = await startFakeUpstream();
  t.after(() => up.close());
  const proxy = await startProxy({
    providers: {
      a: { connector: 'openai.llm.v1', base_url: up.url, api_key: 'k' },
      anthropic: { connector: 'anthropic.claude.v1', base_url: up.url, api_key: 'k' },
    },
    models: {
      'a.chat': { provider: 'a', capabilities: ['chat-completion'] },
      'anthropic.claude': { provider: 'anthropic', capabilities: ['chat-completion', 'content-moderation'] },
    },
    pools: { safety: { models: ['a.chat', 'anthropic.claude'] } },
  });
  t.after(() => proxy.close());
  const reply = await post(proxy, { model: 'safety', input: 'x' });
  assert.equal(reply.status, 400, reply.body);
  const err = errorOf(reply);
  assert.match(err.message, /a\.chat: does not serve moderations/);
  assert.match(err.message, /anthropic\.claude: its connector anthropic\.claude\.v1 does not serve moderations/);
  assert.equal(up.requests.length, 0);
});

test('invalid requests: 400 naming the parameter, nothing sent upstream', async (t) => {
  const { a, b, proxy } = await setup(t);
  const cases: [unknown, string][] = [
    [{ model: 'moderation' }, 'input'],
    [{ model: 'moderation', input: 5 }, 'input'],
    [{ model: 'moderation', input: [] }, 'input'],
    [{ model: 5, input: 'x' }, 'model'],
    [{ model: 'moderation', input: ['a', { type: 'text', text: 'b' }] }, 'input[0]'],
    [{ model: 'moderation', input: [{ type: 'image_url', image_url: {} }] }, 'input[0]'],
    [{ model: 'moderation', input: [{ type: 'text', text: 'ok' }, { type: 'audio' }] }, 'input[1]'],
  ];
  for (const [body, param] of cases) {
    const reply = await post(proxy, body);
    assert.equal(reply.status, 400, JSON.stringify(body));
    assert.equal(errorOf(reply).param, param, JSON.stringify(body));
  }
  assert.equal(a.requests.length + b.requests.length, 0);
});

test('simulated: nothing flagged but the test keyword; one result per string; deterministic', async (t) => {
  const proxy = await startProxy(simulatedConfig({
    models: { 'sim.mod': { provider: 'sim', capabilities: ['content-moderation'] } },
  }));
  t.after(() => proxy.close());
  const reply = await post(proxy, { model: 'sim.mod', input: ['a kind word', 'modelmesh-flag', 'see modelmesh-flag:self-harm/intent here'] });
  assert.equal(reply.status, 200, reply.body);
  assert.match(reply.json.id, /^modr-[0-9a-f]{24}$/);
  assert.equal(reply.json.model, 'mod');
  const results = reply.json.results as Json[];
  assert.deepEqual(results.map((r) => r['flagged']), [false, true, true]);
  for (const r of results) {
    assert.deepEqual(Object.keys(r['categories'] as Json), [...MODERATION_CATEGORIES]);
    assert.deepEqual(Object.keys(r['category_scores'] as Json), [...MODERATION_CATEGORIES]);
  }
  const flagged = (r: Json | undefined): string[] => Object.entries(r?.['categories'] as Json).filter(([, v]) => v === true).map(([k]) => k);
  assert.deepEqual(flagged(results[0]), []);
  assert.deepEqual(flagged(results[1]), ['violence']);
  assert.deepEqual(flagged(results[2]), ['self-harm/intent']);
  assert.ok(Object.values(results[0]?.['category_scores'] as Json).every((s) => typeof s === 'number' && s < 0.01));

  const again = await post(proxy, { model: 'sim.mod', input: ['a kind word'] });
  assert.deepEqual(again.json.results[0], results[0]);
  const parts = await post(proxy, { model: 'sim.mod', input: [{ type: 'text', text: 'a' }, { type: 'image_url', image_url: { url: 'https://x/y.png' } }] });
  assert.equal(parts.json.results.length, 1);
  assert.deepEqual(parts.json.results[0].category_applied_input_types.violence, ['text', 'image']);
  assert.deepEqual(parts.json.results[0].category_applied_input_types.hate, ['text']);
});
