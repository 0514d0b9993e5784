// Several instances, one state (issue 13), through the built CLI and a real redis-server: two proxy processes
// sharing one Redis avoid a model the other put in standby and follow each other's admin actions; a shared
// request limit of 100 holds within the documented overshoot bound; Redis killed and restarted under load
// fails no request; --check tells a wrong password from a right one without printing it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test, type TestContext } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { closedPort } from '../helpers/fake-upstream.ts';
import { postJson, request } from '../helpers/proxy.ts';
import { RedisServer, skipWithoutRedis } from '../helpers/redis-server.ts';
import { SERVER } from '../helpers/cli.ts';
import { eventually, startCli, tempDir, writeConfig, type Running } from '../observability/spawn.ts';

const CHAT = { model: 'chat', messages: [{ role: 'user', content: 'hi' }] };
const FLUSH_MS = 50;
const ADMIN = { authorization: 'Bearer adm-token' };

async function redis(t: TestContext, options: { password?: string } = {}): Promise<RedisServer> {
  const server = await RedisServer.start(options);
  t.after(() => server.close());
  return server;
}

function storage(url: string, extra = ''): string {
  return `storage:
  connector: modelmesh.redis.v1
  url: ${JSON.stringify(url)}
  key_prefix: "test:"
  flush_interval: ${FLUSH_MS}ms
  connect_timeout: 1s
${extra}`;
}

async function failoverYaml(url: string): Promise<string> {
  return `
proxy: {host: 127.0.0.1, drain_timeout: 2s, metrics: true, admin: {tokens: [adm-token]}}
providers:
  down: {connector: openai.llm.v1, base_url: "http://127.0.0.1:${await closedPort()}/v1", api_key: sk-test}
  sim: {connector: modelmesh.simulated.v1}
models:
  down.gpt: {provider: down, capabilities: [chat-completion]}
  sim.chat: {provider: sim, capabilities: [chat-completion]}
pools:
  chat:
    models: [down.gpt, sim.chat]
    strategy: modelmesh.priority-selection.v1
    model_priority: [down.gpt, sim.chat]
    retry: {max_attempts: 1}
    deactivation: {retry_limit: 1}
    recovery: {cooldown: 1h}
${storage(url)}`;
}

function limitYaml(url: string, limit: number): string {
  return `
proxy: {host: 127.0.0.1, drain_timeout: 2s, metrics: true, admin: {tokens: [adm-token]}}
providers:
  sim: {connector: modelmesh.simulated.v1}
models:
  sim.chat: {provider: sim, capabilities: [chat-completion]}
pools:
  chat:
    models: [sim.chat]
    deactivation: {request_limit: ${limit}, quota_window: daily}
${storage(url)}`;
}

async function status(url: string, id: string): Promise<string> {
  const res = await request(`${url}/v1/models/chat`);
  const found = (res.json.modelmesh.members as { id: string; status: string }[]).find((m) => m.id === id);
  return found?.status ?? 'missing';
}

async function pair(t: TestContext, yaml: string): Promise<[Running, Running]> {
  const config = writeConfig(tempDir(t), yaml);
  return Promise.all([startCli(t, config), startCli(t, config)]);
}

test('a model driven into standby through one instance is avoided by the other; admin activate acts on both', skipWithoutRedis(), async (t) => {
  const server = await redis(t);
  const [a, b] = await pair(t, await failoverYaml(server.url()));
  const first = await postJson(`${a.url}/v1/chat/completions`, CHAT);
  assert.equal(first.headers['x-modelmesh-model'], 'sim.chat', 'down.gpt failed over on a');
  const started = Date.now();
  await eventually(async () => (await status(b.url, 'down.gpt')) === 'standby', 2000, 'b sees the standby');
  assert.ok(Date.now() - started < 1500, 'within about a second');
  const routed = await postJson(`${b.url}/v1/chat/completions`, CHAT);
  assert.equal(routed.status, 200);
  assert.equal(routed.headers['x-modelmesh-attempts'], '1', 'b does not try the model a found broken');

  const activated = await request(`${b.url}/mesh/models/down.gpt/activate`, { method: 'POST', headers: ADMIN });
  assert.equal(activated.status, 200, activated.body);
  await eventually(async () => (await status(a.url, 'down.gpt')) === 'active', 2000, 'a follows the admin activation on b');
  const deactivated = await request(`${a.url}/mesh/models/sim.chat/deactivate`, { method: 'POST', headers: ADMIN });
  assert.equal(deactivated.status, 200, deactivated.body);
  await eventually(async () => (await status(b.url, 'sim.chat')) === 'standby', 2000, 'b follows the manual deactivation on a');
});

