// POST /v1/images/edits through the router against scripted fake upstreams: the multipart form reaches the
// upstream intact (several image[] files, the mask, every field, in order; only `model` swapped), streaming,
// failover, eligibility reasons, 400/413/415 before anything is sent, and the simulated provider's PNG.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inflateSync } from 'node:zlib';
import { json, sse, startFakeUpstream, type FakeUpstream, type RecordedRequest } from '../../helpers/fake-upstream.ts';
import { errorOf, request, simulatedConfig, startProxy, type Reply, type StartedProxy } from '../../helpers/proxy.ts';
import { MultipartParser, parseBoundary, type FormPart } from '../../../src/lib/multipart.ts';
import type { RequestEvent } from '../../../src/mesh/events.ts';
import { startPair } from '../../helpers/pair.ts';

interface Part { name: string; value: string | Buffer; filename?: string; type?: string }

const BOUNDARY = '----EditBoundary7MA4YWxk';
/** Every byte value, repeated: binary with CR, LF and dashes in it. */
const IMAGE = Buffer.alloc(64 * 1024, Buffer.from(Array.from({ length: 256 }, (_, i) => 255 - i)));
const MASK = Buffer.alloc(2048, 0x0d);

function encode(parts: Part[]): Buffer {
  const pieces: Buffer[] = [];
  for (const p of parts) {
    const head = `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${p.name}"${p.filename === undefined ? '' : `; filename="${p.filename}"`}` +
      (p.type === undefined ? '' : `\r\nContent-Type: ${p.type}`);
    pieces.push(Buffer.from(`${head}\r\n\r\n`), typeof p.value === 'string' ? Buffer.from(p.value) : p.value, Buffer.from('\r\n'));
  }
  pieces.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return Buffer.concat(pieces);
}

const upload = (proxy: StartedProxy, parts: Part[], contentType = `multipart/form-data; boundary=${BOUNDARY}`): Promise<Reply> =>
  request(`${proxy.url}/v1/images/edits`, { method: 'POST', headers: { 'content-type': contentType }, body: encode(parts) });

function upstreamParts(seen: RecordedRequest | undefined): FormPart[] {
  assert.ok(seen !== undefined, 'upstream saw no request');
  const parser = new MultipartParser(parseBoundary(String(seen.headers['content-type'])));
  parser.push(seen.body);
  return parser.end().parts;
}

const IMG: Part = { name: 'image', value: IMAGE, filename: 'photo.png', type: 'image/png' };
const basic = (model = 'image-generation', extra: Part[] = []): Part[] => [IMG, { name: 'prompt', value: 'add a hat' }, { name: 'model', value: model }, ...extra];
const ANSWER = { created: 1, data: [{ b64_json: 'AAAA' }], usage: { input_tokens: 30, output_tokens: 200, total_tokens: 230 } };

interface Setup { a: FakeUpstream; b: FakeUpstream; proxy: StartedProxy; events: RequestEvent[] }

async function setup(t: { after: (fn: () => Promise<void>) => void }, extra: Record<string, unknown> = {}): Promise<Setup> {
  const pair = await startPair(t, {
    ...extra,
    models: {
      'a.edit-a': { provider: 'a', capabilities: ['inpainting'] },
      'b.gen-only': { provider: 'b', capabilities: ['text-to-image'] },
      'b.edit-b': { provider: 'b', capabilities: ['image-to-image'] },
    },
    pools: { 'image-generation': { models: ['a.edit-a', 'b.gen-only', 'b.edit-b'], retry: { max_attempts: 1 } } },
  });
  pair.a.handle(json(200, ANSWER));
  pair.b.handle(json(200, ANSWER));
  return { a: pair.a, b: pair.b, proxy: pair.proxy, events: pair.requests };
}

