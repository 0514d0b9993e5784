// POST /v1/audio/transcriptions and /v1/audio/translations through the router against scripted fake
// upstreams (wire §5): the multipart form reaches the upstream intact (only `model` swapped), the upload is
// bounded (413 before anything is forwarded), text formats come back as text/plain, streaming, validation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { closedPort, json, sse, text, type Behaviour, type FakeUpstream, type RecordedRequest } from '../../helpers/fake-upstream.ts';
import { errorOf, request, type Reply, type StartedProxy } from '../../helpers/proxy.ts';
import { parseBoundary, MultipartParser, type FormPart } from '../../../src/lib/multipart.ts';
import type { RequestEvent } from '../../../src/mesh/events.ts';
import { startPair } from '../../helpers/pair.ts';

interface Part { name: string; value: string | Buffer; filename?: string; type?: string }

const BOUNDARY = '----TestBoundary7MA4YWxkTrZu0gW';
/** Every byte value, repeated: 300 KiB of audio-like binary (CR, LF, dashes included). */
const AUDIO = Buffer.alloc(300 * 1024, Buffer.from(Array.from({ length: 256 }, (_, i) => i)));

function encode(parts: Part[], boundary = BOUNDARY): Buffer {
  const pieces: Buffer[] = [];
  for (const p of parts) {
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"${p.filename === undefined ? '' : `; filename="${p.filename}"`}` +
      (p.type === undefined ? '' : `\r\nContent-Type: ${p.type}`);
    pieces.push(Buffer.from(`${head}\r\n\r\n`), typeof p.value === 'string' ? Buffer.from(p.value) : p.value, Buffer.from('\r\n'));
  }
  pieces.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(pieces);
}

const FILE: Part = { name: 'file', value: AUDIO, filename: 'meeting notes.wav', type: 'audio/wav' };
const formOf = (extra: Part[] = [], model = 'speech-to-text'): Part[] => [FILE, { name: 'model', value: model }, ...extra];

/** POSTs a multipart body, in 64 KiB chunks (sent chunked) unless `whole`. */
function upload(url: string, body: Buffer, options: { whole?: boolean; contentType?: string } = {}): Promise<Reply> {
  const chunks: Buffer[] = [];
  for (let i = 0; i < body.length; i += 65536) chunks.push(body.subarray(i, i + 65536));
  return request(url, {
    method: 'POST',
    headers: { 'content-type': options.contentType ?? `multipart/form-data; boundary=${BOUNDARY}` },
    body: options.whole === true ? body : chunks,
  });
}

/** The form an upstream received, parsed with the proxy's own parser. */
function upstreamParts(seen: RecordedRequest | undefined): FormPart[] {
  assert.ok(seen !== undefined, 'upstream saw no request');
  const parser = new MultipartParser(parseBoundary(String(seen.headers['content-type'])));
  parser.push(seen.body);
  return parser.end().parts;
}

interface Setup { a: FakeUpstream; b: FakeUpstream; proxy: StartedProxy; events: RequestEvent[] }

async function setup(t: { after: (fn: () => Promise<void>) => void }, aUrl?: string, proxyConfig: Record<string, unknown> = {}): Promise<Setup> {
  const pair = await startPair(t, {
    ...proxyConfig,
    models: {
      'a.stt-a': { provider: 'a', capabilities: ['speech-to-text'] },
      'b.stt-b': { provider: 'b', capabilities: ['speech-to-text'] },
    },
    pools: { 'speech-to-text': { models: ['a.stt-a', 'b.stt-b'], retry: { max_attempts: 1 } } },
  }, aUrl);
  const { a, b, proxy } = pair;
  const events = pair.requests;
  const answer = { text: 'hello', usage: { type: 'duration', seconds: 8.2 } };
  a.handle(json(200, answer));
  b.handle(json(200, answer));
  return { a, b, proxy, events };
}

