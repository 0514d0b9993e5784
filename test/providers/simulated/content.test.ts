// Tests for the simulated provider's pure generators: embeddings, WAV/PCM, PNG, chat, transcription.
// File formats are checked with independent decoders written here (a RIFF walker, a PNG chunk
// walker with a bitwise CRC-32, an openai-node-style stream accumulator), not the code under test.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inflateSync } from 'node:zlib';
import { MeshError } from '../../../src/errors.ts';
import { embedText, floatsToBase64, base64ToFloats } from '../../../src/lib/vectors.ts';
import { wav, pcm, png } from '../../../src/providers/simulated/media.ts';
import {
  estimateTokens, messagesText, chatReply, chatCompletion, chatChunks, transcription, completionId,
  type SimulatedReply,
} from '../../../src/providers/simulated/content.ts';

type Json = Record<string, unknown>;
const invalidParam = (err: unknown): boolean => err instanceof MeshError && err.code === 'invalid_param';

// ---------------------------------------------------------------- embeddings (wire §3)

test('embedText: deterministic, requested dimension, different texts differ', () => {
  for (const dims of [1, 7, 8, 9, 256, 1536]) {
    const a = embedText('hello world', dims);
    assert.equal(a.length, dims);
    assert.deepEqual(embedText('hello world', dims), a);
  }
  for (const other of ['hello world!', '', 'Hello world']) assert.notDeepEqual(embedText(other, 64), embedText('hello world', 64));
  for (const bad of [0, -1, 1.5, Number.NaN]) assert.throws(() => embedText('x', bad), invalidParam);
});

test('embedText vectors are unit length (1e-6) with float32-exact components in [-1, 1]', () => {
  for (const [text, dims] of [['a', 1], ['abc', 3], ['the quick brown fox', 1536], ['日本語 🎉', 100]] as const) {
    const v = embedText(text, dims);
    const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    assert.ok(Math.abs(norm - 1) < 1e-6, `norm ${norm} for ${text}/${dims}`);
    assert.ok(v.every((x) => x === Math.fround(x) && x >= -1 && x <= 1));
  }
});

test('base64 round-trips exactly and decodes like openai-node (little-endian float32)', () => {
  const v = embedText('round trip', 1536);
  const b64 = floatsToBase64(v);
  // openai-node toFloat32Array: Array.from(new Float32Array(buf.buffer, buf.byteOffset, len / 4)).
  const buf = Buffer.from(b64, 'base64');
  const copy = new Uint8Array(buf); // fresh, 4-aligned ArrayBuffer
  assert.deepEqual(Array.from(new Float32Array(copy.buffer, copy.byteOffset, copy.byteLength / 4)), v);
  assert.deepEqual(base64ToFloats(b64), v);
  assert.deepEqual([buf.readFloatLE(0), buf.length], [v[0], 1536 * 4]); // explicit LE, whatever the host order
  assert.deepEqual([floatsToBase64([]), base64ToFloats('')], ['', []]);
  assert.deepEqual(base64ToFloats(floatsToBase64([1, -0.5, 0.25])), [1, -0.5, 0.25]);
  assert.throws(() => base64ToFloats(Buffer.from([1, 2, 3]).toString('base64')), invalidParam);
});

// ---------------------------------------------------------------- WAV / PCM (wire §4)

