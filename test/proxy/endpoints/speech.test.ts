// POST /v1/audio/speech through the router against scripted fake upstreams (wire §4): audio relayed byte for
// byte as it arrives, failover before the first byte, cancellation, the SSE form, validation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { bytes, closedPort, json, sse, type FakeUpstream } from '../../helpers/fake-upstream.ts';
import { errorOf, postJson, request, type StartedProxy } from '../../helpers/proxy.ts';
import type { RequestEvent } from '../../../src/mesh/events.ts';
import { startPair } from '../../helpers/pair.ts';

type Json = Record<string, unknown>;

const ASK = { model: 'text-to-speech', input: 'The quick brown fox jumped over the lazy dog.', voice: 'alloy' };
const AUDIO = randomBytes(300 * 1024);
/** The audio in 6 uneven chunks. */
const CHUNKS = [0, 1000, 70_000, 150_000, 200_001, 280_000, AUDIO.length].flatMap((start, i, all) => (i + 1 < all.length ? [AUDIO.subarray(start, all[i + 1])] : []));

interface Setup { a: FakeUpstream; b: FakeUpstream; proxy: StartedProxy; events: RequestEvent[] }

async function setup(t: { after: (fn: () => Promise<void>) => void }, aUrl?: string): Promise<Setup> {
  const pair = await startPair(t, {
    models: {
      'a.tts-a': { provider: 'a', capabilities: ['text-to-speech'], pricing: { input_per_1m: 15, output_per_1m: 0 } },
      'b.tts-b': { provider: 'b', capabilities: ['text-to-speech'] },
    },
    pools: { 'text-to-speech': { models: ['a.tts-a', 'b.tts-b'], retry: { max_attempts: 1 } } },
  }, aUrl);
  const { a, b, proxy } = pair;
  const events = pair.requests;
  a.handle(bytes(200, CHUNKS, 'audio/mpeg', { interval: 5 }));
  b.handle(bytes(200, CHUNKS, 'audio/flac', { interval: 5 }));
  return { a, b, proxy, events };
}

/** POST returning the raw body bytes (the helper's `request` decodes to a string). */
function postForBytes(url: string, body: Json): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/octet-stream' }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

test('audio is relayed byte for byte with the upstream content type; the upstream saw the body with its model name', async (t) => {
  const { a, b, proxy, events } = await setup(t);
  const ask = { ...ASK, response_format: 'mp3', speed: 1.25, instructions: 'calm', stream_format: 'audio', custom: { x: 1 } };
  const reply = await postForBytes(`${proxy.url}/v1/audio/speech`, ask);
  assert.equal(reply.status, 200);
  assert.equal(reply.headers['content-type'], 'audio/mpeg');
  assert.equal(reply.headers['x-modelmesh-model'], 'a.tts-a');
  assert.ok(reply.body.equals(AUDIO), 'audio bytes differ');
  assert.equal(a.requests.length, 1);
  assert.equal(b.requests.length, 0);
  assert.equal(a.requests[0]?.path, '/v1/audio/speech');
  assert.deepEqual(a.requests[0]?.json, { ...ask, model: 'tts-a' });
  // Usage: input characters as prompt tokens (priced per 1M characters).
  assert.equal(events[0]?.tokens_in, ASK.input.length);
  assert.equal(events[0]?.cost, (ASK.input.length * 15) / 1e6);
  assert.equal(events[0]?.outcome, 'success');
});

test("stream_format sse answered with audio (tts-1 has no SSE): the audio is relayed, a success, the model never put in standby", async (t) => {
  const { a, b, proxy, events } = await setup(t);
  for (let i = 0; i < 4; i++) {
    const reply = await postForBytes(`${proxy.url}/v1/audio/speech`, { ...ASK, stream_format: 'sse' });
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['content-type'], 'audio/mpeg');
    assert.ok(reply.body.equals(AUDIO), 'the audio, byte for byte');
  }
  assert.equal(a.requests.length, 4);
  assert.equal(b.requests.length, 0, 'no failure, no rotation');
  assert.ok(events.every((e) => e.outcome === 'success'));
  assert.equal(proxy.mesh.state.model('a.tts-a').status, 'active');
});

