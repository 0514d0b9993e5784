// End to end, as a user runs it (DESIGN §10): the built `dist/server.js` as a child process with the repo's
// default mesh.yaml and no API key, so the built-in simulated provider answers embeddings, speech,
// transcriptions, translations and images. `npm test` builds first; run alone: `npx tsc -p tsconfig.json` then this file.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { ROOT, SERVER } from '../helpers/cli.ts';
import { postJson, request } from '../helpers/proxy.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';

/** Only the simulated provider, one model per capability: used when the repo has no mesh.yaml. */
const FALLBACK_CONFIG = `providers:
  sim:
    connector: modelmesh.simulated.v1
models:
  sim.embeddings: {provider: sim, capabilities: [text-embeddings]}
  sim.tts: {provider: sim, capabilities: [text-to-speech]}
  sim.stt: {provider: sim, capabilities: [speech-to-text]}
  sim.image: {provider: sim, capabilities: [text-to-image]}
`;

let server: RunningServer | undefined;
let base = '';

before(async () => {
  assert.ok(existsSync(SERVER), `${SERVER} is missing: build first (npx tsc -p tsconfig.json)`);
  // No provider keys (cleanEnv): only the simulated provider may answer, whatever the developer's shell exports.
  server = existsSync(join(ROOT, 'mesh.yaml'))
    ? await startServer({ path: join(ROOT, 'mesh.yaml') }, { cwd: ROOT })
    : await startServer({ yaml: FALLBACK_CONFIG });
  base = server.url;
});

after(async () => {
  await server?.stop();
});

test('embeddings: the base64 answer decodes (little-endian float32) to the float answer', async () => {
  const floats = await postJson(`${base}/v1/embeddings`, { model: 'embeddings', input: ['hello world', 'bye'], encoding_format: 'float' });
  assert.equal(floats.status, 200, floats.body);
  const b64 = await postJson(`${base}/v1/embeddings`, { model: 'embeddings', input: ['hello world', 'bye'], encoding_format: 'base64' });
  assert.equal(b64.status, 200, b64.body);
  assert.equal(b64.json.data.length, 2);
  for (const [i, item] of (b64.json.data as { embedding: string }[]).entries()) {
    const buf = Buffer.from(item.embedding, 'base64');
    const decoded = Array.from(new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4));
    const expected = floats.json.data[i].embedding as number[];
    assert.ok(expected.length > 0);
    assert.deepEqual(decoded, expected.map(Math.fround));
  }
  assert.ok(b64.json.usage.prompt_tokens > 0);
});

test('speech: a WAV file comes back as audio/wav', async () => {
  const { status, type, body } = await new Promise<{ status: number; type: string; body: Buffer }>((ok, fail) => {
    const req = httpRequest(`${base}/v1/audio/speech`, { method: 'POST', headers: { 'content-type': 'application/json' }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => ok({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body: Buffer.concat(chunks) }));
    });
    req.on('error', fail);
    req.end(JSON.stringify({ model: 'text-to-speech', input: 'Hello from the end-to-end test.', voice: 'alloy', response_format: 'wav' }));
  });
  assert.equal(status, 200, body.toString());
  assert.equal(type, 'audio/wav');
  assert.equal(body.toString('latin1', 0, 4), 'RIFF');
  assert.equal(body.readUInt32LE(4), body.length - 8); // RIFF chunk size matches the bytes received
  assert.equal(body.toString('latin1', 8, 16), 'WAVEfmt ');
});

function form(bytes: number, extra: Record<string, string>): { body: Buffer; type: string } {
  const boundary = 'e2eBoundary0123456789';
  const fields = Object.entries(extra).map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`).join('');
  const body = Buffer.concat([
    Buffer.from(`${fields}--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="clip.mp3"\r\nContent-Type: audio/mpeg\r\n\r\n`),
    Buffer.alloc(bytes, 0x42),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { body, type: `multipart/form-data; boundary=${boundary}` };
}

test('transcriptions and translations: the uploaded file is transcribed (the text names its size)', async () => {
  const upload = form(12_345, { model: 'speech-to-text' });
  const json = await request(`${base}/v1/audio/transcriptions`, { method: 'POST', headers: { 'content-type': upload.type }, body: upload.body });
  assert.equal(json.status, 200, json.body);
  assert.match(json.json.text, /12345 bytes/);
  const plain = form(777, { model: 'speech-to-text', response_format: 'text' });
  const text = await request(`${base}/v1/audio/translations`, { method: 'POST', headers: { 'content-type': plain.type }, body: plain.body });
  assert.equal(text.status, 200, text.body);
  assert.match(String(text.headers['content-type']), /^text\/plain/);
  assert.match(text.body, /777 bytes/);
});

test('images: b64_json holds a PNG', async () => {
  const reply = await postJson(`${base}/v1/images/generations`, { model: 'image-generation', prompt: 'a lighthouse at dusk', response_format: 'b64_json', size: '64x64' });
  assert.equal(reply.status, 200, reply.body);
  const png = Buffer.from(reply.json.data[0].b64_json as string, 'base64');
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  assert.equal(typeof reply.json.created, 'number');
});
