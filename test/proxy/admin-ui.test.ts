// GET /mesh/ui and /mesh/ui/data through the real ProxyServer: the page with its CSP and nothing external,
// the data behind the admin token and in the page's shape (fed by real requests), and both gone when the
// admin API is off.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { keyDigest } from '../../src/config/schema/clients.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { ModelMesh } from '../../src/mesh/mesh.ts';
import { ProxyServer } from '../../src/proxy/proxy-server.ts';
import { STATUS_PAGE_CSP } from '../../src/proxy/ui/page.ts';
import { json, startFakeUpstream } from '../helpers/fake-upstream.ts';
import { postJson, request, startProxy, type StartedProxy } from '../helpers/proxy.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { join } from 'node:path';

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

test('GET /mesh/ui/data: per-client usage against limits and budgets, with real client keys', async (t) => {
  const ok = await startFakeUpstream();
  const bad = await startFakeUpstream();
  t.after(() => ok.close());
  t.after(() => bad.close());
  // 1,000 prompt + 1,000 completion tokens at $5 per 1M each: $0.01 per answer.
  ok.handle(json(200, { ...CHAT, usage: { prompt_tokens: 1000, completion_tokens: 1000, total_tokens: 2000 } }));
  bad.handle(json(503, { error: { message: 'overloaded', type: 'server_error', param: null, code: null } }));
  const keys = { app: 'mm-ui-app-0123456789abcdefghijklmn', open: 'mm-ui-open-0123456789abcdefghijklm', strict: 'mm-ui-strict-0123456789abcdefghijk' };
  const mesh = ModelMesh.fromConfig({
    proxy: { host: '127.0.0.1', port: 0, admin: { tokens: [ADMIN] } },
    providers: {
      ok: { connector: 'openai.llm.v1', base_url: ok.url, api_key: 'sk-ok-do-not-leak-1234' },
      bad: { connector: 'openai.llm.v1', base_url: bad.url, api_key: 'sk-bad-do-not-leak-5678' },
    },
    models: {
      'ok.m': { provider: 'ok', capabilities: ['chat-completion'], pricing: { input_per_1m: 5, output_per_1m: 5 } },
      'bad.m': { provider: 'bad', capabilities: ['chat-completion'] },
    },
    pools: { chat: { models: ['ok.m'] }, broken: { models: ['bad.m'], retry: { max_attempts: 1 } } },
    clients: {
      app: { key_sha256: keyDigest(keys.app), rpm: 10, tpm: 100_000, max_concurrent: 4, budget: { daily: 1, monthly: 10 } },
      open: { key_sha256: keyDigest(keys.open) },
      strict: { key_sha256: keyDigest(keys.strict), rpm: 1 },
    },
  }, { env: {}, clock: new ManualClock(Date.UTC(2026, 2, 10, 12, 0, 30)) });
  const server = new ProxyServer(mesh);
  await server.start();
  t.after(() => server.stop());
  const url = `http://127.0.0.1:${server.getStatus().port}`;
  const chat = (key: string, model = 'chat') => postJson(`${url}/v1/chat/completions`, { model, messages: [{ role: 'user', content: 'hi' }] }, { authorization: `Bearer ${key}` });
  assert.equal((await chat(keys.app)).status, 200);
  assert.equal((await chat(keys.app)).status, 200);
  assert.ok((await chat(keys.open, 'broken')).status >= 500, 'every member failed');
  assert.equal((await chat(keys.strict)).status, 200);
  assert.equal((await chat(keys.strict)).status, 429, 'over its rpm');

  const reply = await request(`${url}/mesh/ui/data`, { headers: { authorization: `Bearer ${ADMIN}` } });
  assert.equal(reply.status, 200);
  const rows = new Map((reply.json as { clients: { name: string }[] }).clients.map((c) => [c.name, c]));
  assert.deepEqual([...rows.keys()].sort(), ['app', 'open', 'strict']);
  assert.deepEqual(rows.get('app'), {
    name: 'app',
    limits: { rpm: 10, tpm: 100_000, concurrent: 4, budget_daily: 1, budget_monthly: 10 },
    usage: { rpm: 2, tpm: 4_000, concurrent: 0, budget_daily: 0.02, budget_monthly: 0.02 },
    requests: 2, errors: 0, rejected: 0,
  });
  assert.deepEqual(rows.get('open'), {
    name: 'open',
    limits: { rpm: null, tpm: null, concurrent: null, budget_daily: null, budget_monthly: null },
    usage: { rpm: 1, tpm: 0, concurrent: 0, budget_daily: 0, budget_monthly: 0 },
    requests: 1, errors: 1, rejected: 0,
  });
  const strict = rows.get('strict') as { limits: Record<string, unknown>; usage: Record<string, unknown>; requests: number; rejected: number } | undefined;
  assert.equal(strict?.limits['rpm'], 1);
  assert.equal(strict?.usage['rpm'], 1, 'the refused request is not counted against the window');
  assert.equal(strict?.requests, 1);
  assert.equal(strict?.rejected, 1);
  // No key material in the page's data, in any form.
  for (const key of Object.values(keys)) {
    assert.ok(!reply.body.includes(key));
    assert.ok(!reply.body.includes(keyDigest(key)));
  }
});

test("the page's per-client requests, failures and refusals come from one source: after a restart that restored usage, none is half persisted", async (t) => {
  const dir = tempDir(t);
  const bad = await startFakeUpstream();
  t.after(() => bad.close());
  bad.handle(json(503, { error: { message: 'overloaded', type: 'server_error', param: null, code: null } }));
  const key = 'mm-ui-restart-0123456789abcdefgh';
  const raw = {
    proxy: { host: '127.0.0.1', port: 0, admin: { tokens: [ADMIN] } },
    providers: { bad: { connector: 'openai.llm.v1', base_url: bad.url, api_key: 'sk-bad-0000000000' } },
    models: { 'bad.m': { provider: 'bad', capabilities: ['chat-completion'] } },
    pools: { broken: { models: ['bad.m'], retry: { max_attempts: 1 } } },
    clients: { app: { key_sha256: keyDigest(key) } },
    storage: { path: join(dir, 'state.json'), sync_policy: 'sync-on-boundary' },
  };
  const row = async (): Promise<unknown> => {
    const server = new ProxyServer(ModelMesh.fromConfig(raw, { env: {} }));
    await server.start();
    try {
      const url = `http://127.0.0.1:${server.getStatus().port}`;
      const before = await request(`${url}/mesh/ui/data`, { headers: { authorization: `Bearer ${ADMIN}` } });
      const failed = await postJson(`${url}/v1/chat/completions`, { model: 'broken', messages: [{ role: 'user', content: 'hi' }] }, { authorization: `Bearer ${key}` });
      assert.ok(failed.status >= 500);
      const { requests, errors, rejected } = (before.json as { clients: { requests: number; errors: number; rejected: number }[] }).clients[0] ?? {};
      return { requests, errors, rejected };
    } finally {
      await server.stop(); // saves the client usage to the state file
    }
  };
  assert.deepEqual(await row(), { requests: 0, errors: 0, rejected: 0 });
  // The second process restored the first one's usage (its /mesh/clients totals say 1 request), yet the
  // page's trio is this process's, as /metrics counts: not 1 request with 0 of its failures.
  assert.deepEqual(await row(), { requests: 0, errors: 0, rejected: 0 });
});