test('the form reaches the upstream intact: several image[] files, the mask, every field in order; model swapped', async (t) => {
  const { a, b, proxy, events } = await setup(t);
  const parts: Part[] = [
    { name: 'image[]', value: IMAGE, filename: 'one.png', type: 'image/png' },
    { name: 'image[]', value: Buffer.from('second image'), filename: 'two.webp', type: 'image/webp' },
    { name: 'mask', value: MASK, filename: 'mask.png', type: 'image/png' },
    { name: 'prompt', value: 'put them together' },
    { name: 'model', value: 'image-generation' },
    { name: 'n', value: '2' },
    { name: 'size', value: '1024x1024' },
    { name: 'quality', value: 'high' },
    { name: 'input_fidelity', value: 'high' },
  ];
  const reply = await upload(proxy, parts);
  assert.equal(reply.status, 200, reply.body);
  assert.equal(reply.body, JSON.stringify(ANSWER));
  assert.equal(reply.headers['x-modelmesh-model'], 'a.edit-a');
  assert.equal(a.requests[0]?.path, '/v1/images/edits');
  const seen = upstreamParts(a.requests[0]);
  assert.deepEqual(seen.map((p) => [p.name, p.filename, p.contentType]), parts.map((p) => [p.name, p.filename, p.type]));
  assert.deepEqual(seen.map((p) => p.data), parts.map((p) => (p.name === 'model' ? Buffer.from('edit-a') : Buffer.from(p.value))));
  assert.equal(b.requests.length, 0);
  assert.deepEqual([events[0]?.tokens_in, events[0]?.tokens_out], [30, 200]);
});

test('a failing first provider (500) fails over to the next edit model, skipping the generation-only one', async (t) => {
  const { a, b, proxy } = await setup(t);
  a.handle(json(500, { error: { message: 'boom' } }));
  const reply = await upload(proxy, basic());
  assert.equal(reply.status, 200);
  assert.equal(reply.headers['x-modelmesh-model'], 'b.edit-b');
  assert.equal(reply.headers['x-modelmesh-attempts'], '2');
  const seen = upstreamParts(b.requests[0]);
  assert.deepEqual(seen.find((p) => p.name === 'model')?.data, Buffer.from('edit-b'));
  assert.deepEqual(seen.find((p) => p.name === 'image')?.data, IMAGE);
});

test('stream=true relays the image_edit events; usage from image_edit.completed', async (t) => {
  const { a, proxy, events } = await setup(t);
  const stream = [
    { type: 'image_edit.partial_image', b64_json: 'AAAA', partial_image_index: 0 },
    { type: 'image_edit.completed', b64_json: 'BBBB', usage: { input_tokens: 9, output_tokens: 100, total_tokens: 109 } },
  ];
  a.handle(sse(stream, { done: false }));
  const reply = await upload(proxy, basic('image-generation', [{ name: 'stream', value: 'true' }, { name: 'partial_images', value: '1' }]));
  assert.equal(reply.status, 200);
  assert.equal(reply.body, stream.map((e) => `data: ${JSON.stringify(e)}\n\n`).join(''));
  assert.deepEqual([events[0]?.outcome, events[0]?.tokens_in, events[0]?.tokens_out], ['success', 9, 100]);
});

test('not eligible: a generation-only model and an Anthropic model, each with its reason', async (t) => {
  const up = await startFakeUpstream();
  t.after(() => up.close());
  const proxy = await startProxy({
    providers: {
      a: { connector: 'openai.llm.v1', base_url: up.url, api_key: 'k' },
      anthropic: { connector: 'anthropic.claude.v1', base_url: up.url, api_key: 'k' },
    },
    models: {
      'a.gen': { provider: 'a', capabilities: ['text-to-image'] },
      'anthropic.claude': { provider: 'anthropic', capabilities: ['image-to-image'] },
    },
    pools: { painters: { models: ['a.gen', 'anthropic.claude'] } },
  });
  t.after(() => proxy.close());
  const reply = await upload(proxy, basic('painters'));
  assert.equal(reply.status, 400, reply.body);
  const err = errorOf(reply);
  assert.match(err.message, /a\.gen: does not serve image-edits \(capabilities: generation\.image-generation\.text-to-image\)/);
  assert.match(err.message, /anthropic\.claude: its connector anthropic\.claude\.v1 does not serve image-edits/);
  assert.equal(up.requests.length, 0);
});

