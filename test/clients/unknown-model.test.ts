// A client naming a model the config does not have (C2, C3): the 404 comes before admission, for a client
// with an allow-list and one without alike. It takes no rpm slot and is not a request of the client; it is
// one `model_not_allowed` rejection in /metrics (the reason every pre-routing 404 of a client counts under),
// and /mesh/clients/{name} and /metrics agree on it. The upstream never sees it.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { keyDigest } from '../../src/config/schema/clients.ts';
import { ModelMesh } from '../../src/mesh/mesh.ts';
import { ProxyServer } from '../../src/proxy/proxy-server.ts';
import { json, startFakeUpstream } from '../helpers/fake-upstream.ts';
import { errorOf, postJson, request, type Reply } from '../helpers/proxy.ts';

const KEYS = { open: 'mm-open-0123456789abcdefghijklmnop', narrow: 'mm-narrow-0123456789abcdefghijklmn' };
/** /metrics is read with a key of its own, so reading it touches neither client. */
const READER = 'mm-reader-0123456789abcdefghijklmn';
const ADMIN = 'admin-token-0123456789';

const COMPLETION = {
  id: 'c1', object: 'chat.completion', created: 1, model: 'up-chat',
  choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 10, completion_tokens: 10, total_tokens: 20 },
};

async function start(t: TestContext) {
  const up = await startFakeUpstream();
  t.after(() => up.close());
  up.handle(json(200, COMPLETION));
  const mesh = ModelMesh.fromConfig({
    proxy: { host: '127.0.0.1', port: 0, admin: { tokens: [ADMIN] }, metrics: true },
    providers: { up: { connector: 'openai.llm.v1', base_url: up.url, api_key: 'sk-upstream-secret-value' } },
    models: { 'up.chat': { provider: 'up', capabilities: ['chat-completion'] } },
    pools: { chat: { models: ['up.chat'] } },
    clients: {
      open: { key_sha256: keyDigest(KEYS.open), rpm: 1 },
      narrow: { key_sha256: keyDigest(KEYS.narrow), pools: ['chat'], rpm: 1 },
      reader: { key_sha256: keyDigest(READER) },
    },
  }, { env: {} });
  const server = new ProxyServer(mesh);
  await server.start();
  t.after(() => server.stop());
  const url = `http://127.0.0.1:${server.getStatus().port}`;
  const chat = (key: string, model: string): Promise<Reply> =>
    postJson(`${url}/v1/chat/completions`, { model, messages: [{ role: 'user', content: 'hi' }] }, { authorization: `Bearer ${key}` });
  const admin = async (path: string): Promise<Reply> =>
    request(`${url}${path}`, { headers: { authorization: `Bearer ${path === '/metrics' ? READER : ADMIN}` } });
  return { up, chat, admin };
}

/** What /mesh/clients/{name} and /metrics say of `name`'s requests, side by side. */
async function counted(admin: (path: string) => Promise<Reply>, name: string) {
  const status = (await admin(`/mesh/clients/${name}`)).json;
  const metrics = (await admin('/metrics')).body;
  const sample = (family: string, labels: string): number => {
    const line = metrics.split('\n').find((l) => l.startsWith(`${family}{client="${name}",${labels}} `));
    return Number(line?.split(' ')[1] ?? NaN);
  };
  return {
    status: { requests: status.totals.requests, minute: status.usage.minute.requests, concurrent: status.usage.concurrent, rejections: status.rejections },
    metrics: {
      requests: ['success', 'failure', 'cancelled'].reduce((n, o) => n + sample('modelmesh_client_requests_total', `outcome="${o}"`), 0),
      notAllowed: sample('modelmesh_client_rejections_total', 'reason="model_not_allowed"'),
    },
  };
}

test('an unknown model is a 404 before admission, with or without an allow-list: no rpm slot, counted alike', async (t) => {
  const { up, chat, admin } = await start(t);
  for (const name of ['open', 'narrow'] as const) {
    const unknown = await chat(KEYS[name], 'no-such-model');
    assert.equal(unknown.status, 404, name);
    assert.equal(errorOf(unknown).code, 'model_not_found');
    assert.equal(errorOf(unknown).param, 'model');
    // The answer's x-ratelimit-* are those of a client that has used nothing this minute.
    assert.equal(unknown.headers['x-ratelimit-remaining-requests'], '1', `${name}: the 404 took an rpm slot`);
    assert.deepEqual(await counted(admin, name), {
      status: { requests: 0, minute: 0, concurrent: 0, rejections: { rpm: 0, tpm: 0, concurrency: 0, budget: 0 } },
      metrics: { requests: 0, notAllowed: 1 },
    }, name);
    // The one request rpm allows is still there.
    const ok = await chat(KEYS[name], 'chat');
    assert.equal(ok.status, 200, `${name}: ${ok.body}`);
    assert.equal(ok.headers['x-ratelimit-remaining-requests'], '0');
    assert.deepEqual(await counted(admin, name), {
      status: { requests: 1, minute: 1, concurrent: 0, rejections: { rpm: 0, tpm: 0, concurrency: 0, budget: 0 } },
      metrics: { requests: 1, notAllowed: 1 },
    }, name);
  }
  assert.equal(up.requests.length, 2); // the two 200s; no 404 reached the upstream
});

test('a client without an allow-list still gets the router\'s 404, naming what exists', async (t) => {
  const { chat } = await start(t);
  const unknown = await chat(KEYS.open, 'chta');
  assert.equal(unknown.status, 404);
  assert.match(errorOf(unknown).message, /^The model `chta` does not exist\. Did you mean `chat`\?/);
  // A client with an allow-list is told nothing about what exists beyond it.
  const narrow = await chat(KEYS.narrow, 'chta');
  assert.equal(errorOf(narrow).message, 'The model `chta` does not exist or you do not have access to it.');
});