test('the form reaches the upstream intact: file bytes, filename, type, repeated fields in order, model swapped', async (t) => {
  const { a, b, proxy, events } = await setup(t);
  const verbose = { task: 'transcribe', language: 'english', duration: 8.47, text: 'The beach', segments: [], usage: { type: 'duration', seconds: 9 } };
  a.handle(json(200, verbose));
  const extra: Part[] = [
    { name: 'response_format', value: 'verbose_json' },
    { name: 'timestamp_granularities[]', value: 'word' },
    { name: 'timestamp_granularities[]', value: 'segment' },
    { name: 'language', value: 'en' },
    { name: 'temperature', value: '0.2' },
    { name: 'custom_field', value: 'kept ✓' },
  ];
  const reply = await upload(`${proxy.url}/v1/audio/transcriptions`, encode(formOf(extra)));
  assert.equal(reply.status, 200);
  assert.deepEqual(reply.json, verbose);
  assert.match(String(reply.headers['content-type']), /^application\/json/);
  assert.equal(reply.headers['x-modelmesh-model'], 'a.stt-a');
  assert.equal(a.requests.length, 1);
  assert.equal(b.requests.length, 0);
  assert.equal(a.requests[0]?.path, '/v1/audio/transcriptions');
  assert.equal(a.requests[0]?.headers['authorization'], 'Bearer key-a');
  const parts = upstreamParts(a.requests[0]);
  assert.deepEqual(parts.map((p) => [p.name, p.filename, p.contentType]), [
    ['file', 'meeting notes.wav', 'audio/wav'],
    ['model', undefined, undefined],
    ['response_format', undefined, undefined],
    ['timestamp_granularities[]', undefined, undefined],
    ['timestamp_granularities[]', undefined, undefined],
    ['language', undefined, undefined],
    ['temperature', undefined, undefined],
    ['custom_field', undefined, undefined],
  ]);
  assert.ok(parts[0]?.data.equals(AUDIO), 'file bytes differ');
  assert.deepEqual(parts.slice(1).map((p) => p.data.toString('utf8')), ['stt-a', 'verbose_json', 'word', 'segment', 'en', '0.2', 'kept ✓']);
  // whisper bills by duration: whole seconds are recorded as prompt tokens.
  assert.equal(events[0]?.tokens_in, 9);
});

