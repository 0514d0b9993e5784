// C6: a chat `max_tokens` / `max_completion_tokens` that is not a whole number from 1 to 2^31 - 1 is a 400
// naming the param before the client is admitted: no upstream call, no rpm slot, nothing in /mesh/clients.
// (Unchecked, 1e308 went into the client's token estimate and its budget's cost estimate as is.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keyDigest } from '../../src/config/schema/clients.ts';
import { ModelMesh } from '../../src/mesh/mesh.ts';
import { ProxyServer } from '../../src/proxy/proxy-server.ts';
import { json, startFakeUpstream } from '../helpers/fake-upstream.ts';
import { errorOf, postJson, request } from '../helpers/proxy.ts';

const KEY = 'mm-app-0123456789abcdefghijklmnop';
const ADMIN = 'admin-token-0123456789';
const COMPLETION = {
  id: 'c1', object: 'chat.completion', created: 1, model: 'up-chat',
  choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 10, completion_tokens: 10, total_tokens: 20 },
};

test('chat max_tokens: huge, fractional, zero, negative or a string is a 400 before admission', async (t) => {
  const up = await startFakeUpstream();
  t.after(() => up.close());
  up.handle(json(200, COMPLETION));
  const mesh = ModelMesh.fromConfig({
    proxy: { host: '127.0.0.1', port: 0, admin: { tokens: [ADMIN] } },
    providers: { up: { connector: 'openai.llm.v1', base_url: up.url, api_key: 'sk-upstream-secret-value' } },
    models: { 'up.chat': { provider: 'up', capabilities: ['chat-completion'], pricing: { input_per_1m: 1, output_per_1m: 1 } } },
    pools: { chat: { models: ['up.chat'] } },
    // Every limit set: a bad value must reach none of them (and with them, none of the estimates).
    clients: { app: { key_sha256: keyDigest(KEY), rpm: 2, tpm: 1e12, max_concurrent: 1, budget: { daily: 1e9 } } },
  }, { env: {} });
  const server = new ProxyServer(mesh);
  await server.start();
  t.after(() => server.stop());
  const url = `http://127.0.0.1:${server.getStatus().port}`;
  const chat = (extra: Record<string, unknown>) =>
    postJson(`${url}/v1/chat/completions`, { model: 'chat', messages: [{ role: 'user', content: 'hi' }], ...extra }, { authorization: `Bearer ${KEY}` });

  const bad: [Record<string, unknown>, string][] = [
    [{ max_tokens: 1e308 }, 'max_tokens'],
    [{ max_tokens: 2 ** 31 }, 'max_tokens'],
    [{ max_tokens: 1.5 }, 'max_tokens'],
    [{ max_tokens: 0 }, 'max_tokens'],
    [{ max_tokens: -1 }, 'max_tokens'],
    [{ max_tokens: '100' }, 'max_tokens'],
    [{ max_completion_tokens: 1e308 }, 'max_completion_tokens'],
    [{ max_completion_tokens: 0.5, max_tokens: 10 }, 'max_completion_tokens'],
    // The one that wins does not hide the other: upstreams read either.
    [{ max_completion_tokens: 10, max_tokens: 1e308 }, 'max_tokens'],
  ];
  for (const [extra, param] of bad) {
    const reply = await chat(extra);
    assert.equal(reply.status, 400, JSON.stringify(extra));
    assert.deepEqual(errorOf(reply), {
      message: `Invalid value for '${param}': expected an integer from 1 to 2147483647.`, type: 'invalid_request_error', param, code: 'invalid_param',
    });
    assert.equal(reply.headers['x-ratelimit-remaining-requests'], '2', `${JSON.stringify(extra)} took an rpm slot`);
  }
  assert.equal(up.requests.length, 0);
  const status = (await request(`${url}/mesh/clients/app`, { headers: { authorization: `Bearer ${ADMIN}` } })).json;
  assert.equal(status.totals.requests, 0);
  assert.equal(status.usage.minute.requests, 0);
  assert.deepEqual(status.rejections, { rpm: 0, tpm: 0, concurrency: 0, budget: 0 });

  // The largest value, and null (absent), still pass.
  assert.equal((await chat({ max_tokens: 2 ** 31 - 1 })).status, 200);
  assert.equal((await chat({ max_tokens: null, max_completion_tokens: 64 })).status, 200);
  const sent = up.requests.map((r) => r.json as Record<string, unknown>);
  assert.equal(sent[0]?.['max_tokens'], 2 ** 31 - 1);
  assert.equal(sent[1]?.['max_completion_tokens'], 64);
});