test("a 200 JSON error envelope instead of audio is the first model's failure: failed over to the next, before any byte", async (t) => {
  const { a, b, proxy, events } = await setup(t);
  a.handle(json(200, { error: { message: 'quota exceeded', type: 'insufficient_quota', code: 502 } }));
  const reply = await postForBytes(`${proxy.url}/v1/audio/speech`, ASK);
  assert.equal(reply.status, 200);
  assert.equal(reply.headers['content-type'], 'audio/flac', 'the audio of b');
  assert.ok(reply.body.equals(AUDIO));
  assert.equal(b.requests.length, 1);
  assert.deepEqual(events[0]?.attempts.map((x) => [x.model, x.outcome]), [['a.tts-a', 'failure'], ['b.tts-b', 'success']]);
});

test('audio is streamed: the first chunk reaches the client while the upstream is still sending', async (t) => {
  const { a, proxy } = await setup(t);
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  a.handle(async (_req, res) => {
    res.writeHead(200, { 'content-type': 'audio/wav' });
    res.write(AUDIO.subarray(0, 4096));
    await held; // the rest only once the client has the first chunk
    res.end(AUDIO.subarray(4096));
  });
  const received = await new Promise<Buffer>((resolve, reject) => {
    const req = httpRequest(`${proxy.url}/v1/audio/speech`, { method: 'POST', headers: { 'content-type': 'application/json' }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.once('data', () => release());
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks)));
    });
    req.on('error', reject);
    req.end(JSON.stringify(ASK));
  });
  assert.ok(received.equals(AUDIO));
});

test('a first upstream answering 503 fails over before the first byte: attempts 2', async (t) => {
  const { a, b, proxy } = await setup(t);
  a.handle(json(503, { error: { message: 'overloaded' } }));
  const reply = await postForBytes(`${proxy.url}/v1/audio/speech`, ASK);
  assert.equal(reply.status, 200);
  assert.equal(reply.headers['x-modelmesh-attempts'], '2');
  assert.equal(reply.headers['x-modelmesh-model'], 'b.tts-b');
  assert.equal(reply.headers['content-type'], 'audio/flac');
  assert.ok(reply.body.equals(AUDIO));
  assert.equal(a.requests.length, 1);
  assert.equal((b.requests[0]?.json as Json)['model'], 'tts-b');
});

test('a first upstream that answers 200 and dies before any audio byte also fails over', async (t) => {
  const { a, proxy } = await setup(t);
  a.handle(bytes(200, CHUNKS, 'audio/mpeg', { dropAfter: 0 }));
  const reply = await postForBytes(`${proxy.url}/v1/audio/speech`, ASK);
  assert.equal(reply.status, 200);
  assert.equal(reply.headers['x-modelmesh-model'], 'b.tts-b');
  assert.ok(reply.body.equals(AUDIO));
});

test('a refused first upstream fails over', async (t) => {
  const { b, proxy } = await setup(t, `http://127.0.0.1:${await closedPort()}/v1`);
  const reply = await postForBytes(`${proxy.url}/v1/audio/speech`, ASK);
  assert.equal(reply.status, 200);
  assert.equal(reply.headers['x-modelmesh-model'], 'b.tts-b');
  assert.equal(b.requests.length, 1);
});

test('a missing upstream content type is filled in from response_format', async (t) => {
  const { a, proxy } = await setup(t);
  a.handle((_req, res) => {
    res.writeHead(200);
    res.end(AUDIO.subarray(0, 1000));
  });
  const reply = await postForBytes(`${proxy.url}/v1/audio/speech`, { ...ASK, response_format: 'opus' });
  assert.equal(reply.headers['content-type'], 'audio/opus');
  assert.ok(reply.body.equals(AUDIO.subarray(0, 1000)));
});

