// End to end with the repo's default mesh.yaml and no API key (DESIGN §10): the built dist/server.js answers
// /v1/completions (sync, streaming, suffix), /v1/moderations (no model: the API default name) and
// /v1/images/edits through the simulated provider, and /v1/models lists the pools that serve them.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { postJson, request } from '../helpers/proxy.ts';
import { ROOT } from '../helpers/cli.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';

let server: RunningServer;

before(async () => {
  server = await startServer({ path: join(ROOT, 'mesh.yaml') });
});

after(async () => {
  await server.stop();
});

test('completions: text-generation answers a fill-in-the-middle request, and streams to [DONE]', async () => {
  const reply = await postJson(`${server.url}/v1/completions`, { model: 'text-generation', prompt: 'def add(a, b):', suffix: 'return c', max_tokens: 64 });
  assert.equal(reply.status, 200, reply.body);
  assert.equal(reply.json.object, 'text_completion');
  assert.equal(reply.headers['x-modelmesh-model'], 'simulated.completion');
  assert.match(reply.json.choices[0].text, /fill-in-the-middle/);
  const stream = await postJson(`${server.url}/v1/completions`, { model: 'text-generation', prompt: 'Hello', stream: true });
  assert.equal(stream.status, 200, stream.body);
  assert.ok(stream.body.endsWith('data: [DONE]\n\n'), stream.body);
  // The usage chunk was asked for upstream (accounting) but the client did not ask for it.
  assert.ok(!stream.body.includes('"choices":[]'), stream.body);
  // Chat on the same pool still goes to the chat model, not the completion-only one.
  const chat = await postJson(`${server.url}/v1/chat/completions`, { model: 'text-generation', messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(chat.headers['x-modelmesh-model'], 'simulated.chat');
});

test('moderations: a request without model is answered; only the test keyword is flagged', async () => {
  const reply = await postJson(`${server.url}/v1/moderations`, { input: ['hello there', 'modelmesh-flag'] });
  assert.equal(reply.status, 200, reply.body);
  assert.equal(reply.headers['x-modelmesh-model'], 'simulated.moderation');
  assert.deepEqual(reply.json.results.map((r: { flagged: boolean }) => r.flagged), [false, true]);
});

test('image edits: the image-generation pool answers a multipart edit with a PNG', async () => {
  const boundary = 'e2eEditBoundary';
  const field = (name: string, value: string): string => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  const body = Buffer.concat([
    Buffer.from(`${field('model', 'image-generation')}${field('prompt', 'add a hat')}${field('response_format', 'b64_json')}`),
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="in.png"\r\nContent-Type: image/png\r\n\r\n`),
    Buffer.alloc(1000, 0x89),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  const reply = await request(`${server.url}/v1/images/edits`, { method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, body });
  assert.equal(reply.status, 200, reply.body);
  const png = Buffer.from(reply.json.data[0].b64_json as string, 'base64');
  assert.equal(png.toString('latin1', 1, 4), 'PNG');
});

test('/v1/models lists the moderation pool with its aliases; the routes are served without /v1 too', async () => {
  const models = await request(`${server.url}/v1/models`);
  const ids = (models.json.data as { id: string }[]).map((m) => m.id);
  for (const id of ['moderation', 'omni-moderation-latest', 'image-generation', 'text-generation']) assert.ok(ids.includes(id), id);
  const bare = await postJson(`${server.url}/moderations`, { model: 'moderation', input: 'x' });
  assert.equal(bare.status, 200, bare.body);
});
