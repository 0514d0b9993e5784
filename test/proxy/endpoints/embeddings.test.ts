// POST /v1/embeddings through the router against scripted fake upstreams (wire §3): what the client received
// (decoded as the SDKs decode it) AND what each upstream saw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closedPort, json, type FakeUpstream } from '../../helpers/fake-upstream.ts';
import { errorOf, postJson, type StartedProxy } from '../../helpers/proxy.ts';
import type { MeshEvent } from '../../../src/mesh/events.ts';
import { startPair } from '../../helpers/pair.ts';

type Json = Record<string, unknown>;

// Not float32-exact on purpose: the proxy must round them to float32 the way the upstream's own base64 would.
const VEC_A = [0.0023064255, -0.009327292, 0.1, -1e-7, 3.4e38, 0, -0.5, 0.33333334];
const VEC_B = [1.5, -2.25, 0.015625, 123.456];
const ANSWER = {
  object: 'list',
  data: [{ object: 'embedding', index: 0, embedding: VEC_A }, { object: 'embedding', index: 1, embedding: VEC_B }],
  model: 'up-embed',
  usage: { prompt_tokens: 8, total_tokens: 8 },
};

/** What openai-node does with a base64 embedding (src/internal/utils/base64.ts toFloat32Array): LE float32. */
function sdkDecode(b64: string): number[] {
  const buf = Buffer.from(b64, 'base64');
  return Array.from(new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / Float32Array.BYTES_PER_ELEMENT));
}

function base64Of(values: number[]): string {
  const buf = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => buf.writeFloatLE(v, i * 4));
  return buf.toString('base64');
}

interface Setup { a: FakeUpstream; b: FakeUpstream; proxy: StartedProxy; events: MeshEvent[] }

/** Providers a and b (one embeddings model each) in pool `embeddings`, plus a chat model in it that never qualifies. */
async function setup(t: { after: (fn: () => Promise<void>) => void }, aUrl?: string): Promise<Setup> {
  const pair = await startPair(t, {
    models: {
      'a.chat-model': { provider: 'a', capabilities: ['chat-completion'] },
      'a.embed-a': { provider: 'a', capabilities: ['text-embeddings'], pricing: { input_per_1m: 1, output_per_1m: 0 } },
      'b.embed-b': { provider: 'b', capabilities: ['text-embeddings'] },
    },
    pools: { embeddings: { models: ['a.chat-model', 'a.embed-a', 'b.embed-b'], retry: { max_attempts: 1 } } },
  }, aUrl);
  const { a, b, proxy } = pair;
  const events = pair.events;
  a.handle(json(200, ANSWER));
  b.handle(json(200, ANSWER));
  return { a, b, proxy, events };
}

const post = (proxy: StartedProxy, body: Json) => postJson(`${proxy.url}/v1/embeddings`, body);

test('a malformed vector is a failed attempt of that model, before the commit: the next model answers; with none left, a 502, never a 200 of NaNs', async (t) => {
  const { a, b, proxy, events } = await setup(t);
  const answer = (embedding: unknown) => ({ object: 'list', data: [{ object: 'embedding', index: 0, embedding }], model: 'm', usage: { prompt_tokens: 1, total_tokens: 1 } });
  const requests = (): Extract<MeshEvent, { type: 'request' }>[] => events.filter((e): e is Extract<MeshEvent, { type: 'request' }> => e.type === 'request');
  a.handle(json(200, answer([0.5, 'x', null, {}])));
  const rotated = await post(proxy, { model: 'embeddings', input: 'one', encoding_format: 'base64' });
  assert.equal(rotated.status, 200, rotated.body);
  assert.equal(rotated.headers['x-modelmesh-model'], 'b.embed-b', 'failed over to the next model');
  assert.equal(rotated.json.data[0].embedding, base64Of(VEC_A));
  assert.deepEqual(requests()[0]?.attempts.map((x) => [x.model, x.outcome]), [['a.embed-a', 'failure'], ['b.embed-b', 'success']]);
  assert.match(String(requests()[0]?.attempts[0]?.reason), /not a valid embeddings answer: an embedding element is not a number/);

  a.handle(json(200, answer('AAA')));
  b.handle(json(200, answer('AAAA')));
  const none = await post(proxy, { model: 'embeddings', input: 'one' });
  assert.equal(none.status, 502, none.body);
  assert.match(none.body, /a base64 embedding is not whole float32 values/);
  assert.deepEqual(requests()[1]?.attempts.map((x) => x.outcome), ['failure', 'failure']);
  assert.equal(requests()[1]?.outcome, 'failure');
});

