// SharedSessionPins (src/storage/redis/session-pins.ts) against a real redis-server, two "instances" in one
// process, each with its own command and subscriber connections: a new pin is claimed and published, a
// racing claim adopts the pin in force, a local miss is read back in the background, a move is followed,
// a kept pin refreshes the idle TTL, and pins made while Redis was unreachable are written back.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { systemClock } from '../../../src/lib/clock.ts';
import { RedisClient } from '../../../src/storage/redis/client.ts';
import { SharedSessionPins } from '../../../src/storage/redis/session-pins.ts';
import { RedisSubscriber } from '../../../src/storage/redis/subscriber.ts';
import { RedisServer, skipWithoutRedis } from '../../helpers/redis-server.ts';
import { eventually } from '../../observability/spawn.ts';

const PREFIX = 'pins:session:';
const CHANNEL = 'pins:session';

interface Instance {
  pins: SharedSessionPins;
  client: RedisClient;
}

async function instance(t: TestContext, url: string, origin: string, options: { subscribe?: boolean; ttlMs?: number; connect?: boolean } = {}): Promise<Instance> {
  const client = new RedisClient({ url, reconnectMinDelayMs: 20 });
  const pins = new SharedSessionPins({ client, keyPrefix: PREFIX, channel: CHANNEL, origin, clock: systemClock, ...(options.ttlMs === undefined ? {} : { ttlMs: options.ttlMs }) });
  t.after(() => client.close());
  if (options.connect !== false) await client.connect();
  if (options.subscribe !== false) {
    const sub = new RedisSubscriber({ url, onMessage: (channel, text) => channel === CHANNEL && pins.onMessage(text) });
    t.after(() => sub.close());
    await sub.connect();
    await sub.subscribe(CHANNEL);
  }
  return { pins, client };
}

async function server(t: TestContext): Promise<{ url: string; admin: RedisClient }> {
  const redis = await RedisServer.start();
  const admin = new RedisClient({ url: redis.url() });
  t.after(async () => {
    await admin.close();
    await redis.close();
  });
  return { url: redis.url(), admin };
}

test('a new pin is claimed in Redis with its TTL and published; a move on the other instance is followed', skipWithoutRedis(), async (t) => {
  const { url, admin } = await server(t);
  const a = await instance(t, url, 'a');
  const b = await instance(t, url, 'b');
  assert.equal(a.pins.get('chat', 's1'), undefined);
  a.pins.pin('chat', 's1', 'm2', undefined);
  assert.equal(a.pins.peek('chat', 's1'), 'm2', 'the local LRU has it at once');
  await eventually(() => b.pins.peek('chat', 's1') === 'm2', 2000, 'b hears of the pin');
  assert.equal(await admin.send(['GET', `${PREFIX}chat:s1`]), 'm2');
  const ttl = Number(await admin.send(['PTTL', `${PREFIX}chat:s1`]));
  assert.ok(ttl > 3_500_000 && ttl <= 3_600_000, `an idle TTL of an hour (${ttl})`);
  assert.equal(b.pins.size('chat'), 1);
  assert.equal(b.pins.size('other'), 0, 'pools are separate');

  b.pins.pin('chat', 's1', 'm3', 'm2'); // a failover on b
  await eventually(() => a.pins.peek('chat', 's1') === 'm3', 2000, 'a follows the move');
  assert.equal(await admin.send(['GET', `${PREFIX}chat:s1`]), 'm3');

  a.pins.onMessage('not json');
  a.pins.onMessage(JSON.stringify({ origin: 'b', pool: 'chat', session: 's1' }));
  a.pins.onMessage(JSON.stringify({ origin: 'a', pool: 'chat', session: 's1', model: 'own' }));
  assert.equal(a.pins.peek('chat', 's1'), 'm3', 'malformed messages and its own are ignored');
});

