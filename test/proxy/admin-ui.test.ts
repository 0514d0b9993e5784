// GET /mesh/ui and /mesh/ui/data through the real ProxyServer: the page with its CSP and nothing external,
// the data behind the admin token and in the page's shape (fed by real requests), and both gone when the
// admin API is off.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { STATUS_PAGE_CSP } from '../../src/proxy/ui/page.ts';
import { json, startFakeUpstream } from '../helpers/fake-upstream.ts';
import { postJson, request, startProxy, type StartedProxy } from '../helpers/proxy.ts';

const ADMIN = 'admin-token-ui-123456';
const CHAT = { id: 'chatcmpl-1', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }], usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 } };

async function setup(t: TestContext, adminTokens: string[]): Promise<StartedProxy> {
  const a = await startFakeUpstream();
  const b = await startFakeUpstream();
  t.after(() => a.close());
  t.after(() => b.close());
  a.handle(json(503, { error: { message: 'overloaded', type: 'server_error', param: null, code: null } }));
  b.handle(json(200, CHAT));
  const proxy = await startProxy({
    proxy: { admin: { tokens: adminTokens } },
    providers: {
      a: { connector: 'openai.llm.v1', base_url: a.url, api_key: 'sk-a-do-not-leak-1234' },
      b: { connector: 'openai.llm.v1', base_url: b.url, api_key: 'sk-b-do-not-leak-5678' },
    },
    models: {
      'a.m': { provider: 'a', capabilities: ['chat-completion'] },
      'b.m': { provider: 'b', capabilities: ['chat-completion'] },
    },
    pools: { chat: { models: ['a.m', 'b.m'], strategy: 'modelmesh.priority-selection.v1', model_priority: ['a.m', 'b.m'], retry: { max_attempts: 1 } } },
  });
  t.after(() => proxy.close());
  return proxy;
}

test('GET /mesh/ui: the page, with its CSP, no-store and no external URL; no token needed for the document', async (t) => {
  const proxy = await setup(t, [ADMIN]);
  const page = await request(`${proxy.url}/mesh/ui`);
  assert.equal(page.status, 200);
  assert.equal(page.headers['content-type'], 'text/html; charset=utf-8');
  assert.equal(page.headers['content-security-policy'], STATUS_PAGE_CSP);
  assert.match(String(page.headers['content-security-policy']), /default-src 'none'/);
  assert.equal(page.headers['cache-control'], 'no-store');
  assert.equal(page.headers['x-frame-options'], 'DENY');
  assert.equal(Number(page.headers['content-length']), Buffer.byteLength(page.body));
  assert.match(page.body, /^<!doctype html>/);
  assert.match(page.body, /data-base="\/mesh"/);
  assert.doesNotMatch(page.body, /https?:|\/\/[a-z]/i);
  assert.ok(!page.body.includes(ADMIN));
});

test('GET /mesh/ui/data: 401 without the token or with a wrong one', async (t) => {
  const proxy = await setup(t, [ADMIN]);
  for (const headers of [{}, { authorization: 'Bearer wrong-token' }, { authorization: `Basic ${ADMIN}` }]) {
    const reply = await request(`${proxy.url}/mesh/ui/data`, { headers });
    assert.equal(reply.status, 401, JSON.stringify(headers));
    assert.equal(typeof reply.json?.error?.message, 'string');
  }
  // The token is never accepted from the URL either.
  assert.equal((await request(`${proxy.url}/mesh/ui/data?token=${ADMIN}`)).status, 401);
});

test('GET /mesh/ui/data: pools, providers, clients, series and the decisions of real requests', async (t) => {
  const proxy = await setup(t, [ADMIN]);
  assert.equal((await postJson(`${proxy.url}/v1/chat/completions`, { model: 'chat', messages: [{ role: 'user', content: 'x' }] })).status, 200);
  const reply = await request(`${proxy.url}/mesh/ui/data`, { headers: { authorization: `Bearer ${ADMIN}` } });
  assert.equal(reply.status, 200);
  assert.equal(reply.headers['cache-control'], 'no-store');
  assert.match(String(reply.headers['content-type']), /application\/json/);
  const data = reply.json as Record<string, any>;
  assert.equal(data['object'], 'mesh.ui');
  assert.deepEqual(Object.keys(data).sort(), ['clients', 'decisions', 'object', 'pools', 'providers', 'series', 'time']);
  const pool = data['pools'].find((p: { name: string }) => p.name === 'chat');
  assert.deepEqual(pool.members.map((m: { id: string }) => m.id), ['a.m', 'b.m']);
  assert.deepEqual(data['providers'].map((p: { id: string }) => p.id).sort(), ['a', 'b']);
  assert.deepEqual(data['clients'], []);
  const series = data['series']['chat'];
  assert.equal(series.bucket_ms, 60_000);
  assert.equal(series.buckets.at(-1).requests, 1);
  assert.equal(series.buckets.at(-1).errors, 0);
  const [decision] = data['decisions'];
  assert.equal(decision.pool, 'chat');
  assert.equal(decision.model, 'b.m');
  assert.equal(decision.failovers, 1);
  assert.deepEqual(decision.attempts.map((x: { status: number }) => x.status), [503, 200]);
  assert.doesNotMatch(reply.body, /do-not-leak/);
});

test('admin off: /mesh/ui and /mesh/ui/data are 404', async (t) => {
  const proxy = await setup(t, []);
  assert.equal((await request(`${proxy.url}/mesh/ui`)).status, 404);
  assert.equal((await request(`${proxy.url}/mesh/ui/data`, { headers: { authorization: `Bearer ${ADMIN}` } })).status, 404);
});