test('base64 asked, upstream asked for floats: the SDK decode yields exactly the upstream floats as float32', async (t) => {
  const { a, b, proxy, events } = await setup(t);
  const reply = await post(proxy, { model: 'embeddings', input: ['one', 'two'], encoding_format: 'base64', dimensions: 8, user: 'u-1', extra_field: { keep: [1] } });
  assert.equal(reply.status, 200);
  assert.equal(reply.headers['x-modelmesh-model'], 'a.embed-a');
  const data = reply.json.data as { object: string; index: number; embedding: unknown }[];
  assert.equal(data.length, 2);
  assert.equal(typeof data[0]?.embedding, 'string');
  assert.deepEqual(sdkDecode(data[0]?.embedding as string), VEC_A.map(Math.fround));
  assert.deepEqual(sdkDecode(data[1]?.embedding as string), VEC_B.map(Math.fround));
  assert.equal(data[0]?.embedding, base64Of(VEC_A)); // byte-exact LE float32
  assert.deepEqual(data.map((d) => [d.object, d.index]), [['embedding', 0], ['embedding', 1]]);
  assert.equal(reply.json.model, 'up-embed');
  assert.deepEqual(reply.json.usage, ANSWER.usage);
  assert.equal(reply.headers['content-length'], String(Buffer.byteLength(reply.body)));
  // The upstream saw the client's body with floats asked for, the upstream model name, the rest intact.
  assert.equal(a.requests.length, 1);
  assert.equal(b.requests.length, 0);
  assert.equal(a.requests[0]?.path, '/v1/embeddings');
  assert.deepEqual(a.requests[0]?.json, { model: 'embed-a', input: ['one', 'two'], encoding_format: 'float', dimensions: 8, user: 'u-1', extra_field: { keep: [1] } });
  const done = events.find((e) => e.type === 'request');
  assert.ok(done !== undefined && done.type === 'request');
  assert.equal(done.tokens_in, 8);
  assert.equal(done.cost, 8 / 1e6);
});

test('float asked: the upstream answer is relayed byte for byte', async (t) => {
  const { a, proxy } = await setup(t);
  const raw = JSON.stringify(ANSWER);
  a.handle(json(200, raw));
  const reply = await post(proxy, { model: 'embeddings', input: 'hello', encoding_format: 'float' });
  assert.equal(reply.status, 200);
  assert.equal(reply.body, raw);
  assert.equal((a.requests[0]?.json as Json)['encoding_format'], 'float');
});

test('no encoding_format: nothing is added upstream and floats come back', async (t) => {
  const { a, proxy } = await setup(t);
  const reply = await post(proxy, { model: 'embeddings', input: [[1, 2, 3], [4, 5]] });
  assert.equal(reply.status, 200);
  assert.deepEqual(reply.json.data[0].embedding, VEC_A);
  assert.deepEqual(a.requests[0]?.json, { model: 'embed-a', input: [[1, 2, 3], [4, 5]] });
});

test('upstream answering base64 when floats were asked: decoded to floats for the client', async (t) => {
  const { a, proxy } = await setup(t);
  a.handle(json(200, { ...ANSWER, data: [{ object: 'embedding', index: 0, embedding: base64Of(VEC_B) }] }));
  const reply = await post(proxy, { model: 'embeddings', input: 'x', encoding_format: 'float' });
  assert.equal(reply.status, 200);
  assert.deepEqual(reply.json.data[0].embedding, VEC_B.map(Math.fround));
});