/** Independent RIFF/WAVE reader: walks every chunk, checks sizes against the file length. */
function readWav(file: Buffer): { fmt: number[]; data: Buffer } {
  assert.equal(file.toString('ascii', 0, 4), 'RIFF');
  assert.equal(file.readUInt32LE(4), file.length - 8, 'RIFF size = file length - 8');
  assert.equal(file.toString('ascii', 8, 12), 'WAVE');
  const chunks = new Map<string, Buffer>();
  let offset = 12;
  while (offset < file.length) {
    const size = file.readUInt32LE(offset + 4);
    assert.ok(offset + 8 + size <= file.length, 'chunk fits in the file');
    chunks.set(file.toString('ascii', offset, offset + 4), file.subarray(offset + 8, offset + 8 + size));
    offset += 8 + size + (size % 2);
  }
  assert.equal(offset, file.length, 'chunks exactly fill the file');
  const [fmt, data] = [chunks.get('fmt '), chunks.get('data')];
  assert.ok(fmt !== undefined && data !== undefined && fmt.length === 16);
  // [formatTag, channels, sampleRate, byteRate, blockAlign, bitsPerSample]
  const fields = [fmt.readUInt16LE(0), fmt.readUInt16LE(2), fmt.readUInt32LE(4), fmt.readUInt32LE(8)];
  return { fmt: [...fields, fmt.readUInt16LE(12), fmt.readUInt16LE(14)], data };
}

test('wav: valid 16-bit mono PCM RIFF/WAVE, 24 kHz default, audible tone with fade-in', () => {
  const file = wav('Hello there', 500);
  const { fmt, data } = readWav(file);
  assert.deepEqual([fmt, data.length, file.length], [[1, 1, 24000, 48000, 2, 16], 12000 * 2, 44 + 24000]);
  let peak = 0;
  for (let i = 0; i < data.length; i += 2) peak = Math.max(peak, Math.abs(data.readInt16LE(i)));
  assert.ok(peak > 5000 && peak < 32767, `peak ${peak}`);
  assert.equal(data.readInt16LE(0), 0);
});

test('wav/pcm: sample rate, zero duration, determinism, seeds differ, pcm = wav data, bad input', () => {
  const custom = readWav(wav('x', 1000, 16000));
  assert.deepEqual([custom.fmt, custom.data.length], [[1, 1, 16000, 32000, 2, 16], 32000]);
  assert.deepEqual([wav('x', 0).length, readWav(wav('x', 0)).data.length], [44, 0]);
  assert.deepEqual(wav('same', 200), wav('same', 200));
  assert.notDeepEqual(pcm('one', 200), pcm('two', 200));
  assert.deepEqual(pcm('seed', 300), readWav(wav('seed', 300)).data);
  assert.equal(pcm('seed', 1000).length, 48000);
  for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY, 1e12]) assert.throws(() => wav('x', bad), invalidParam);
  for (const bad of [0, 8000.5, 1e6]) assert.throws(() => pcm('x', 10, bad), invalidParam);
});

// ---------------------------------------------------------------- PNG (wire §6)

