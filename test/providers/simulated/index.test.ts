import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ModelConfig, ProviderConfig } from '../../../src/config/types.ts';
import type { ProviderCall, ProviderResponse } from '../../../src/providers/provider.ts';
import { SimulatedProvider } from '../../../src/providers/simulated/index.ts';
import { base64ToFloats } from '../../../src/lib/vectors.ts';
import { providerConfig } from '../../helpers/fake-upstream.ts';
import { providerCall, rejection } from '../../helpers/provider-call.ts';

const MODEL = { id: 'sim.chat', name: 'sim-chat' } as ModelConfig;

function sim(knobs: Partial<ProviderConfig['simulated']> = {}): SimulatedProvider {
  const base = providerConfig('modelmesh.simulated.v1', null);
  return new SimulatedProvider({ ...base, simulated: { ...base.simulated, ...knobs } });
}

const call = (over: Partial<ProviderCall> = {}): ProviderCall => providerCall(MODEL, 'Hello there', 'req-s', over);

function json(res: ProviderResponse): Record<string, unknown> {
  assert.equal(res.kind, 'buffer');
  return res.kind === 'buffer' ? JSON.parse(res.body.toString('utf8')) : {};
}


async function all<T>(it: AsyncIterator<T>): Promise<T[]> {
  const out: T[] = [];
  for (let r = await it.next(); r.done !== true; r = await it.next()) out.push(r.value);
  return out;
}

