// End to end: the built dist/server.js with the repo's default mesh.yaml and no API key; the simulated provider
// (chat only) answers POST /v1/responses through translation, sync and streaming, and a two-turn conversation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postJson, request } from '../helpers/proxy.ts';
import { ROOT, cleanEnv } from '../helpers/cli.ts';
import { startServer } from '../helpers/server.ts';
import { parseSse } from '../helpers/sse-events.ts';

test('POST /v1/responses with the default mesh.yaml (simulated provider, no key)', async (t) => {
  const cwd = mkdtempSync(join(tmpdir(), 'modelmesh-e2e-responses-'));
  const server = await startServer({ path: join(ROOT, 'mesh.yaml') }, { env: cleanEnv(), cwd });
  t.after(async () => {
    await server.stop();
    rmSync(cwd, { recursive: true, force: true });
  });
  const first = await postJson(`${server.url}/v1/responses`, { model: 'text-generation', instructions: 'Short.', input: 'Hello there' });
  assert.equal(first.status, 200);
  assert.equal(first.json.object, 'response');
  assert.equal(first.json.status, 'completed');
  assert.match(first.json.output[0].content[0].text, /Hello there/);
  assert.ok(first.json.usage.output_tokens > 0);

  const second = await postJson(`${server.url}/v1/responses`, { model: 'text-generation', previous_response_id: first.json.id, input: 'Again' });
  assert.equal(second.status, 200);
  assert.equal(second.json.previous_response_id, first.json.id);
  assert.equal((await request(`${server.url}/v1/responses/${first.json.id}`)).json.id, first.json.id);

  const streamed = await postJson(`${server.url}/v1/responses`, { model: 'chat', input: 'Hi', stream: true });
  assert.equal(streamed.status, 200);
  const events = parseSse(streamed.body);
  assert.equal(events[0]?.event, 'response.created');
  assert.equal(events.at(-1)?.event, 'response.completed');
  assert.ok(!streamed.body.includes('[DONE]'));
});
