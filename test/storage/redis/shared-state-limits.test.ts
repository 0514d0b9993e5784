// More of what issue 13 shares, in process against a real redis-server (two meshes, one Redis): a probe
// success on one instance reactivates the model on the other, whose own probes are off; and a provider's
// daily budget is decided on the spend of both instances (each alone stays under it).
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { json, startFakeUpstream, type FakeUpstream } from '../../helpers/fake-upstream.ts';
import { postJson, startProxy, type StartedProxy } from '../../helpers/proxy.ts';
import { RedisServer, skipWithoutRedis } from '../../helpers/redis-server.ts';
import { eventually } from '../../observability/spawn.ts';

const CHAT = { model: 'chat', messages: [{ role: 'user', content: 'hi' }] };
/** 1,000 prompt tokens at $1 per million: $0.001 a request. */
const COMPLETION = {
  id: 'c1', object: 'chat.completion', created: 1, model: 'm',
  choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 1000, completion_tokens: 0, total_tokens: 1000 },
};

async function upstream(t: TestContext): Promise<FakeUpstream> {
  const up = await startFakeUpstream();
  t.after(() => up.close());
  up.handle(json(200, COMPLETION));
  return up;
}

function config(redisUrl: string, baseUrl: string, pool: Record<string, unknown>, budget: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    providers: { up: { connector: 'openai.llm.v1', base_url: baseUrl, api_key: 'sk-test', budget } },
    models: { 'up.m': { provider: 'up', capabilities: ['chat-completion'], pricing: { input_per_1m: 1, output_per_1m: 1 } } },
    pools: { chat: { models: ['up.m'], retry: { max_attempts: 1 }, ...pool } },
    storage: { connector: 'modelmesh.redis.v1', url: redisUrl, key_prefix: 'limits:', flush_interval: '20ms', connect_timeout: '1s' },
  };
}

async function proxy(t: TestContext, raw: Record<string, unknown>): Promise<StartedProxy> {
  const started = await startProxy(raw);
  t.after(() => started.close());
  return started;
}

test('a probe success on one instance reactivates the model on the other (whose own probes are off)', skipWithoutRedis(), async (t) => {
  const redis = await RedisServer.start();
  t.after(() => redis.close());
  const good = await upstream(t);
  const broken = await startFakeUpstream();
  t.after(() => broken.close());
  broken.handle(json(503, { error: { message: 'down', type: 'server_error', param: null, code: null } }));
  good.handle(json(503, { error: { message: 'down', type: 'server_error', param: null, code: null } }));
  const deactivation = { retry_limit: 1 };
  // a probes every 100 ms; b never probes and its upstream stays broken: only a's probe can bring it back.
  const a = await proxy(t, config(redis.url(), good.url, { deactivation, recovery: { cooldown: '1h', probe_interval: '100ms' } }));
  const b = await proxy(t, config(redis.url(), broken.url, { deactivation, recovery: { cooldown: '1h' } }));
  assert.notEqual((await postJson(`${b.url}/v1/chat/completions`, CHAT)).status, 200);
  assert.equal(b.mesh.state.model('up.m').status, 'standby');
  await eventually(() => a.mesh.state.model('up.m').status === 'standby', 2000, 'a applies the standby');
  good.handle(json(200, COMPLETION));
  await eventually(() => a.mesh.state.model('up.m').status === 'active', 3000, "a's probe succeeds");
  await eventually(() => b.mesh.state.model('up.m').status === 'active', 2000, 'b follows the probe success on a');
  assert.ok(broken.requests.length === 1, 'b never probed its own upstream');
});

test("a provider's daily budget is reached on the spend of both instances, not each one's", skipWithoutRedis(), async (t) => {
  const redis = await RedisServer.start();
  t.after(() => redis.close());
  const up = await upstream(t);
  const raw = config(redis.url(), up.url, {}, { daily_limit: 0.0035 });
  const a = await proxy(t, raw);
  const b = await proxy(t, raw);
  for (const instance of [a, a]) assert.equal((await postJson(`${instance.url}/v1/chat/completions`, CHAT)).status, 200);
  await delay(100); // a few flushes: b reads back a's $0.002
  assert.equal((await postJson(`${b.url}/v1/chat/completions`, CHAT)).status, 200);
  assert.equal(b.mesh.state.provider('up').status, 'active', '$0.003 in all: under the budget');
  // b decides on the totals of its last flush plus its own counts (the documented bound): let it flush once.
  await delay(100);
  assert.ok(Math.abs(b.mesh.state.spendTotals('up').daily - 0.003) < 1e-9, 'b reads the total of both back');
  assert.equal((await postJson(`${b.url}/v1/chat/completions`, CHAT)).status, 200);
  // b spent $0.002 itself (under $0.0035 alone), $0.004 with a's: the provider goes to standby.
  const p = b.mesh.state.provider('up');
  assert.equal(p.status, 'standby', 'budget reached on the total');
  assert.equal(p.cause, 'budget');
  assert.match(p.reason ?? '', /daily budget \$0\.0035 reached \(\$0\.0040 spent/);
  assert.ok(Math.abs(b.mesh.state.provider('up').spend_daily - 0.002) < 1e-9, 'b itself spent $0.002');
  await eventually(() => a.mesh.state.provider('up').status === 'standby', 2000, 'a follows');
  const refused = await postJson(`${a.url}/v1/chat/completions`, CHAT);
  assert.notEqual(refused.status, 200, 'no more traffic to the provider on a');
});
