// The shared-state layer (src/storage/redis/shared-state.ts) against a real redis-server, in process: a
// release on one mesh reaches the other, a hold key expires with its hold and is read back by a mesh that
// starts later, and on_unavailable: closed refuses (429) only the traffic a shared limit applies to.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { RedisClient } from '../../../src/storage/redis/client.ts';
import { checkSharedState } from '../../../src/storage/redis/shared-state.ts';
import { captureLogger, errorOf, postJson, simulatedConfig, startProxy, type StartedProxy } from '../../helpers/proxy.ts';
import { RedisServer, skipWithoutRedis } from '../../helpers/redis-server.ts';
import { eventually } from '../../observability/spawn.ts';
import { TcpCut } from '../../helpers/tcp-cut.ts';

const CHAT = (model: string) => ({ model, messages: [{ role: 'user', content: 'hi' }] });

function config(url: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return simulatedConfig({
    models: { 'sim.chat': { provider: 'sim', capabilities: ['chat-completion'] }, 'sim.free': { provider: 'sim', capabilities: ['chat-completion'] } },
    pools: {
      limited: { models: ['sim.chat'], deactivation: { request_limit: 1000 } },
      free: { models: ['sim.free'] },
    },
    storage: { connector: 'modelmesh.redis.v1', url, key_prefix: 'unit:', flush_interval: '20ms', connect_timeout: '500ms', ...extra },
  });
}

async function proxy(t: TestContext, raw: Record<string, unknown>, logger = captureLogger().logger): Promise<StartedProxy> {
  const started = await startProxy(raw, { logger });
  t.after(() => started.close());
  return started;
}

test('a hold and its release travel between meshes; a mesh started later reads the hold key back', skipWithoutRedis(), async (t) => {
  const redis = await RedisServer.start();
  t.after(() => redis.close());
  const a = await proxy(t, config(redis.url()));
  const b = await proxy(t, config(redis.url()));
  a.mesh.state.holdModel('sim.chat', 'sim', { reason: 'failing', until: Date.now() + 60_000, cause: 'failure', pool: null, manual: false });
  await eventually(() => b.mesh.state.model('sim.chat').status === 'standby', 2000, 'b applies the hold');
  assert.equal(b.mesh.state.model('sim.chat').reason, 'failing');

  const client = new RedisClient({ url: redis.url() });
  t.after(() => client.close());
  const ttl = Number(await client.send(['PTTL', 'unit:hold:model:sim.chat']));
  assert.ok(ttl > 50_000 && ttl <= 60_000, `the key expires with the hold (${ttl} ms)`);

  const c = await proxy(t, config(redis.url()));
  assert.equal(c.mesh.state.model('sim.chat').status, 'standby', 'read back at start');

  b.mesh.state.releaseModel('sim.chat', 'sim', 'probe succeeded');
  await eventually(() => a.mesh.state.model('sim.chat').status === 'active' && c.mesh.state.model('sim.chat').status === 'active', 2000, 'released everywhere');
  assert.equal(await client.send(['EXISTS', 'unit:hold:model:sim.chat']), 0);
});

test('a hold and a release made while one instance is cut off from Redis reach the instances that stayed connected when it is back', skipWithoutRedis(), async (t) => {
  const redis = await RedisServer.start();
  t.after(() => redis.close());
  const cut = await TcpCut.start(redis.port);
  t.after(() => cut.close());
  // Commands wait in the client's queue for command_timeout: the outage outlasts it, so the messages are lost.
  const a = await proxy(t, config(`redis://127.0.0.1:${cut.port}`, { command_timeout: '200ms' }));
  const b = await proxy(t, config(redis.url()));
  const outlast = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 500));
  cut.cut();
  await eventually(() => a.mesh.sharedState?.up === false, 5000, 'a sees the outage');
  a.mesh.state.holdModel('sim.chat', 'sim', { reason: 'operator', until: null, cause: 'manual', pool: null, manual: true });
  await outlast();
  cut.heal();
  await eventually(() => b.mesh.state.model('sim.chat').status === 'standby', 10_000, 'b gets the hold a made while cut off');
  assert.equal(b.mesh.state.model('sim.chat').manual, true);

  cut.cut();
  await eventually(() => a.mesh.sharedState?.up === false, 5000, 'a sees the second outage');
  a.mesh.state.releaseModel('sim.chat', 'sim', 'operator');
  await outlast();
  cut.heal();
  await eventually(() => b.mesh.state.model('sim.chat').status === 'active', 10_000, 'b gets the release a made while cut off');
});

