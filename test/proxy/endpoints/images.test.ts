// POST /v1/images/generations through the router against scripted fake upstreams (wire §6): the body passes
// through with `model` swapped, the answer comes back as received, usage is read without parsing the images.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closedPort, json, sse, type FakeUpstream } from '../../helpers/fake-upstream.ts';
import { errorOf, postJson, type StartedProxy } from '../../helpers/proxy.ts';
import type { RequestEvent } from '../../../src/mesh/events.ts';
import { bodyUsage, scanUsage } from '../../../src/proxy/endpoints/usage-scan.ts';
import { startPair } from '../../helpers/pair.ts';

type Json = Record<string, unknown>;

const B64 = Buffer.alloc(200 * 1024, 0xab).toString('base64');
const ANSWER = {
  created: 1713833628,
  data: [{ b64_json: B64, revised_prompt: 'a cat saying "usage": {"input_tokens": 999}' }],
  usage: { total_tokens: 100, input_tokens: 50, output_tokens: 50, input_tokens_details: { text_tokens: 10, image_tokens: 40 } },
};
const ASK = { model: 'image-generation', prompt: 'a cat' };

interface Setup { a: FakeUpstream; b: FakeUpstream; proxy: StartedProxy; events: RequestEvent[] }

async function setup(t: { after: (fn: () => Promise<void>) => void }, aUrl?: string): Promise<Setup> {
  const pair = await startPair(t, {
    models: {
      'a.img-a': { provider: 'a', capabilities: ['text-to-image'], pricing: { input_per_1m: 5, output_per_1m: 40 } },
      'b.img-b': { provider: 'b', capabilities: ['text-to-image'] },
      'b.chat': { provider: 'b', capabilities: ['chat-completion'] },
    },
    pools: { 'image-generation': { models: ['a.img-a', 'b.chat', 'b.img-b'], retry: { max_attempts: 1 } } },
  }, aUrl);
  const { a, b, proxy } = pair;
  const events = pair.requests;
  a.handle(json(200, ANSWER));
  b.handle(json(200, ANSWER));
  return { a, b, proxy, events };
}

const post = (proxy: StartedProxy, body: Json) => postJson(`${proxy.url}/v1/images/generations`, body);

test('the body passes through with the upstream model name; the answer is relayed as received; usage recorded', async (t) => {
  const { a, b, proxy, events } = await setup(t);
  const raw = JSON.stringify(ANSWER);
  a.handle(json(200, raw));
  const ask = { ...ASK, n: 2, size: '1024x1024', quality: 'hd', response_format: 'b64_json', style: 'natural', user: 'u1', background: 'transparent', output_format: 'webp' };
  const reply = await post(proxy, ask);
  assert.equal(reply.status, 200);
  assert.equal(reply.body, raw);
  assert.equal(reply.headers['x-modelmesh-model'], 'a.img-a');
  assert.equal(a.requests[0]?.path, '/v1/images/generations');
  assert.deepEqual(a.requests[0]?.json, { ...ask, model: 'img-a' });
  assert.equal(b.requests.length, 0);
  assert.deepEqual([events[0]?.tokens_in, events[0]?.tokens_out], [50, 50]);
  assert.equal(events[0]?.cost, (50 * 5 + 50 * 40) / 1e6);
});

test('a failing first provider (500) rotates to the second; a refused one too', async (t) => {
  const { a, b, proxy } = await setup(t);
  a.handle(json(500, { error: { message: 'boom' } }));
  const reply = await post(proxy, ASK);
  assert.equal(reply.status, 200);
  assert.equal(reply.headers['x-modelmesh-model'], 'b.img-b');
  assert.equal(reply.headers['x-modelmesh-attempts'], '2');
  assert.deepEqual([a.requests.length, b.requests.length], [1, 1]);
  assert.equal((b.requests[0]?.json as Json)['model'], 'img-b');

  const refused = await setup(t, `http://127.0.0.1:${await closedPort()}/v1`);
  const again = await post(refused.proxy, ASK);
  assert.equal(again.status, 200);
  assert.equal(again.headers['x-modelmesh-model'], 'b.img-b');
});

test('invalid requests: 400 naming the parameter, nothing sent upstream', async (t) => {
  const { a, b, proxy } = await setup(t);
  const cases: [Json, string][] = [
    [{ model: 'image-generation' }, 'prompt'],
    [{ model: 'image-generation', prompt: 5 }, 'prompt'],
    [{ model: 'image-generation', prompt: '' }, 'prompt'],
    [{ prompt: 'a cat' }, 'model'],
    [{ ...ASK, n: 0 }, 'n'],
    [{ ...ASK, n: 11 }, 'n'],
    [{ ...ASK, n: 1.5 }, 'n'],
    [{ ...ASK, size: 1024 }, 'size'],
    [{ ...ASK, quality: true }, 'quality'],
    [{ ...ASK, style: 1 }, 'style'],
    [{ ...ASK, user: {} }, 'user'],
    [{ ...ASK, response_format: 'png' }, 'response_format'],
    [{ ...ASK, stream: 'yes' }, 'stream'],
  ];
  for (const [body, param] of cases) {
    const reply = await post(proxy, body);
    assert.equal(reply.status, 400, JSON.stringify(body));
    assert.equal(errorOf(reply).param, param, JSON.stringify(body));
  }
  assert.equal(a.requests.length + b.requests.length, 0);
});

test('stream: true relays the image_generation events; usage from image_generation.completed', async (t) => {
  const { a, proxy, events } = await setup(t);
  const stream = [
    { type: 'image_generation.partial_image', b64_json: 'AAAA', partial_image_index: 0 },
    { type: 'image_generation.completed', b64_json: 'BBBB', usage: { input_tokens: 7, output_tokens: 300, total_tokens: 307 } },
  ];
  a.handle(sse(stream, { done: false }));
  const reply = await post(proxy, { ...ASK, stream: true, partial_images: 1 });
  assert.equal(reply.status, 200);
  assert.equal(reply.body, stream.map((e) => `data: ${JSON.stringify(e)}\n\n`).join(''));
  assert.deepEqual([events[0]?.outcome, events[0]?.tokens_in, events[0]?.tokens_out], ['success', 7, 300]);
});

test('usage is found without a full parse, wherever it is and whatever the strings hold', () => {
  const usage = { input_tokens: 3, output_tokens: 4 };
  assert.deepEqual(scanUsage(Buffer.from(JSON.stringify(ANSWER))), ANSWER.usage);
  assert.deepEqual(scanUsage(Buffer.from(JSON.stringify({ usage, data: [{ revised_prompt: 'say "usage"' }] }))), usage);
  assert.deepEqual(scanUsage(Buffer.from('{"data":[],\n  "usage" :\n {"prompt_tokens": 2, "note": "a } brace"}}')), { prompt_tokens: 2, note: 'a } brace' });
  assert.equal(scanUsage(Buffer.from('{"data":[],"usage":null}')), undefined);
  assert.equal(scanUsage(Buffer.from('{"data":[]}')), undefined);
  assert.equal(scanUsage(Buffer.from('not json "usage" at all')), undefined);
  assert.deepEqual(bodyUsage(Buffer.from('{"usage":{"type":"duration","seconds":8.2}}')), { prompt_tokens: 9, completion_tokens: 0 });
  assert.deepEqual(bodyUsage(Buffer.from('{"usage":{"prompt_tokens":8,"total_tokens":8}}')), { prompt_tokens: 8, completion_tokens: 0 });
});