test('a failing first provider (500) rotates; a refused one too; each upstream got the whole form', async (t) => {
  const { a, b, proxy } = await setup(t);
  a.handle(json(500, { error: { message: 'boom' } }));
  const reply = await upload(`${proxy.url}/v1/audio/transcriptions`, encode(formOf()));
  assert.equal(reply.status, 200);
  assert.equal(reply.headers['x-modelmesh-model'], 'b.stt-b');
  assert.equal(reply.headers['x-modelmesh-attempts'], '2');
  assert.equal(a.requests.length, 1);
  assert.equal(b.requests.length, 1);
  assert.equal(upstreamParts(a.requests[0])[1]?.data.toString(), 'stt-a');
  const atB = upstreamParts(b.requests[0]);
  assert.equal(atB[1]?.data.toString(), 'stt-b');
  assert.ok(atB[0]?.data.equals(AUDIO));

  const again = await upload(`${(await setup(t, `http://127.0.0.1:${await closedPort()}/v1`)).proxy.url}/v1/audio/transcriptions`, encode(formOf()), { whole: true });
  assert.equal(again.status, 200);
  assert.equal(again.headers['x-modelmesh-model'], 'b.stt-b');
});

test('text, srt and vtt answers are text/plain, even when an upstream labels them JSON', async (t) => {
  const { a, proxy } = await setup(t);
  const srt = '1\n00:00:00,000 --> 00:00:01,000\nHello\n\n';
  const vtt = 'WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nHello\n\n';
  const cases: [string, Behaviour, string][] = [
    ['text', text(200, 'Hello world\n', 'text/plain; charset=utf-8'), 'Hello world\n'],
    ['srt', text(200, srt, 'application/json'), srt],
    ['vtt', text(200, vtt, 'application/json; charset=utf-8'), vtt],
    ['text', json(200, { text: 'unwrapped' }), 'unwrapped'],
  ];
  for (const [format, behaviour, expected] of cases) {
    a.handle(behaviour);
    const reply = await upload(`${proxy.url}/v1/audio/transcriptions`, encode(formOf([{ name: 'response_format', value: format }])));
    assert.equal(reply.status, 200);
    assert.match(String(reply.headers['content-type']), /^text\/plain/, format);
    assert.equal(reply.body, expected);
  }
});

test('a JSON format an upstream labels text/plain is relabelled JSON (the SDK would hand back a string); a body that is not JSON stays a failed attempt', async (t) => {
  const { a, proxy } = await setup(t);
  a.handle(text(200, JSON.stringify({ text: 'hi', duration: 2 }), 'text/plain'));
  const reply = await upload(`${proxy.url}/v1/audio/transcriptions`, encode(formOf([{ name: 'response_format', value: 'verbose_json' }])));
  assert.match(String(reply.headers['content-type']), /^application\/json/);
  assert.deepEqual(JSON.parse(reply.body), { text: 'hi', duration: 2 });
  a.handle(text(200, 'not json', 'text/plain'));
  const plain = await upload(`${proxy.url}/v1/audio/transcriptions`, encode(formOf([{ name: 'response_format', value: 'json' }])));
  assert.equal(plain.headers['x-modelmesh-model'], 'b.stt-b', 'a 2xx that is not the JSON asked for is a failed attempt (issue 11.3): failed over');
});

test('usage in tokens is recorded from a JSON answer', async (t) => {
  const { a, proxy, events } = await setup(t);
  a.handle(json(200, { text: 'hi', usage: { type: 'tokens', input_tokens: 14, input_token_details: { text_tokens: 10, audio_tokens: 4 }, output_tokens: 101, total_tokens: 115 } }));
  const reply = await upload(`${proxy.url}/v1/audio/transcriptions`, encode(formOf()));
  assert.equal(reply.status, 200);
  assert.deepEqual([events[0]?.tokens_in, events[0]?.tokens_out], [14, 101]);
});

test('an upload past max_upload is refused with 413 and nothing reaches any upstream', async (t) => {
  const { a, b, proxy } = await setup(t);
  const big = encode(formOf().map((p) => (p.name === 'file' ? { ...p, value: Buffer.alloc(26 * 1024 * 1024, 7) } : p)));
  // Declared length: refused before a byte of the body is read.
  const declared = await postTolerant(`${proxy.url}/v1/audio/transcriptions`, big, true);
  assert.equal(declared.status, 413);
  assert.equal(errorOf(declared).code, 'body_too_large');
  assert.equal(declared.headers['connection'], 'close');
  assert.equal(declared.uploadFinished, false);
  // Chunked: refused the moment the running count passes the limit.
  const started = performance.now();
  const chunked = await postTolerant(`${proxy.url}/v1/audio/transcriptions`, big, false);
  assert.equal(chunked.status, 413);
  t.diagnostic(`chunked 26 MiB upload refused after ${(performance.now() - started).toFixed(0)} ms`);
  assert.equal(a.requests.length + b.requests.length, 0);
  assert.equal(a.connections + b.connections, 0);
});

test('max_upload is configurable; a chunked upload is not read past it', async (t) => {
  const { a, proxy } = await setup(t, undefined, { proxy: { limits: { max_upload: '100KiB' } } });
  const reply = await postTolerant(`${proxy.url}/v1/audio/transcriptions`, encode(formOf()), false);
  assert.equal(reply.status, 413);
  // 20 MiB past a 100 KiB limit: far more than the socket buffers hold, so the upload can only have been
  // written in full if the proxy kept reading it.
  const big = encode(formOf().map((p) => (p.name === 'file' ? { ...p, value: Buffer.alloc(20 * 1024 * 1024, 7) } : p)));
  const chunked = await postTolerant(`${proxy.url}/v1/audio/transcriptions`, big, false);
  assert.equal(chunked.status, 413);
  assert.equal(chunked.uploadFinished, false);
  assert.equal(a.requests.length, 0);
});

/** Sends a big body; resolves with the response even if the proxy stops reading (and closes) mid-upload.
 * `uploadFinished`: the whole body was written before the response (impossible past the socket buffers unless read). */
function postTolerant(url: string, body: Buffer, declared: boolean): Promise<Reply & { uploadFinished: boolean }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` };
    if (declared) headers['content-length'] = body.length;
    let finished = false;
    const req = httpRequest(url, { method: 'POST', headers, agent: false }, (res) => {
      const uploadFinished = finished;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, json: JSON.parse(text), uploadFinished });
      });
    });
    req.on('error', (err) => setTimeout(() => reject(err), 1000)); // EPIPE once the proxy closes: the response wins
    const step = 1024 * 1024;
    let i = 0;
    const pump = (): void => {
      while (i < body.length) {
        const ok = req.write(body.subarray(i, i + step));
        i += step;
        if (!ok) return void req.once('drain', pump);
      }
      req.end(() => (finished = true));
    };
    pump();
  });
}

test('not multipart: 415 with a clear message; malformed multipart: 400 invalid_multipart', async (t) => {
  const { a, b, proxy } = await setup(t);
  const asJson = await request(`${proxy.url}/v1/audio/transcriptions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":"speech-to-text"}' });
  assert.equal(asJson.status, 415);
  assert.equal(errorOf(asJson).code, 'unsupported_media_type');
  assert.match(errorOf(asJson).message, /multipart\/form-data/);
  const none = await request(`${proxy.url}/v1/audio/transcriptions`, { method: 'POST', body: 'x' });
  assert.equal(none.status, 415);

  const noBoundary = await upload(`${proxy.url}/v1/audio/transcriptions`, encode(formOf()), { contentType: 'multipart/form-data' });
  assert.equal(noBoundary.status, 400);
  assert.equal(errorOf(noBoundary).code, 'invalid_multipart');
  assert.match(errorOf(noBoundary).message, /boundary/);
  const body = encode(formOf());
  const truncated = await upload(`${proxy.url}/v1/audio/transcriptions`, body.subarray(0, body.length - 30));
  assert.equal(truncated.status, 400);
  assert.match(errorOf(truncated).message, /closing boundary/);
  const noDisposition = Buffer.from(`--${BOUNDARY}\r\nContent-Type: text/plain\r\n\r\nx\r\n--${BOUNDARY}--\r\n`);
  const bad = await upload(`${proxy.url}/v1/audio/transcriptions`, noDisposition);
  assert.equal(bad.status, 400);
  assert.match(errorOf(bad).message, /Content-Disposition/);
  assert.equal(a.requests.length + b.requests.length, 0);
});

