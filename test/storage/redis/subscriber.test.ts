import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RedisClient } from '../../../src/storage/redis/client.ts';
import { RedisSubscriber } from '../../../src/storage/redis/subscriber.ts';
import { RedisServer, skipWithoutRedis } from '../../helpers/redis-server.ts';

async function until(check: () => boolean | Promise<boolean>, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test('messages on subscribed channels reach the callback; after a Redis restart it subscribes again by itself', skipWithoutRedis(), async (t) => {
  const server = await RedisServer.start({ password: 'sub-pw' });
  t.after(() => server.close());
  const got: string[] = [];
  const events: string[] = [];
  const sub = new RedisSubscriber({ url: server.url(), reconnectMinDelayMs: 20, reconnectMaxDelayMs: 100, onMessage: (ch, msg) => got.push(`${ch}=${msg}`) });
  const pub = new RedisClient({ url: server.url(), reconnectMinDelayMs: 20, reconnectMaxDelayMs: 100, commandTimeoutMs: 3000 });
  t.after(async () => {
    await sub.close();
    await pub.close();
  });
  sub.on('up', () => events.push('up'));
  sub.on('down', () => events.push('down'));
  await sub.connect();
  await Promise.all([sub.subscribe('mm:state'), sub.subscribe('mm:other')]);
  assert.equal(sub.up, true);
  assert.equal(await pub.send(['PUBLISH', 'mm:state', 'model-a standby']), 1);
  await pub.send(['PUBLISH', 'mm:unsubscribed', 'ignored']);
  await pub.send(['PUBLISH', 'mm:other', 'x']);
  await until(() => got.length === 2);
  assert.deepEqual(got, ['mm:state=model-a standby', 'mm:other=x']);

  await server.restart();
  await until(() => sub.up && events.length === 3);
  assert.equal(await pub.send(['PUBLISH', 'mm:state', 'after restart']), 1);
  await until(() => got.length === 3);
  assert.equal(got[2], 'mm:state=after restart');
  assert.deepEqual(events, ['up', 'down', 'up']);

  sub.unsubscribe('mm:other');
  await until(async () => String(await pub.send(['PUBSUB', 'NUMSUB', 'mm:other'])) === 'mm:other,0');
});