test('upstream answering base64 anyway when the client wants base64: relayed untouched', async (t) => {
  const { a, proxy } = await setup(t);
  const raw = JSON.stringify({ ...ANSWER, data: [{ object: 'embedding', index: 0, embedding: base64Of(VEC_A) }] });
  a.handle(json(200, raw));
  const reply = await post(proxy, { model: 'embeddings', input: 'x', encoding_format: 'base64' });
  assert.equal(reply.body, raw);
});

test('a failing first provider (500) rotates to the second; each upstream saw its own model name', async (t) => {
  const { a, b, proxy } = await setup(t);
  a.handle(json(500, { error: { message: 'boom' } }));
  const reply = await post(proxy, { model: 'embeddings', input: 'hello', encoding_format: 'base64' });
  assert.equal(reply.status, 200);
  assert.equal(reply.headers['x-modelmesh-model'], 'b.embed-b');
  assert.equal(reply.headers['x-modelmesh-attempts'], '2');
  assert.equal(a.requests.length, 1);
  assert.equal(b.requests.length, 1);
  assert.equal((a.requests[0]?.json as Json)['model'], 'embed-a');
  assert.equal((b.requests[0]?.json as Json)['model'], 'embed-b');
  assert.deepEqual(sdkDecode(reply.json.data[0].embedding), VEC_A.map(Math.fround));
});

test('a refused first provider rotates to the second', async (t) => {
  const { b, proxy } = await setup(t, `http://127.0.0.1:${await closedPort()}/v1`);
  const reply = await post(proxy, { model: 'embeddings', input: 'hello' });
  assert.equal(reply.status, 200);
  assert.equal(reply.headers['x-modelmesh-model'], 'b.embed-b');
  assert.equal(b.requests.length, 1);
});

test('only embeddings models are eligible: a chat pool name is refused with the reason', async (t) => {
  const { a, b, proxy } = await setup(t);
  const reply = await post(proxy, { model: 'a.chat-model', input: 'hello' });
  assert.equal(reply.status, 400);
  assert.match(errorOf(reply).message, /does not serve embeddings/);
  assert.equal(a.requests.length + b.requests.length, 0);
});

test('invalid requests: 400 naming the parameter, nothing sent upstream', async (t) => {
  const { a, b, proxy } = await setup(t);
  const cases: [Json, string][] = [
    [{ input: 'x' }, 'model'],
    [{ model: 'embeddings' }, 'input'],
    [{ model: 'embeddings', input: '' }, 'input'],
    [{ model: 'embeddings', input: [] }, 'input'],
    [{ model: 'embeddings', input: ['a', ''] }, 'input'],
    [{ model: 'embeddings', input: ['a', 1] }, 'input'],
    [{ model: 'embeddings', input: [1, 2.5] }, 'input'],
    [{ model: 'embeddings', input: [1, -1] }, 'input'],
    [{ model: 'embeddings', input: [[1], []] }, 'input'],
    [{ model: 'embeddings', input: [[1], 'a'] }, 'input'],
    [{ model: 'embeddings', input: { text: 'a' } }, 'input'],
    [{ model: 'embeddings', input: 42 }, 'input'],
    [{ model: 'embeddings', input: Array.from({ length: 2049 }, () => 'a') }, 'input'],
    [{ model: 'embeddings', input: 'a', encoding_format: 'binary' }, 'encoding_format'],
    [{ model: 'embeddings', input: 'a', dimensions: 0 }, 'dimensions'],
    [{ model: 'embeddings', input: 'a', dimensions: 1.5 }, 'dimensions'],
    [{ model: 'embeddings', input: 'a', dimensions: '8' }, 'dimensions'],
    [{ model: 'embeddings', input: 'a', user: 7 }, 'user'],
  ];
  for (const [body, param] of cases) {
    const reply = await post(proxy, body);
    assert.equal(reply.status, 400, JSON.stringify(body));
    const err = errorOf(reply);
    assert.equal(err.param, param, JSON.stringify(body));
    assert.equal(err.type, 'invalid_request_error');
  }
  assert.equal((await post(proxy, { model: 'embeddings', input: Array.from({ length: 2048 }, () => 'a') })).status, 200);
  assert.equal(a.requests.length + b.requests.length, 1);
});
