import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { test, type TestContext } from 'node:test';
import { ModelMesh } from '../../src/mesh/mesh.ts';
import type { RequestContext } from '../../src/proxy/context.ts';
import { adminRouteDefs } from '../../src/proxy/endpoints/admin.ts';
import { Pipeline } from '../../src/proxy/pipeline.ts';
import { ProxyServer } from '../../src/proxy/proxy-server.ts';
import { sendError } from '../../src/proxy/respond.ts';
import { routeDefs } from '../../src/proxy/route-list.ts';
import { isMatch, RouteTable } from '../../src/proxy/route-table.ts';
import type { ServerView } from '../../src/proxy/server-view.ts';
import { json, startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream.ts';
import { closeServer, listen } from '../helpers/listen.ts';
import { errorOf, postJson, request } from '../helpers/proxy.ts';

const SECRET = 'sk-live-9f8e7d6c5b4a-do-not-leak';
const ADMIN = 'admin-token-123456';
const CHAT = { id: 'chatcmpl-1', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }], usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 } };

interface Harness {
  url: string;
  mesh: ModelMesh;
}

type Start = (t: TestContext, raw: Record<string, unknown>, env: Record<string, string>) => Promise<Harness>;

const VIEW: ServerView = {
  listening: true, draining: false,
  getStatus: () => ({ running: true, host: '127.0.0.1', port: 0, uptime_seconds: 0, active_connections: 0, total_requests: 0 }),
};

/** The real ProxyServer (admin routes as wired by routes-table.ts). */
const proxyServer: Start = async (t, raw, env) => {
  const mesh = ModelMesh.fromConfig({ ...raw, proxy: { host: '127.0.0.1', port: 0, ...(raw['proxy'] as object) } }, { env });
  const server = new ProxyServer(mesh);
  await server.start();
  t.after(() => server.stop());
  return { url: `http://127.0.0.1:${server.getStatus().port}`, mesh };
};

/**
 * The admin handlers on their own (their token check included), mounted WITHOUT the pipeline's admin
 * auth; every other path goes through the real pipeline. Proves the handlers stay closed by themselves.
 */
const handlersOnly: Start = async (t, raw, env) => {
  const mesh = ModelMesh.fromConfig({ ...raw, proxy: { host: '127.0.0.1', port: 0, ...(raw['proxy'] as object) } }, { env });
  t.after(() => mesh.shutdown());
  const pipeline = new Pipeline(mesh, VIEW);
  const admin = new RouteTable(adminRouteDefs().map((d) => ({ ...d, auth: 'none' as const })));
  const server = createServer((req, res) => {
    const match = admin.match(req.method ?? 'GET', (req.url ?? '/').split('?')[0] ?? '/');
    if (!isMatch(match)) return void pipeline.handle(req, res);
    const baseHeaders = { 'x-request-id': 'req_admin' };
    const ctx: RequestContext = {
      req, res, mesh: mesh.view(), requestId: 'req_admin', params: match.params, signal: new AbortController().signal,
      startedAt: performance.now(), logger: mesh.logger, baseHeaders, admissionHeaders: () => baseHeaders,
      trace: null, client: null, requested: null, admission: null,
    };
    match.handler(ctx).catch((err: unknown) => sendError(ctx, err));
  });
  const url = await listen(server);
  t.after(() => closeServer(server));
  return { url, mesh };
};

async function setup(t: TestContext, start: Start, adminTokens: string[]): Promise<Harness & { a: FakeUpstream; b: FakeUpstream }> {
  const a = await startFakeUpstream();
  const b = await startFakeUpstream();
  t.after(() => a.close());
  t.after(() => b.close());
  a.handle(json(200, CHAT));
  b.handle(json(200, CHAT));
  const raw = {
    proxy: { admin: { tokens: adminTokens } },
    providers: {
      a: { connector: 'openai.llm.v1', base_url: a.url, api_key: '${secrets:A_KEY}', headers: { 'x-extra-auth': '${secrets:A_KEY}' }, budget: { daily_limit: 5 } },
      b: { connector: 'openai.llm.v1', base_url: b.url, api_key: 'sk-b-plain' },
    },
    models: {
      'a.m': { provider: 'a', capabilities: ['chat-completion'], pricing: { input_per_1m: 1, output_per_1m: 2 } },
      'b.m': { provider: 'b', capabilities: ['chat-completion'] },
    },
    pools: { p: { models: ['a.m', 'b.m'], strategy: 'priority-selection' } },
  };
  return { ...(await start(t, raw, { A_KEY: SECRET })), a, b };
}

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });
const chat = (url: string) => postJson(`${url}/v1/chat/completions`, { model: 'p', messages: [{ role: 'user', content: 'hi' }] });

function wired(): boolean {
  const mesh = ModelMesh.fromConfig({ proxy: { admin: { tokens: [ADMIN] } } }, { env: {} });
  return routeDefs(mesh.config.proxy, VIEW).some((d) => d.path === '/mesh/status');
}

const HARNESSES: [string, Start, string | false][] = [
  ['admin handlers', handlersOnly, false],
  ['proxy server', proxyServer, wired() ? false : 'admin routes not wired into src/proxy/routes-table.ts yet'],
];

