// Session stickiness shared between instances (issue 13 §3), through the built CLI and a real redis-server:
// a session pinned through instance A keeps its model when its next request goes to instance B, and a move
// made on B (a failover) is followed by A. Each pin is formed by a failover, so it differs from the pool's
// priority order: without sharing, the other instance would answer with the first model of the pool.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream.ts';
import { postJson } from '../helpers/proxy.ts';
import { RedisServer, skipWithoutRedis } from '../helpers/redis-server.ts';
import { startCli, tempDir, writeConfig, type Running } from '../observability/spawn.ts';

/** Time for a published pin to reach the other instance (a message round trip on loopback, with margin). */
const PROPAGATE_MS = 300;

/** An upstream serving models `first` and `second`, failing (500) each request whose model is in `failOnce` once. */
async function upstream(t: TestContext): Promise<{ up: FakeUpstream; failOnce: Set<string> }> {
  const up = await startFakeUpstream();
  t.after(() => up.close());
  const failOnce = new Set<string>();
  up.handle((_req, res, recorded) => {
    const model = String((recorded.json as { model?: unknown } | undefined)?.model);
    if (failOnce.delete(model)) {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'scripted failure', type: 'server_error', param: null, code: null } }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({
      id: 'c1', object: 'chat.completion', created: 1, model,
      choices: [{ index: 0, message: { role: 'assistant', content: `from ${model}` }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
    }));
  });
  return { up, failOnce };
}

function yaml(upstreamUrl: string, redisUrl: string): string {
  return `
proxy: {host: 127.0.0.1, drain_timeout: 2s}
providers:
  up: {connector: openai.llm.v1, base_url: "${upstreamUrl}", api_key: sk-test}
models:
  up.first: {provider: up, capabilities: [chat-completion]}
  up.second: {provider: up, capabilities: [chat-completion]}
pools:
  chat:
    models: [up.first, up.second]
    strategy: modelmesh.session-stickiness.v1
    model_priority: [up.first, up.second]
    retry: {max_attempts: 1}
    deactivation: {retry_limit: 5}
storage:
  connector: modelmesh.redis.v1
  url: ${JSON.stringify(redisUrl)}
  key_prefix: "sessions:"
  flush_interval: 50ms
  connect_timeout: 1s
`;
}

async function ask(instance: Running, session: string): Promise<string | undefined> {
  const reply = await postJson(`${instance.url}/v1/chat/completions`, { model: 'chat', messages: [{ role: 'user', content: 'hi' }] }, { 'x-session-id': session });
  assert.equal(reply.status, 200, reply.body);
  const model = reply.headers['x-modelmesh-model'];
  return Array.isArray(model) ? model[0] : model;
}

test('a session pinned through one instance keeps its model on the other, and a move on the other is followed', skipWithoutRedis(), async (t) => {
  const redis = await RedisServer.start();
  t.after(() => redis.close());
  const { up, failOnce } = await upstream(t);
  const config = writeConfig(tempDir(t), yaml(up.url, redis.url()));
  const [a, b] = await Promise.all([startCli(t, config), startCli(t, config)]);

  failOnce.add('first');
  assert.equal(await ask(a, 's1'), 'up.second', 'first failed once on a: s1 is pinned to second');
  await delay(PROPAGATE_MS);
  assert.equal(await ask(b, 'fresh'), 'up.first', 'a session b has not seen takes the priority order (first is healthy)');
  assert.equal(await ask(b, 's1'), 'up.second', 'b serves s1 with the model it was pinned to on a');
  assert.equal(await ask(b, 's1'), 'up.second');

  failOnce.add('second');
  assert.equal(await ask(b, 's1'), 'up.first', 'second failed once on b: s1 moves to first');
  await delay(PROPAGATE_MS);
  assert.equal(await ask(a, 's1'), 'up.first', 'a follows the move made on b');

  // A session whose pin a made before b ever heard of it (b restarted): b reads it back in the background.
  failOnce.add('first');
  assert.equal(await ask(a, 's2'), 'up.second');
  await b.stop();
  const c = await startCli(t, config);
  await ask(c, 's2'); // a miss: the priority order answers, and the pin in Redis is read meanwhile
  await delay(PROPAGATE_MS);
  assert.equal(await ask(c, 's2'), 'up.second', 'an instance started after the pin uses it from its next request');
  assert.equal(await ask(a, 's2'), 'up.second', 'and the miss on c did not move the session');
});