test('a client aborting mid-stream makes the upstream see its socket close', async (t) => {
  const { a, proxy, events } = await setup(t);
  const many = Array.from({ length: 200 }, (_, i) => AUDIO.subarray(i * 1000, (i + 1) * 1000));
  a.handle(bytes(200, many, 'audio/mpeg', { interval: 20 }));
  const upstreamClosed = a.onSocketClose();
  await new Promise<void>((resolve, reject) => {
    const req = httpRequest(`${proxy.url}/v1/audio/speech`, { method: 'POST', headers: { 'content-type': 'application/json' }, agent: false }, (res) => {
      res.once('data', () => {
        req.destroy();
        resolve();
      });
    });
    req.on('error', () => undefined);
    req.end(JSON.stringify(ASK));
    setTimeout(() => reject(new Error('no audio arrived')), 5000).unref();
  });
  await upstreamClosed;
  // The attempt is recorded as cancelled, not as a failure of the model.
  for (let i = 0; i < 50 && events.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(events[0]?.outcome, 'cancelled');
});

test('an upstream dying mid-audio cuts the client connection (no in-band channel) and counts as a failure', async (t) => {
  const { a, proxy, events } = await setup(t);
  a.handle(bytes(200, CHUNKS, 'audio/mpeg', { interval: 5, dropAfter: 3 }));
  await assert.rejects(postForBytes(`${proxy.url}/v1/audio/speech`, ASK));
  for (let i = 0; i < 50 && events.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(events[0]?.outcome, 'failure');
});

test('stream_format sse: events relayed as they come, usage from speech.audio.done, complete without [DONE]', async (t) => {
  const { a, proxy, events } = await setup(t);
  const delta = (n: number) => ({ type: 'speech.audio.delta', audio: AUDIO.subarray(n * 100, n * 100 + 100).toString('base64') });
  const done = { type: 'speech.audio.done', usage: { input_tokens: 12, output_tokens: 340, total_tokens: 352 } };
  a.handle(sse([delta(0), delta(1), done], { done: false, interval: 5 }));
  const reply = await postJson(`${proxy.url}/v1/audio/speech`, { ...ASK, stream_format: 'sse' });
  assert.equal(reply.status, 200);
  assert.match(String(reply.headers['content-type']), /^text\/event-stream/);
  assert.equal(reply.body, [delta(0), delta(1), done].map((e) => `data: ${JSON.stringify(e)}\n\n`).join(''));
  assert.equal(a.requests[0]?.headers['accept'], 'text/event-stream');
  assert.deepEqual([events[0]?.outcome, events[0]?.tokens_in, events[0]?.tokens_out], ['success', 12, 340]);
});

test('stream_format sse: an upstream [DONE] is relayed too', async (t) => {
  const { a, proxy, events } = await setup(t);
  a.handle(sse([{ type: 'speech.audio.delta', audio: 'AAAA' }, { type: 'speech.audio.done' }]));
  const reply = await postJson(`${proxy.url}/v1/audio/speech`, { ...ASK, stream_format: 'sse' });
  assert.match(reply.body, /data: \[DONE\]\n\n$/);
  // No usage in the done event: the character count is recorded.
  assert.equal(events[0]?.tokens_in, ASK.input.length);
});

test('stream_format sse: a stream ending before speech.audio.done ends with an in-band error', async (t) => {
  const { a, proxy, events } = await setup(t);
  a.handle(sse([{ type: 'speech.audio.delta', audio: 'AAAA' }], { done: false }));
  const reply = await postJson(`${proxy.url}/v1/audio/speech`, { ...ASK, stream_format: 'sse' });
  assert.equal(reply.status, 200);
  assert.match(reply.body, /data: \{"error":/);
  assert.equal(events[0]?.outcome, 'failure');
});

test('invalid requests: 400 naming the parameter, nothing sent upstream', async (t) => {
  const { a, b, proxy } = await setup(t);
  const cases: [Json, string][] = [
    [{ input: 'x', voice: 'alloy' }, 'model'],
    [{ model: 'text-to-speech', voice: 'alloy' }, 'input'],
    [{ model: 'text-to-speech', input: '', voice: 'alloy' }, 'input'],
    [{ model: 'text-to-speech', input: 'x'.repeat(4097), voice: 'alloy' }, 'input'],
    [{ model: 'text-to-speech', input: 'x' }, 'voice'],
    [{ model: 'text-to-speech', input: 'x', voice: 7 }, 'voice'],
    [{ model: 'text-to-speech', input: 'x', voice: { name: 'v' } }, 'voice'],
    [{ ...ASK, response_format: 'ogg' }, 'response_format'],
    [{ ...ASK, speed: 0.1 }, 'speed'],
    [{ ...ASK, speed: 4.5 }, 'speed'],
    [{ ...ASK, stream_format: 'chunks' }, 'stream_format'],
    [{ ...ASK, instructions: 5 }, 'instructions'],
  ];
  for (const [body, param] of cases) {
    const reply = await postJson(`${proxy.url}/v1/audio/speech`, body);
    assert.equal(reply.status, 400, JSON.stringify(body));
    assert.equal(errorOf(reply).param, param, JSON.stringify(body));
  }
  // Limits are inclusive; characters are code points (an emoji is one character, two UTF-16 units).
  const ok = await postForBytes(`${proxy.url}/v1/audio/speech`, { ...ASK, input: '😀'.repeat(4096), voice: { id: 'voice_123' }, speed: 4 });
  assert.equal(ok.status, 200);
  assert.equal(a.requests.length + b.requests.length, 1);
  const notJson = await request(`${proxy.url}/v1/audio/speech`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hi' });
  assert.equal(notJson.status, 415);
});