/** Bitwise CRC-32 (reflected 0xEDB88320), deliberately table-free to be independent of media.ts. */
function bitwiseCrc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** Walks a PNG: signature, each chunk's CRC, IHDR fields; returns size and inflated IDAT. */
function readPng(file: Buffer): { width: number; height: number; raw: Buffer } {
  assert.deepEqual([...file.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const chunks: { type: string; data: Buffer }[] = [];
  for (let offset = 8; offset < file.length;) {
    const length = file.readUInt32BE(offset);
    const type = file.toString('ascii', offset + 4, offset + 8);
    assert.equal(file.readUInt32BE(offset + 8 + length), bitwiseCrc32(file.subarray(offset + 4, offset + 8 + length)), type);
    chunks.push({ type, data: file.subarray(offset + 8, offset + 8 + length) });
    offset += 12 + length;
    if (offset >= file.length) assert.equal(offset, file.length);
  }
  assert.deepEqual(chunks.map((c) => c.type), ['IHDR', 'IDAT', 'IEND']);
  const ihdr = chunks[0]?.data as Buffer;
  assert.deepEqual([ihdr.length, chunks[2]?.data.length], [13, 0]);
  assert.deepEqual([...ihdr.subarray(8)], [8, 2, 0, 0, 0], 'bit depth 8, RGB, deflate, filter 0, no interlace');
  return { width: ihdr.readUInt32BE(0), height: ihdr.readUInt32BE(4), raw: inflateSync(chunks[1]?.data as Buffer) };
}

test('png: valid 64x64 RGB PNG, correct CRCs, IDAT inflates to height*(1+width*3), not flat', () => {
  const { width, height, raw } = readPng(png('a red fox'));
  assert.deepEqual([width, height], [64, 64]);
  assert.equal(raw.length, height * (1 + width * 3));
  for (let y = 0; y < height; y++) assert.equal(raw[y * (1 + width * 3)], 0, 'filter type None');
  const pixels = new Set<string>();
  for (let i = 1; i < raw.length; i += 3) pixels.add(raw.subarray(i, i + 3).toString('hex'));
  assert.ok(pixels.size > 4);
});

test('png: honours width/height, deterministic, differs by seed, rejects bad sizes', () => {
  for (const [w, h] of [[1, 1], [3, 5], [256, 17]] as const) {
    const { width, height, raw } = readPng(png('dims', w, h));
    assert.deepEqual([width, height, raw.length], [w, h, h * (1 + w * 3)]);
  }
  assert.deepEqual(png('cat'), png('cat'));
  assert.notDeepEqual(readPng(png('cat')).raw, readPng(png('dog')).raw);
  for (const bad of [0, -3, 2.5, 5000]) assert.throws(() => png('x', bad, 8), invalidParam);
  assert.throws(() => png('x', 8, 0), invalidParam);
});

// ---------------------------------------------------------------- chat (wire §2)

const user = (content: unknown): Json => ({ role: 'user', content });
const fn = (name: string, parameters?: unknown): Json => ({ type: 'function', function: { name, parameters } });
const weatherTool = fn('get_weather', {
  type: 'object',
  properties: {
    location: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
    days: { type: 'integer', minimum: 1 }, detailed: { type: 'boolean' }, extra: { type: 'string' },
  },
  required: ['location', 'unit', 'days', 'detailed'],
});
const customTool = { type: 'custom', custom: { name: 'c' } };

test('estimateTokens and messagesText', () => {
  assert.deepEqual(['', 'a', 'abcd', 'abcde', 'x'.repeat(400)].map(estimateTokens), [0, 1, 1, 2, 100]);
  const parts = [{ type: 'text', text: 'look' }, { type: 'image_url', image_url: { url: 'http://x' } }, { type: 'text', text: 'here' }];
  const messages = [{ role: 'system', content: 'be brief' }, user(parts), { role: 'assistant', content: null }, 'junk', user(42)];
  assert.deepEqual([messagesText(messages), messagesText(undefined), messagesText({})], ['be brief\nlook\nhere', '', '']);
});

test('chatReply: deterministic, quotes the last user message (60 chars max), token counts', () => {
  const body = { model: 'm', messages: [user('first'), { role: 'assistant', content: 'ok' }, user('  What   is 2+2? ')] };
  const a = chatReply(body, 'sim-1');
  assert.deepEqual(chatReply(structuredClone(body), 'sim-1'), a);
  assert.deepEqual([a.content, a.finishReason, a.toolCalls], ['Simulated reply from sim-1: "What is 2+2?"', 'stop', []]);
  assert.deepEqual([a.promptTokens, a.completionTokens], [estimateTokens(messagesText(body.messages)), estimateTokens(a.content ?? '')]);
  assert.notEqual(chatReply(body, 'sim-2').content, a.content);
  const quote = /"(.*)"$/.exec(chatReply({ messages: [user('word '.repeat(40))] }, 'm').content ?? '')?.[1] ?? '';
  assert.ok(quote.endsWith('…') && Array.from(quote).length === 61);
  assert.deepEqual(chatReply({ messages: [{ role: 'system', content: '' }] }, 'm'), chatReply({}, 'm'));
  assert.deepEqual([chatReply({}, 'm').content, chatReply({}, 'm').promptTokens], ['Simulated reply from m.', 0]);
});

test('max_tokens / max_completion_tokens truncate the text and set finish_reason "length"', () => {
  const body = { messages: [user('please tell me a long story about dragons')], max_tokens: 3 };
  const r = chatReply(body, 'm');
  assert.deepEqual([r.content, r.finishReason, r.completionTokens], ['Simulated re', 'length', 3]);
  // max_completion_tokens wins over max_tokens; non-positive limits are ignored.
  assert.equal(chatReply({ ...body, max_completion_tokens: 5 }, 'm').content?.length, 20);
  for (const max_tokens of [0, 1000]) assert.equal(chatReply({ ...body, max_tokens }, 'm').finishReason, 'stop');
  // Never splits a surrogate pair: 24 units would end on the second 🎉's high surrogate (unit 23).
  assert.equal(chatReply({ messages: [user('x')], max_tokens: 6 }, '🎉🎉').content, 'Simulated reply from 🎉');
});

test('tools produce a deterministic tool call with schema-derived JSON arguments', () => {
  const body = { messages: [user('Weather in Boston?')], tools: [customTool, weatherTool, fn('get_time')] };
  const r = chatReply(body, 'm');
  assert.deepEqual([r.content, r.finishReason, r.toolCalls.length], [null, 'tool_calls', 1]);
  const call = r.toolCalls[0];
  assert.ok(call !== undefined && call.name === 'get_weather');
  assert.match(call.id, /^call_[0-9a-f]{24}$/);
  assert.deepEqual(JSON.parse(call.arguments), { location: 'Weather in Boston?', unit: 'celsius', days: 1, detailed: true });
  assert.deepEqual([chatReply(body, 'm'), r.completionTokens], [r, estimateTokens(call.name + call.arguments)]);
  // Tool calls are not truncated by max_tokens (that would make the arguments invalid JSON).
  assert.equal(chatReply({ ...body, max_tokens: 1 }, 'm').finishReason, 'tool_calls');
});

test('tool_choice: none gives text, a named function is honoured, tool results end the loop', () => {
  const base = { messages: [user('hi')], tools: [weatherTool, fn('get_time')] };
  const finish = (extra: Json): string => chatReply({ ...base, ...extra }, 'm').finishReason;
  assert.equal(finish({ tool_choice: 'none' }), 'stop');
  const named = chatReply({ ...base, tool_choice: { type: 'function', function: { name: 'get_time' } } }, 'm');
  assert.deepEqual([named.toolCalls[0]?.name, named.toolCalls[0]?.arguments], ['get_time', '{}']);
  const messages = [...base.messages, { role: 'tool', tool_call_id: 'call_1', content: '20C' }];
  assert.deepEqual([finish({ messages }), finish({ messages, tool_choice: 'auto' })], ['stop', 'stop']);
  assert.equal(finish({ messages, tool_choice: 'required' }), 'tool_calls');
  assert.deepEqual([finish({ tools: [] }), finish({ tools: [customTool] })], ['stop', 'stop']);
});

test('schema derivation: const, default, anyOf, nested, arrays, numbers, nulls; response_format JSON', () => {
  const properties = {
    k: { const: 'fixed' }, d: { type: 'number', default: 2.5 }, any: { anyOf: [{ type: 'number', minimum: 3 }, { type: 'string' }] },
    nested: { type: ['object', 'null'], properties: { deep: { type: 'boolean' } } }, list: { type: 'array', items: {} },
    n: { type: 'number' }, z: { type: 'null' }, ref: { $ref: '#/defs/x' }, bad: 'not a schema',
  };
  const args = JSON.parse(chatReply({ messages: [], tools: [fn('f', { properties })] }, 'm').toolCalls[0]?.arguments ?? '');
  assert.deepEqual(args, { k: 'fixed', d: 2.5, any: 3, nested: { deep: true }, list: [], n: 0, z: null, ref: null, bad: null });
  assert.equal(chatReply({ tools: [fn('g', { type: 'string' })] }, 'm').toolCalls[0]?.arguments, '{}');

  const messages = [user('name a colour')];
  const obj = chatReply({ messages, response_format: { type: 'json_object' } }, 'm');
  assert.deepEqual(JSON.parse(obj.content ?? ''), { reply: 'Simulated reply from m: "name a colour"' });
  const schema = { type: 'object', properties: { colour: { type: 'string' }, hex: { type: 'string' } }, required: ['colour'] };
  const sch = chatReply({ messages, response_format: { type: 'json_schema', json_schema: { name: 'c', schema } } }, 'm');
  assert.deepEqual(JSON.parse(sch.content ?? ''), { colour: 'name a colour' });
  assert.equal(chatReply({ messages, response_format: { type: 'json_schema' } }, 'm').content, '{}');
});

test('completionId and chatCompletion follow the wire §2 response shape', () => {
  assert.match(completionId('seed'), /^chatcmpl-[0-9a-f]{24}$/);
  assert.ok(completionId('seed') === completionId('seed') && completionId('seed') !== completionId('seed2'));
  const reply = chatReply({ messages: [user('hello')] }, 'gpt-sim');
  const content = 'Simulated reply from gpt-sim: "hello"';
  const details = { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 };
  assert.deepEqual(chatCompletion(reply, 'gpt-sim', 1700000000, 'chatcmpl-abc'), {
    id: 'chatcmpl-abc', object: 'chat.completion', created: 1700000000, model: 'gpt-sim',
    choices: [{ index: 0, logprobs: null, finish_reason: 'stop', message: { role: 'assistant', content, refusal: null, annotations: [] } }],
    usage: {
      prompt_tokens: 2, completion_tokens: 10, total_tokens: 12,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 }, completion_tokens_details: details,
    },
  });
  const toolReply = chatReply({ messages: [user('x')], tools: [fn('get_time')] }, 'm');
  const choice = (chatCompletion(toolReply, 'm', 1, 'id')['choices'] as Json[])[0] as Json;
  assert.equal(choice['finish_reason'], 'tool_calls');
  const expected = [{ id: toolReply.toolCalls[0]?.id, type: 'function', function: { name: 'get_time', arguments: '{}' } }];
  assert.deepEqual([(choice['message'] as Json)['content'], (choice['message'] as Json)['tool_calls']], [null, expected]);
});

/** Checks the wire rules of a stream and accumulates it the way openai-node's ChatCompletionStream does. */
function accumulate(chunks: Json[], id: string, created: number, includeUsage: boolean): Json {
  const acc: Json = { content: null, finish: null, calls: [] as Json[] };
  const calls = acc['calls'] as Json[];
  chunks.forEach((chunk, i) => {
    const head = [chunk['id'], chunk['created'], chunk['object'], 'usage' in chunk];
    assert.deepEqual(head, [id, created, 'chat.completion.chunk', includeUsage], 'same id/created; usage key iff includeUsage');
    const choice = (chunk['choices'] as Json[])[0];
    if (choice === undefined) {
      assert.ok(includeUsage && i === chunks.length - 1, 'only the last chunk has choices:[]');
      acc['usage'] = chunk['usage'];
      return;
    }
    if (includeUsage) assert.equal(chunk['usage'], null);
    assert.deepEqual([choice['index'], choice['logprobs']], [0, null]);
    const delta = choice['delta'] as Json;
    assert.equal(delta['role'], i === 0 ? 'assistant' : undefined, 'role in (only) the first delta');
    if (typeof delta['content'] === 'string') acc['content'] = `${(acc['content'] as string | null) ?? ''}${delta['content']}`;
    for (const tc of (delta['tool_calls'] as Json[] | undefined) ?? []) {
      const f = tc['function'] as Json;
      const known = calls[tc['index'] as number];
      if (known === undefined) {
        assert.deepEqual([typeof tc['id'], tc['type'], typeof f['name'], f['arguments']], ['string', 'function', 'string', '']);
        calls[tc['index'] as number] = { id: tc['id'], name: f['name'], arguments: '' };
      } else {
        assert.ok(!('id' in tc) && !('name' in f));
        known['arguments'] = `${String(known['arguments'])}${String(f['arguments'])}`;
      }
    }
    if (choice['finish_reason'] !== null) {
      assert.ok(acc['finish'] === null && Object.keys(delta).length === 0, 'one finish_reason, on an empty delta');
      acc['finish'] = choice['finish_reason'];
    }
  });
  assert.notEqual(acc['finish'], null, 'final finish_reason non-null');
  return acc;
}

test('chatChunks streams text: role first, one chunk per word, usage only with includeUsage', () => {
  const reply = chatReply({ messages: [user('stream   this please')] }, 'm');
  const chunks = chatChunks(reply, 'm', 123, 'chatcmpl-s', { includeUsage: false });
  assert.deepEqual(accumulate(chunks, 'chatcmpl-s', 123, false), { content: reply.content, finish: 'stop', calls: [] });
  assert.deepEqual((chunks[0]?.['choices'] as Json[])[0]?.['delta'], { role: 'assistant', content: '' });
  const words = (reply.content ?? '').split(/\s+/).length;
  assert.ok(chunks.length === words + 2 && chunks.every((c) => c['model'] === 'm')); // role + words + finish
  const grouped = chatChunks(reply, 'm', 123, 'chatcmpl-s', { includeUsage: false, wordsPerChunk: 3 });
  assert.equal(grouped.length, Math.ceil(words / 3) + 2);
  assert.equal(accumulate(grouped, 'chatcmpl-s', 123, false)['content'], reply.content);
  assert.equal(chatChunks(reply, 'm', 1, 'i', { includeUsage: false, wordsPerChunk: 0 }).length, words + 2);

  const acc = accumulate(chatChunks(reply, 'm', 5, 'chatcmpl-u', { includeUsage: true }), 'chatcmpl-u', 5, true);
  const u = acc['usage'] as Json;
  assert.equal(acc['content'], reply.content);
  const totals = [reply.promptTokens, reply.completionTokens, reply.promptTokens + reply.completionTokens];
  assert.deepEqual([u['prompt_tokens'], u['completion_tokens'], u['total_tokens']], totals);
});

test('chatChunks keeps surrounding whitespace and handles empty or null content', () => {
  const reply = (content: string | null): SimulatedReply =>
    ({ content, toolCalls: [], finishReason: 'length', promptTokens: 1, completionTokens: 3 });
  const acc = accumulate(chatChunks(reply('  hi there \n'), 'm', 1, 'i', { includeUsage: false }), 'i', 1, false);
  assert.deepEqual([acc['content'], acc['finish']], ['  hi there \n', 'length']);
  assert.equal(chatChunks(reply(''), 'm', 1, 'i', { includeUsage: false }).length, 2);
  assert.equal(accumulate(chatChunks(reply(null), 'm', 1, 'i', { includeUsage: false }), 'i', 1, false)['content'], '');
});

test('chatChunks streams tool calls per the wire rules (alone, after text, several by index)', () => {
  const reply = chatReply({ messages: [user('What is the weather like in Boston today?')], tools: [weatherTool] }, 'm');
  const chunks = chatChunks(reply, 'm', 9, 'chatcmpl-t', { includeUsage: true });
  const first = (chunks[0]?.['choices'] as Json[])[0]?.['delta'] as Json;
  assert.deepEqual([first['role'], first['content']], ['assistant', null]);
  const acc = accumulate(chunks, 'chatcmpl-t', 9, true);
  assert.deepEqual([acc['finish'], acc['content']], ['tool_calls', null]);
  assert.deepEqual(acc['calls'], reply.toolCalls);
  assert.ok(chunks.filter((c) => /"arguments":"[^"]/.test(JSON.stringify(c))).length > 1, 'arguments arrive in pieces');

  const mixed: SimulatedReply = {
    content: 'Let me check.', finishReason: 'tool_calls', promptTokens: 1, completionTokens: 1,
    toolCalls: [{ id: 'call_a', name: 'a', arguments: `{"q":"${'🎉'.repeat(17)}"}` }, { id: 'call_b', name: 'b', arguments: '{}' }],
  };
  const both = accumulate(chatChunks(mixed, 'm', 2, 'i', { includeUsage: false }), 'i', 2, false);
  assert.deepEqual([both['content'], both['calls']], ['Let me check.', mixed.toolCalls]);
});