describe('simulated provider', () => {
  test('is marked simulated', () => {
    const p = sim();
    assert.equal(p.simulated, true);
    assert.equal(p.id, 'modelmesh.simulated.v1');
  });

  test('chat buffer: a chat.completion for the upstream model name', async () => {
    const body = json(await sim().call(call()));
    assert.equal(body['object'], 'chat.completion');
    assert.equal(body['model'], 'sim-chat');
    const choices = body['choices'] as { message: { content: string }; finish_reason: string }[];
    assert.match(choices[0]?.message.content ?? '', /Hello there/);
    assert.equal(choices[0]?.finish_reason, 'stop');
  });

  test('chat sse: chunks then [DONE], include_usage honoured, paced by chunk_interval', async () => {
    const res = await sim({ chunk_interval: 1 }).call(call({ mode: 'sse', body: { messages: [{ role: 'user', content: 'one two three' }], stream: true, stream_options: { include_usage: true } } }));
    assert.equal(res.kind, 'sse');
    assert.equal(res.contentType, 'text/event-stream');
    if (res.kind !== 'sse') return;
    const events = await all(res.events);
    assert.equal(events.at(-1)?.data, '[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.data) as { object: string; choices: { delta: { role?: string; content?: string } }[]; usage: unknown });
    assert.equal(chunks[0]?.choices[0]?.delta.role, 'assistant');
    assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk'));
    assert.deepEqual(chunks.at(-1)?.choices, []);
    assert.ok(chunks.at(-1)?.usage !== null);
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    assert.match(text, /one two three/);
  });

  test('chat sse: abort mid-stream throws cancelled and leaves no timer; close ends the stream', async () => {
    const ac = new AbortController();
    const res = await sim({ chunk_interval: 60_000 }).call(call({ mode: 'sse', signal: ac.signal }));
    if (res.kind !== 'sse') return assert.fail('sse');
    await res.events.next();
    const pending = res.events.next();
    ac.abort();
    assert.equal((await rejection(pending)).code, 'cancelled');
    assert.equal((await rejection(res.events.next())).code, 'cancelled');
    const again = await sim({ chunk_interval: 60_000 }).call(call({ mode: 'sse' }));
    if (again.kind !== 'sse') return assert.fail('sse');
    await again.events.next();
    const waiting = again.events.next();
    again.close();
    assert.deepEqual(await waiting, { done: true, value: undefined });
    assert.deepEqual(await again.events.return?.(), { done: true, value: undefined });
    // The test process would stay alive for 60 s if a timer were left behind.
  });

  test('embeddings: deterministic, dimensions, base64, every input shape', async () => {
    const p = sim({ dimensions: 8 });
    const a = json(await p.call(call({ endpoint: 'embeddings', body: { input: 'hello' } })));
    const b = json(await p.call(call({ endpoint: 'embeddings', body: { input: ['hello', 'world'] } })));
    const data = (x: Record<string, unknown>) => x['data'] as { index: number; embedding: number[] | string; object: string }[];
    assert.equal((data(a)[0]?.embedding as number[]).length, 8);
    assert.deepEqual(data(a)[0]?.embedding, data(b)[0]?.embedding);
    assert.notDeepEqual(data(b)[0]?.embedding, data(b)[1]?.embedding);
    assert.deepEqual(data(b).map((d) => d.index), [0, 1]);
    assert.equal(a['object'], 'list');
    assert.equal(a['model'], 'sim-chat');
    assert.deepEqual(a['usage'], { prompt_tokens: 2, total_tokens: 2 });
    const wide = json(await p.call(call({ endpoint: 'embeddings', body: { input: 'hello', dimensions: 32, encoding_format: 'base64' } })));
    const encoded = data(wide)[0]?.embedding;
    assert.equal(typeof encoded, 'string');
    const decoded = base64ToFloats(encoded as string);
    assert.equal(decoded.length, 32);
    assert.deepEqual(decoded.slice(0, 8).length, 8);
    const tokens = json(await p.call(call({ endpoint: 'embeddings', body: { input: [1, 2, 3] } })));
    const tokenLists = json(await p.call(call({ endpoint: 'embeddings', body: { input: [[1, 2, 3], [4]] } })));
    assert.deepEqual(data(tokens)[0]?.embedding, data(tokenLists)[0]?.embedding);
    assert.deepEqual(tokenLists['usage'], { prompt_tokens: 4, total_tokens: 4 });
    const bad = await rejection(p.call(call({ endpoint: 'embeddings', body: { input: [{}] } })));
    assert.equal(bad.upstream?.status, 400);
    const dims = await rejection(p.call(call({ endpoint: 'embeddings', body: { input: 'x', dimensions: 0 } })));
    assert.equal(dims.upstream?.status, 400);
  });

  test('speech: a valid WAV streamed in 4 KiB chunks; pcm as audio/pcm', async () => {
    const p = sim();
    const res = await p.call(call({ endpoint: 'speech', mode: 'bytes', body: { input: 'a b c d e f g h i j', voice: 'alloy', response_format: 'mp3' } }));
    assert.equal(res.kind, 'bytes');
    assert.equal(res.contentType, 'audio/wav');
    if (res.kind !== 'bytes') return;
    const chunks = await all(res.chunks);
    assert.ok(chunks.every((c) => c.length <= 4096));
    const wav = Buffer.concat(chunks);
    assert.equal(res.headers['content-length'], String(wav.length));
    assert.equal(wav.toString('ascii', 0, 4), 'RIFF');
    assert.equal(wav.toString('ascii', 8, 12), 'WAVE');
    assert.equal(wav.readUInt32LE(4), wav.length - 8);
    const rate = wav.readUInt32LE(24);
    assert.equal(wav.readUInt32LE(40), Math.round((rate * 600) / 1000) * 2, '10 words x 60 ms');
    const raw = await p.call(call({ endpoint: 'speech', mode: 'buffer', body: { input: 'hi', response_format: 'pcm' } }));
    assert.equal(raw.contentType, 'audio/pcm');
    assert.equal(raw.kind === 'buffer' ? raw.body.length : 0, Math.round((24_000 * 60) / 1000) * 2);
    const long = await p.call(call({ endpoint: 'speech', mode: 'buffer', body: { input: 'w '.repeat(1000) } }));
    assert.equal(long.kind === 'buffer' ? long.body.readUInt32LE(40) : 0, 24_000 * 10 * 2, 'capped at 10 s');
    assert.equal((await rejection(p.call(call({ endpoint: 'speech', mode: 'bytes', body: {} })))).upstream?.status, 400);
  });

  test('transcriptions and translations use the file part and response_format', async () => {
    const p = sim();
    const form = (format?: string) => ({
      parts: [
        { name: 'file', filename: 'clip.wav', contentType: 'audio/wav', data: Buffer.alloc(32_000) },
        { name: 'model', data: Buffer.from('whisper-1') },
        ...(format === undefined ? [] : [{ name: 'response_format', data: Buffer.from(format) }]),
      ],
    });
    const j = json(await p.call(call({ endpoint: 'transcriptions', form: form(), body: {} })));
    assert.match(String(j['text']), /32000 bytes .*clip\.wav/);
    const srt = await p.call(call({ endpoint: 'translations', form: form('srt'), body: {} }));
    assert.equal(srt.contentType, 'text/plain; charset=utf-8');
    assert.match(srt.kind === 'buffer' ? srt.body.toString() : '', /^1\n00:00:00,000 --> 00:00:02,000\n/);
    assert.equal((await rejection(p.call(call({ endpoint: 'transcriptions', form: form('docx'), body: {} })))).upstream?.status, 400);
    assert.equal((await rejection(p.call(call({ endpoint: 'transcriptions', form: null, body: {} })))).upstream?.status, 400);
  });

  test('streaming audio: speech as speech.audio.delta events then speech.audio.done; transcripts as transcript.text.* (no [DONE])', async () => {
    const p = sim({ chunk_interval: 0 });
    const speech = await p.call(call({ endpoint: 'speech', mode: 'sse', body: { input: 'a b c d e f g h i j', voice: 'alloy' } }));
    assert.equal(speech.kind, 'sse');
    const wavBytes = await p.call(call({ endpoint: 'speech', mode: 'buffer', body: { input: 'a b c d e f g h i j', voice: 'alloy' } }));
    const said = speech.kind === 'sse' ? (await all(speech.events)).map((e) => JSON.parse(e.data) as { type: string; audio?: string; usage?: { total_tokens: number } }) : [];
    assert.ok(said.slice(0, -1).every((e) => e.type === 'speech.audio.delta'));
    assert.equal(said.at(-1)?.type, 'speech.audio.done');
    assert.ok((said.at(-1)?.usage?.total_tokens ?? 0) > 0);
    const audio = Buffer.concat(said.slice(0, -1).map((e) => Buffer.from(e.audio ?? '', 'base64')));
    assert.ok(wavBytes.kind === 'buffer' && audio.equals(wavBytes.body), 'the deltas add up to the same WAV');
    const form = { parts: [{ name: 'file', filename: 'clip.wav', contentType: 'audio/wav', data: Buffer.alloc(32_000) }, { name: 'model', data: Buffer.from('whisper-1') }] };
    const heard = await p.call(call({ endpoint: 'transcriptions', mode: 'sse', form, body: {} }));
    const events = heard.kind === 'sse' ? (await all(heard.events)).map((e) => JSON.parse(e.data) as { type: string; delta?: string; text?: string }) : [];
    assert.ok(events.length > 2);
    const done = events.at(-1);
    assert.equal(done?.type, 'transcript.text.done');
    assert.equal(events.slice(0, -1).map((e) => e.delta).join(''), done?.text);
    assert.match(done?.text ?? '', /32000 bytes .*clip\.wav/);
  });

  test('images: n PNGs, b64_json or data: URLs, size honoured up to 256', async () => {
    const p = sim();
    const b64 = json(await p.call(call({ endpoint: 'images', body: { prompt: 'a cat', n: 2, size: '32x16', response_format: 'b64_json' } })));
    const data = b64['data'] as { b64_json?: string; url?: string }[];
    assert.equal(data.length, 2);
    const png = Buffer.from(data[0]?.b64_json ?? '', 'base64');
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [32, 16]);
    assert.notEqual(data[0]?.b64_json, data[1]?.b64_json);
    assert.equal(typeof b64['created'], 'number');
    const url = json(await p.call(call({ endpoint: 'images', body: { prompt: 'a cat', size: '1024x1024' } })));
    const first = (url['data'] as { url: string }[])[0]?.url ?? '';
    assert.match(first, /^data:image\/png;base64,/);
    const big = Buffer.from(first.slice('data:image/png;base64,'.length), 'base64');
    assert.deepEqual([big.readUInt32BE(16), big.readUInt32BE(20)], [64, 64]);
    // images in sse mode stream now (the streaming images test below).
    assert.equal((await rejection(p.call(call({ endpoint: 'chat', mode: 'bytes' })))).upstream?.status, 400);
    // Speech in sse mode streams now (the streaming audio test above).
  });

  test('streaming images: per image a partial_image then a completed event with the PNG and usage, for generations and edits', async () => {
    const p = sim({ chunk_interval: 0 });
    const res = await p.call(call({ endpoint: 'images', mode: 'sse', body: { prompt: 'a cat', n: 2, size: '32x16' } }));
    const events = res.kind === 'sse' ? (await all(res.events)).map((e) => JSON.parse(e.data) as { type: string; b64_json: string; usage?: { total_tokens: number } }) : [];
    assert.deepEqual(events.map((e) => e.type), ['image_generation.partial_image', 'image_generation.completed', 'image_generation.partial_image', 'image_generation.completed']);
    const png = Buffer.from(events[1]?.b64_json ?? '', 'base64');
    assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [32, 16]);
    assert.ok((events[1]?.usage?.total_tokens ?? 0) > 0);
    const form = { parts: [{ name: 'image', filename: 'a.png', contentType: 'image/png', data: Buffer.alloc(64) }, { name: 'prompt', data: Buffer.from('hat') }] };
    const edit = await p.call(call({ endpoint: 'image-edits', mode: 'sse', form, body: {} }));
    const types = edit.kind === 'sse' ? (await all(edit.events)).map((e) => (JSON.parse(e.data) as { type: string }).type) : [];
    assert.deepEqual(types, ['image_edit.partial_image', 'image_edit.completed']);
  });

  test('failure_rate 1 always fails with a 503', async () => {
    const p = sim({ failure_rate: 1 });
    for (let i = 0; i < 5; i++) {
      const err = await rejection(p.call(call()));
      assert.equal(err.code, 'upstream_error');
      assert.deepEqual(err.upstream, { status: 503, reason: '503 simulated failure' });
    }
  });

  test('latency is honoured and abortable; close() ends pending waits', async () => {
    assert.equal(json(await sim({ latency: 5 }).call(call()))['object'], 'chat.completion');
    const ac = new AbortController();
    const slow = sim({ latency: 60_000 });
    const pending = slow.call(call({ signal: ac.signal }));
    const state = await Promise.race([pending.then(() => 'answered'), new Promise((r) => setTimeout(() => r('waiting'), 20))]);
    assert.equal(state, 'waiting');
    ac.abort();
    assert.equal((await rejection(pending)).code, 'cancelled');
    assert.equal((await rejection(slow.call(call({ signal: AbortSignal.abort() })))).code, 'cancelled');
    const closing = slow.call(call());
    slow.close();
    assert.equal((await rejection(closing)).upstream?.reason, 'provider closed');
  });
});