test('invalid requests: 400 naming the parameter, 413 past max_upload, 415 without multipart; nothing sent', async (t) => {
  const { a, b, proxy } = await setup(t, { proxy: { limits: { max_upload: '32KiB' } } });
  const small: Part = { ...IMG, value: Buffer.from('tiny png') };
  const cases: [Part[], string][] = [
    [[{ name: 'prompt', value: 'x' }, { name: 'model', value: 'image-generation' }], 'image'],
    [[{ name: 'image', value: 'not a file' }, { name: 'prompt', value: 'x' }, { name: 'model', value: 'image-generation' }], 'image'],
    [[small, { name: 'model', value: 'image-generation' }], 'prompt'],
    [[small, { name: 'prompt', value: 'x' }], 'model'],
    [[small, { name: 'prompt', value: 'x' }, { name: 'model', value: 'image-generation' }, { name: 'mask', value: 'text' }], 'mask'],
    [[small, { name: 'prompt', value: 'x' }, { name: 'model', value: 'image-generation' }, { name: 'n', value: '11' }], 'n'],
    [[small, { name: 'prompt', value: 'x' }, { name: 'model', value: 'image-generation' }, { name: 'response_format', value: 'png' }], 'response_format'],
    [[small, { name: 'prompt', value: 'x' }, { name: 'model', value: 'image-generation' }, { name: 'stream', value: 'yes' }], 'stream'],
  ];
  for (const [parts, param] of cases) {
    const reply = await upload(proxy, parts);
    assert.equal(reply.status, 400, `${param}: ${reply.body}`);
    assert.equal(errorOf(reply).param, param);
  }
  assert.equal((await upload(proxy, basic())).status, 413);
  const json415 = await upload(proxy, basic(), 'application/json');
  assert.equal(json415.status, 415);
  assert.match(errorOf(json415).message, /-F image=@photo\.png/);
  assert.equal(a.requests.length + b.requests.length, 0);
});

test('simulated: a valid PNG at the requested size, b64_json or a data: URL, another image gives another picture', async (t) => {
  const proxy = await startProxy(simulatedConfig({
    models: { 'sim.edit': { provider: 'sim', capabilities: ['image-to-image', 'inpainting'] } },
  }));
  t.after(() => proxy.close());
  const reply = await upload(proxy, basic('sim.edit', [{ name: 'size', value: '16x8' }, { name: 'response_format', value: 'b64_json' }, { name: 'n', value: '2' }]));
  assert.equal(reply.status, 200, reply.body);
  const data = reply.json.data as { b64_json: string }[];
  assert.equal(data.length, 2);
  const png = Buffer.from(data[0]?.b64_json ?? '', 'base64');
  assert.deepEqual(png.subarray(0, 8), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [16, 8]);
  const idatAt = png.indexOf('IDAT');
  const raw = inflateSync(png.subarray(idatAt + 4, idatAt + 4 + png.readUInt32BE(idatAt - 4)));
  assert.equal(raw.length, 8 * (1 + 16 * 3));

  const url = await upload(proxy, basic('sim.edit'));
  assert.match(url.json.data[0].url, /^data:image\/png;base64,/);
  const other = await upload(proxy, [{ ...IMG, value: Buffer.from('another photo') }, { name: 'prompt', value: 'add a hat' }, { name: 'model', value: 'sim.edit' }]);
  assert.notEqual(other.json.data[0].url, url.json.data[0].url);
  const same = await upload(proxy, basic('sim.edit'));
  assert.equal(same.json.data[0].url, url.json.data[0].url);
});