// ---------------------------------------------------------------- transcriptions (wire §5)

test('transcription json and verbose_json parse and mention the byte count', () => {
  const json = transcription(48000, 'clip.wav', 'json');
  assert.equal(json.contentType, 'application/json');
  assert.deepEqual(JSON.parse(json.body), {
    text: 'Simulated transcription of 48000 bytes of audio from clip.wav.', usage: { type: 'duration', seconds: 3 },
  });
  const { segments, ...verbose } = JSON.parse(transcription(40000, undefined, 'verbose_json').body) as Json;
  const text = 'Simulated transcription of 40000 bytes of audio.';
  const usage = { type: 'duration', seconds: 3 };
  assert.deepEqual(verbose, { task: 'transcribe', language: 'english', duration: 2.5, text, usage });
  assert.ok(Array.isArray(segments) && segments.length === 1);
  assert.deepEqual([segments[0]?.start, segments[0]?.end, segments[0]?.text], [0, 2.5, ` ${text}`]);
});

test('transcription diarized_json: segments with a speaker each (gpt-4o-transcribe-diarize)', () => {
  const answer = transcription(40000, 'call.wav', 'diarized_json');
  assert.equal(answer.contentType, 'application/json');
  const body = JSON.parse(answer.body) as { text: string; segments: { type: string; speaker: string; start: number; end: number; text: string }[] };
  assert.equal(body.text, 'Simulated transcription of 40000 bytes of audio from call.wav.');
  assert.deepEqual(body.segments.map((x) => [x.type, x.speaker, x.start, x.end, x.text]), [['transcript.text.segment', 'A', 0, 2.5, body.text]]);
});