test('Redis restarted without persistence: the instances write their holds back instead of dropping them', skipWithoutRedis(), async (t) => {
  const redis = await RedisServer.start();
  t.after(() => redis.close());
  const a = await proxy(t, config(redis.url()));
  const b = await proxy(t, config(redis.url()));
  a.mesh.state.holdModel('sim.chat', 'sim', { reason: 'operator', until: null, cause: 'manual', pool: null, manual: true });
  a.mesh.state.holdModel('sim.free', 'sim', { reason: 'failing', until: Date.now() + 60_000, cause: 'failure', pool: null, manual: false });
  await eventually(() => b.mesh.state.model('sim.chat').status === 'standby' && b.mesh.state.model('sim.free').status === 'standby', 2000, 'b applies both holds');
  await redis.restart();
  await eventually(() => a.mesh.sharedState?.up === true && b.mesh.sharedState?.up === true, 10_000, 'both reconnected');
  const client = new RedisClient({ url: redis.url() });
  t.after(() => client.close());
  await eventually(async () => (await client.send(['EXISTS', 'unit:hold:model:sim.chat', 'unit:hold:model:sim.free'])) === 2, 5000, 'the holds are written back');
  for (const mesh of [a.mesh, b.mesh]) {
    assert.equal(mesh.state.model('sim.chat').status, 'standby', 'the manual hold stays');
    assert.equal(mesh.state.model('sim.free').status, 'standby', 'the failure hold stays until it ends');
  }
  // A release after the restart still travels.
  b.mesh.state.releaseModel('sim.chat', 'sim', 'operator');
  await eventually(() => a.mesh.state.model('sim.chat').status === 'active', 2000, 'released everywhere');
});

test('on_unavailable: closed refuses limited traffic with 429 while Redis is down; open serves it', skipWithoutRedis(), async (t) => {
  const redis = await RedisServer.start();
  t.after(() => redis.close());
  const { logger, records } = captureLogger();
  const closed = await proxy(t, config(redis.url(), { on_unavailable: 'closed' }), logger);
  const open = await proxy(t, config(redis.url()));
  assert.equal((await postJson(`${closed.url}/v1/chat/completions`, CHAT('limited'))).status, 200);
  await redis.stop();
  await eventually(() => closed.mesh.sharedState?.up === false, 5000, 'closed sees the outage');
  const refused = await postJson(`${closed.url}/v1/chat/completions`, CHAT('limited'));
  assert.equal(refused.status, 429, refused.body);
  assert.match(errorOf(refused).message, /on_unavailable: closed/);
  assert.equal((await postJson(`${closed.url}/v1/chat/completions`, CHAT('free'))).status, 200, 'no shared limit: served');
  assert.equal((await postJson(`${open.url}/v1/chat/completions`, CHAT('limited'))).status, 200, 'open: served on local counts');
  assert.equal(records.filter((r) => r.level === 'warn' && r.msg.startsWith('shared state unavailable')).length, 1);
  await redis.restart();
  await eventually(() => closed.mesh.sharedState?.up === true, 10_000, 'reconnected');
  assert.equal((await postJson(`${closed.url}/v1/chat/completions`, CHAT('limited'))).status, 200);
});

test('checkSharedState: unreachable Redis is a clear error naming the redacted URL', async () => {
  await assert.rejects(
    checkSharedState({ url: 'redis://:pw-xyz@127.0.0.1:1', key_prefix: 'x:', connect_timeout: 300, command_timeout: 300, flush_interval: 100, on_unavailable: 'open' }),
    (err: Error) => /storage\.url: shared state store redis:\/\/:\[REDACTED\]@127\.0\.0\.1:1.* unusable/.test(err.message) && !err.message.includes('pw-xyz'),
  );
});