test('a racing claim adopts the pin in force; a miss is read back in the background', skipWithoutRedis(), async (t) => {
  const { url, admin } = await server(t);
  const a = await instance(t, url, 'a');
  const late = await instance(t, url, 'late', { subscribe: false }); // hears no messages
  a.pins.pin('chat', 's1', 'm2', undefined);
  await eventually(async () => (await admin.send(['GET', `${PREFIX}chat:s1`])) === 'm2', 2000, 'the claim is in Redis');

  // `late` ordered s1 without a pin, and another model answered: its claim finds m2 and adopts it.
  late.pins.pin('chat', 's1', 'm1', undefined);
  assert.equal(late.pins.peek('chat', 's1'), 'm1');
  await eventually(() => late.pins.peek('chat', 's1') === 'm2', 2000, 'late adopts the pin in force');
  assert.equal(await admin.send(['GET', `${PREFIX}chat:s1`]), 'm2', 'the claim did not overwrite it');

  a.pins.pin('chat', 's2', 'm3', undefined);
  await eventually(async () => (await admin.send(['GET', `${PREFIX}chat:s2`])) === 'm3', 2000, 's2 claimed');
  assert.equal(late.pins.get('chat', 's2'), undefined, 'a miss answers at once, without waiting for Redis');
  await eventually(() => late.pins.peek('chat', 's2') === 'm3', 2000, 'and is read in the background');
  assert.equal(late.pins.get('chat', 'never'), undefined);
  await delay(50);
  assert.equal(late.pins.peek('chat', 'never'), undefined, 'a session nobody pinned stays unpinned');

  // A pin changed since the request was ordered wins over what that request saw.
  late.pins.pin('chat', 's2', 'm1', undefined);
  assert.equal(late.pins.peek('chat', 's2'), 'm3');
});

test('a kept pin refreshes its idle TTL, and re-creates the key when it expired', skipWithoutRedis(), async (t) => {
  const { url, admin } = await server(t);
  const a = await instance(t, url, 'a', { ttlMs: 400 });
  a.pins.pin('chat', 's1', 'm1', undefined);
  await eventually(async () => (await admin.send(['GET', `${PREFIX}chat:s1`])) === 'm1', 2000, 'claimed');
  await delay(150);
  const before = Number(await admin.send(['PTTL', `${PREFIX}chat:s1`]));
  assert.ok(before < 300, `the TTL ran down (${before})`);
  a.pins.pin('chat', 's1', 'm1', 'm1');
  await eventually(async () => Number(await admin.send(['PTTL', `${PREFIX}chat:s1`])) > 300, 2000, 'refreshed');
  await delay(450);
  assert.equal(await admin.send(['EXISTS', `${PREFIX}chat:s1`]), 0, 'idle for the TTL: expired');
  a.pins.pin('chat', 's1', 'm1', 'm1');
  await eventually(async () => (await admin.send(['GET', `${PREFIX}chat:s1`])) === 'm1', 2000, 'written again by the next use');
});

test('pins made while Redis is unreachable are written back when it is back: moves overwrite, new pins are claimed', skipWithoutRedis(), async (t) => {
  const { url, admin } = await server(t);
  const b = await instance(t, url, 'b');
  const a = await instance(t, url, 'a', { subscribe: false, connect: false });
  assert.equal(a.client.up, false);
  a.pins.pin('chat', 's1', 'm2', undefined);
  a.pins.pin('chat', 's2', 'm1', undefined);
  a.pins.pin('chat', 's2', 'm3', 'm1');
  a.pins.pin('chat', 's3', 'm1', 'm1'); // kept: nothing to write back
  b.pins.pin('chat', 's4', 'mb', undefined); // b pins s4 meanwhile; a, cut off, pins it too
  a.pins.pin('chat', 's4', 'ma', undefined);
  await eventually(async () => (await admin.send(['GET', `${PREFIX}chat:s4`])) === 'mb', 2000, "b's pin is in Redis");
  assert.equal(a.pins.peek('chat', 's1'), 'm2', 'local pins work without Redis');
  await a.client.connect();
  await a.pins.resync();
  assert.equal(await admin.send(['GET', `${PREFIX}chat:s1`]), 'm2');
  assert.equal(await admin.send(['GET', `${PREFIX}chat:s2`]), 'm3', 'the last pin of a session is written');
  assert.equal(await admin.send(['EXISTS', `${PREFIX}chat:s3`]), 0);
  await eventually(() => b.pins.peek('chat', 's2') === 'm3', 2000, 'and published');
  assert.equal(await admin.send(['GET', `${PREFIX}chat:s4`]), 'mb', 'a new pin is claimed at write-back: the pin in force stays');
  await eventually(() => a.pins.peek('chat', 's4') === 'mb', 2000, 'and a adopts it');
  assert.equal(b.pins.peek('chat', 's4'), 'mb');
});