test('transcription text, srt and vtt are text/plain in valid syntax; unknown formats rejected', () => {
  const plain = transcription(10, 'a.mp3', 'text');
  assert.deepEqual(plain, { contentType: 'text/plain; charset=utf-8', body: 'Simulated transcription of 10 bytes of audio from a.mp3.\n' });
  const srt = transcription(16_000 * 3725.5, undefined, 'srt');
  assert.match(srt.contentType, /^text\/plain/);
  const [index, srtTiming, srtText, ...srtRest] = srt.body.split('\n');
  assert.equal(index, '1');
  assert.match(srtTiming ?? '', /^\d{2}:\d{2}:\d{2},\d{3} --> \d{2}:\d{2}:\d{2},\d{3}$/);
  assert.deepEqual([srtTiming, srtText, srtRest], ['00:00:00,000 --> 01:02:05,500', 'Simulated transcription of 59608000 bytes of audio.', ['', '']]);
  const vtt = transcription(0, undefined, 'vtt');
  assert.match(vtt.contentType, /^text\/plain/);
  const [header, blank, vttTiming, vttText] = vtt.body.split('\n');
  assert.deepEqual([header, blank], ['WEBVTT', '']);
  assert.match(vttTiming ?? '', /^\d{2}:\d{2}:\d{2}\.\d{3} --> \d{2}:\d{2}:\d{2}\.\d{3}$/);
  assert.deepEqual([vttTiming, vttText], ['00:00:00.000 --> 00:00:00.100', 'Simulated transcription of 0 bytes of audio.']);
  assert.throws(() => transcription(1, undefined, 'docx'), invalidParam); // diarized_json is simulated now (its own test)
  assert.throws(() => transcription(1, undefined, ''), (err: unknown) => err instanceof MeshError && err.param === 'response_format');
});