test('two instances sharing a request limit of 100: 400 requests spread over both, 100..100+bound accepted', skipWithoutRedis(), async (t) => {
  const server = await redis(t);
  const [a, b] = await pair(t, limitYaml(server.url(), 100));
  // One request every 5 ms, alternating: each instance takes 100 requests/s. The documented bound is
  // (N-1) x what one other instance accepts in two flush intervals: 1 x 100/s x 2 x 50 ms = 10 (+ 2 for a round trip).
  const bound = 12;
  const replies: Promise<number>[] = [];
  for (let i = 0; i < 400; i++) {
    replies.push(postJson(`${(i % 2 === 0 ? a : b).url}/v1/chat/completions`, CHAT).then((r) => r.status));
    await delay(5);
  }
  const statuses = await Promise.all(replies);
  const accepted = statuses.filter((s) => s === 200).length;
  assert.ok(statuses.every((s) => s === 200 || s === 503), `only 200 and 503: ${[...new Set(statuses)].join(',')}`);
  assert.ok(accepted >= 100, `at least the limit accepted (${accepted})`);
  assert.ok(accepted <= 100 + bound, `at most 100 + ${bound} accepted (${accepted})`);
});

test('Redis killed and restarted under load: 0 failed requests, one warning, the gauge follows', skipWithoutRedis(), async (t) => {
  const server = await redis(t);
  const [a, b] = await pair(t, limitYaml(server.url(), 1_000_000));
  const gauge = async (r: Running): Promise<string | undefined> => /modelmesh_shared_state_up (\d)/.exec((await request(`${r.url}/metrics`)).body)?.[1];
  assert.equal(await gauge(a), '1');
  let stop = false;
  const failures: number[] = [];
  let sent = 0;
  const load = (async () => {
    while (!stop) {
      const reply = await postJson(`${(sent++ % 2 === 0 ? a : b).url}/v1/chat/completions`, CHAT);
      if (reply.status !== 200) failures.push(reply.status);
    }
  })();
  await delay(300);
  await server.stop();
  await eventually(async () => (await gauge(a)) === '0', 5000, 'the gauge says down');
  await delay(500);
  await server.restart();
  await eventually(async () => (await gauge(a)) === '1' && (await gauge(b)) === '1', 10_000, 'both reconnect');
  await delay(300);
  stop = true;
  await load;
  assert.deepEqual(failures, [], `0 failed of ${sent}`);
  assert.ok(sent > 50, `load ran (${sent})`);
  const warnings = a.stderr().split('\n').filter((line) => line.includes('shared state unavailable'));
  assert.equal(warnings.length, 1, 'one warning per outage');
});

test('requirepass: --check passes with the right password, fails clearly with a wrong one and never prints it', skipWithoutRedis(), async (t) => {
  const server = await redis(t, { password: 's3cret-pw' });
  const dir = tempDir(t);
  const check = (url: string): { status: number | null; out: string } => {
    const config = writeConfig(dir, limitYaml(url, 10));
    const run = spawnSync(process.execPath, [SERVER, '--check', '--config', config], { encoding: 'utf8', timeout: 15_000 });
    return { status: run.status, out: `${run.stdout}${run.stderr}` };
  };
  const right = check(server.url());
  assert.equal(right.status, 0, right.out);
  assert.ok(!right.out.includes('s3cret-pw'), right.out);
  const wrong = check(server.url(0, 'wrong-pw'));
  assert.equal(wrong.status, 1, wrong.out);
  assert.match(wrong.out, /authentication to .* failed/);
  assert.ok(!wrong.out.includes('wrong-pw'), wrong.out);
  const none = check(server.url(0, null));
  assert.equal(none.status, 1, none.out);
  assert.match(none.out, /requires a password/);

  // At start, the same error stops the proxy with exit 1.
  const config = writeConfig(dir, limitYaml(server.url(0, 'wrong-pw'), 10));
  const run = spawnSync(process.execPath, [SERVER, '--config', config, '--port', '0'], { encoding: 'utf8', timeout: 15_000 });
  assert.equal(run.status, 1, run.stderr);
  assert.match(run.stderr, /cannot start/);
  assert.ok(!run.stderr.includes('wrong-pw'), run.stderr);
});