for (const [name, start, skip] of HARNESSES) {
  test(`${name}: disabled (404 as an unknown route) when proxy.admin.tokens is empty`, { skip }, async (t) => {
    const { url } = await setup(t, start, []);
    for (const [method, path] of [['GET', '/mesh/status'], ['POST', '/mesh/models/a.m/deactivate']] as const) {
      const reply = await request(`${url}${path}`, { method, headers: bearer(ADMIN) });
      assert.equal(reply.status, 404, path);
      assert.equal(errorOf(reply).code, 'not_found');
    }
  });

  test(`${name}: refused without its token, or with the wrong one (401)`, { skip }, async (t) => {
    const { url } = await setup(t, start, [ADMIN]);
    for (const headers of [{}, bearer('wrong-token'), { authorization: `Basic ${ADMIN}` }]) {
      const reply = await request(`${url}/mesh/status`, { headers });
      assert.equal(reply.status, 401);
      assert.equal(errorOf(reply).code, 'invalid_api_key');
      assert.ok(!reply.body.includes(ADMIN));
    }
    const denied = await request(`${url}/mesh/models/a.m/deactivate`, { method: 'POST' });
    assert.equal(denied.status, 401);
  });

  test(`${name}: GET /mesh/status shows pools, models and providers and never a secret`, { skip }, async (t) => {
    const { url, a } = await setup(t, start, [ADMIN]);
    assert.equal((await chat(url)).status, 200);
    assert.equal(a.requests[0]?.headers.authorization, `Bearer ${SECRET}`, 'the secret is in use');
    const reply = await request(`${url}/mesh/status`, { headers: bearer(ADMIN) });
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['cache-control'], 'no-store');
    assert.ok(!reply.body.includes(SECRET), 'no secret value');
    assert.ok(!reply.body.includes('sk-b-plain'), 'no api_key at all, even one written in clear');
    assert.ok(!reply.body.includes(ADMIN));
    const status = reply.json;
    assert.equal(status.object, 'mesh.status');
    const pool = status.pools.find((p: { name: string }) => p.name === 'p');
    assert.deepEqual(pool, { name: 'p', capability: null, aliases: [], strategy: 'modelmesh.priority-selection.v1', fallback_strategy: null, members: ['a.m', 'b.m'], available: 2, standby: 0 });
    const model = status.models.find((m: { id: string }) => m.id === 'a.m');
    assert.equal(model.status, 'active');
    assert.equal(model.available, true);
    assert.equal(model.window.requests, 1);
    assert.equal(model.window.tokens, 4);
    assert.equal(typeof model.latency_ewma_ms, 'number');
    const provider = status.providers.find((p: { id: string }) => p.id === 'a');
    assert.equal(provider.status, 'active');
    assert.equal(provider.spend.daily_limit, 5);
    assert.ok(provider.spend.daily > 0);
    assert.equal(provider.base_url, a.url);
    assert.equal('api_key' in provider, false);
    assert.equal('headers' in provider, false);
  });

  test(`${name}: a manual deactivate takes effect on the next request; activate restores`, { skip }, async (t) => {
    const { url, mesh } = await setup(t, start, [ADMIN]);
    assert.equal((await chat(url)).headers['x-modelmesh-model'], 'a.m');
    const off = await request(`${url}/mesh/models/a.m/deactivate`, { method: 'POST', headers: bearer(ADMIN) });
    assert.equal(off.status, 200);
    assert.equal(off.json.object, 'mesh.model');
    assert.equal(off.json.status, 'standby');
    assert.equal(off.json.reason, 'manual');
    assert.equal(off.json.until, null);
    assert.equal((await chat(url)).headers['x-modelmesh-model'], 'b.m');
    assert.equal(mesh.state.model('a.m').manual, true);
    const on = await request(`${url}/mesh/models/a.m/activate`, { method: 'POST', headers: bearer(ADMIN) });
    assert.equal(on.json.status, 'active');
    assert.equal((await chat(url)).headers['x-modelmesh-model'], 'a.m');
  });

  test(`${name}: provider deactivate / activate, and 404 for unknown ids`, { skip }, async (t) => {
    const { url } = await setup(t, start, [ADMIN]);
    const off = await request(`${url}/mesh/providers/a/deactivate`, { method: 'POST', headers: bearer(ADMIN) });
    assert.equal(off.status, 200);
    assert.equal(off.json.object, 'mesh.provider');
    assert.equal(off.json.status, 'standby');
    assert.ok(!off.body.includes(SECRET));
    assert.equal((await chat(url)).headers['x-modelmesh-model'], 'b.m');
    const status = (await request(`${url}/mesh/status`, { headers: bearer(ADMIN) })).json;
    assert.equal(status.models.find((m: { id: string }) => m.id === 'a.m').available, false);
    await request(`${url}/mesh/providers/a/activate`, { method: 'POST', headers: bearer(ADMIN) });
    assert.equal((await chat(url)).headers['x-modelmesh-model'], 'a.m');

    const one = await request(`${url}/mesh/models/b.m`, { headers: bearer(ADMIN) });
    assert.equal(one.json.object, 'mesh.model');
    assert.equal(one.json.id, 'b.m');
    const list = await request(`${url}/mesh/providers`, { headers: bearer(ADMIN) });
    assert.deepEqual(list.json.data.map((p: { id: string }) => p.id), ['a', 'b']);
    assert.ok(!list.body.includes(SECRET));
    assert.equal((await request(`${url}/mesh/providers/b`, { headers: bearer(ADMIN) })).json.id, 'b');
    assert.equal((await request(`${url}/mesh/models`, { headers: bearer(ADMIN) })).json.data.length, 2);
    assert.equal((await request(`${url}/mesh/models/nope.x`, { headers: bearer(ADMIN) })).status, 404);

    const noModel = await request(`${url}/mesh/models/nope.x/activate`, { method: 'POST', headers: bearer(ADMIN) });
    assert.equal(noModel.status, 404);
    assert.equal(errorOf(noModel).code, 'model_not_found');
    const noProvider = await request(`${url}/mesh/providers/nope/deactivate`, { method: 'POST', headers: bearer(ADMIN) });
    assert.equal(noProvider.status, 404);
    assert.equal(errorOf(noProvider).code, 'not_found');
  });
}
