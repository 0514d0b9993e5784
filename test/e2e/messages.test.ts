// End to end: the built dist/server.js with the repo's default mesh.yaml and no API key; the simulated provider
// answers POST /v1/messages (a Claude model name is an alias of text-generation) sync and streaming, and
// count_tokens; an unknown model gets an Anthropic-shaped 404.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postJson } from '../helpers/proxy.ts';
import { ROOT, cleanEnv } from '../helpers/cli.ts';
import { startServer } from '../helpers/server.ts';
import { parseSse } from '../helpers/sse-events.ts';

test('POST /v1/messages with the default mesh.yaml (simulated provider, no key)', async (t) => {
  const cwd = mkdtempSync(join(tmpdir(), 'modelmesh-e2e-messages-'));
  const server = await startServer({ path: join(ROOT, 'mesh.yaml') }, { env: cleanEnv(), cwd });
  t.after(async () => {
    await server.stop();
    rmSync(cwd, { recursive: true, force: true });
  });
  const headers = { 'anthropic-version': '2023-06-01', 'x-api-key': 'anything' };
  const ask = { model: 'claude-sonnet-4', max_tokens: 64, messages: [{ role: 'user', content: 'Hello' }] };
  const sync = await postJson(`${server.url}/v1/messages`, ask, headers);
  assert.equal(sync.status, 200);
  assert.equal(sync.json.type, 'message');
  assert.equal(sync.json.model, 'claude-sonnet-4');
  assert.equal(sync.json.stop_reason, 'end_turn');
  assert.match(sync.json.content[0].text, /Hello/);

  const streamed = await postJson(`${server.url}/v1/messages`, { ...ask, stream: true }, headers);
  const events = parseSse(streamed.body);
  assert.equal(events[0]?.event, 'message_start');
  assert.equal(events.at(-1)?.event, 'message_stop');

  const count = await postJson(`${server.url}/v1/messages/count_tokens`, { model: 'claude-3-5-haiku', messages: ask.messages });
  assert.equal(count.status, 200);
  assert.equal(typeof count.json.input_tokens, 'number');

  const missing = await postJson(`${server.url}/v1/messages`, { ...ask, model: 'no-such-model' }, headers);
  assert.equal(missing.status, 404);
  assert.equal(missing.json.type, 'error');
  assert.equal(missing.json.error.type, 'not_found_error');
});