test('invalid forms: 400 naming the parameter, nothing sent upstream', async (t) => {
  const { a, b, proxy } = await setup(t);
  const cases: [Part[], string][] = [
    [[{ name: 'model', value: 'speech-to-text' }], 'file'],
    [[{ name: 'file', value: 'not a file' }, { name: 'model', value: 'speech-to-text' }], 'file'],
    [[FILE], 'model'],
    [[FILE, { name: 'model', value: '' }], 'model'],
    [formOf([{ name: 'response_format', value: 'mp3' }]), 'response_format'],
    [formOf([{ name: 'stream', value: 'yes' }]), 'stream'],
    [formOf([{ name: 'temperature', value: '1.5' }]), 'temperature'],
    [formOf([{ name: 'temperature', value: 'hot' }]), 'temperature'],
    // Given twice: we would read the first, an upstream (FastAPI, vLLM) the last.
    [formOf([{ name: 'response_format', value: 'json' }, { name: 'response_format', value: 'text' }]), 'response_format'],
    [formOf([{ name: 'stream', value: 'false' }, { name: 'stream', value: 'true' }]), 'stream'],
    [[FILE, { name: 'model', value: 'speech-to-text' }, { name: 'model', value: 'other' }], 'model'],
    [formOf([{ name: 'temperature', value: '' }]), 'temperature'],
  ];
  for (const [parts, param] of cases) {
    const reply = await upload(`${proxy.url}/v1/audio/transcriptions`, encode(parts));
    assert.equal(reply.status, 400, param);
    assert.equal(errorOf(reply).param, param);
  }
  assert.equal(a.requests.length + b.requests.length, 0);
});

test('stream=true relays the transcript events; usage from transcript.text.done', async (t) => {
  const { a, proxy, events } = await setup(t);
  const stream = [
    { type: 'transcript.text.delta', delta: 'Hello' },
    { type: 'transcript.text.delta', delta: ' world' },
    { type: 'transcript.text.done', text: 'Hello world', usage: { type: 'tokens', input_tokens: 30, output_tokens: 4, total_tokens: 34 } },
  ];
  a.handle(sse(stream, { done: false, interval: 5 }));
  const reply = await upload(`${proxy.url}/v1/audio/transcriptions`, encode(formOf([{ name: 'stream', value: 'true' }])));
  assert.equal(reply.status, 200);
  assert.match(String(reply.headers['content-type']), /^text\/event-stream/);
  assert.equal(reply.body, stream.map((e) => `data: ${JSON.stringify(e)}\n\n`).join(''));
  assert.equal(upstreamParts(a.requests[0]).find((p) => p.name === 'stream')?.data.toString(), 'true');
  assert.deepEqual([events[0]?.outcome, events[0]?.stream, events[0]?.tokens_in, events[0]?.tokens_out], ['success', true, 30, 4]);
});

test('stream=true answered whole (whisper-1 ignores it): the JSON is relayed as OpenAI sends it, a success, the model never put in standby', async (t) => {
  const { a, b, proxy, events } = await setup(t);
  for (let i = 0; i < 4; i++) {
    const reply = await upload(`${proxy.url}/v1/audio/transcriptions`, encode(formOf([{ name: 'stream', value: 'true' }])));
    assert.equal(reply.status, 200, reply.body);
    assert.match(String(reply.headers['content-type']), /^application\/json/);
    assert.deepEqual(JSON.parse(reply.body), { text: 'hello', usage: { type: 'duration', seconds: 8.2 } });
  }
  assert.equal(a.requests.length, 4, 'every request on the first model: no failure, no rotation');
  assert.equal(b.requests.length, 0);
  assert.ok(events.every((e) => e.outcome === 'success'));
  assert.equal(proxy.mesh.state.model('a.stt-a').status, 'active');
});

test('translations: same form handling, forwarded to /audio/translations', async (t) => {
  const { a, proxy } = await setup(t);
  a.handle(text(200, 'Bonjour -> Hello\n', 'text/plain'));
  const reply = await upload(`${proxy.url}/v1/audio/translations`, encode(formOf([{ name: 'response_format', value: 'text' }])));
  assert.equal(reply.status, 200);
  assert.equal(reply.body, 'Bonjour -> Hello\n');
  assert.equal(a.requests[0]?.path, '/v1/audio/translations');
  assert.ok(upstreamParts(a.requests[0])[0]?.data.equals(AUDIO));
  const missing = await upload(`${proxy.url}/v1/audio/translations`, encode([FILE]));
  assert.equal(errorOf(missing).param, 'model');
});
