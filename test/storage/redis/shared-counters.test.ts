import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RedisClient } from '../../../src/storage/redis/client.ts';
import { RedisWindowCounters } from '../../../src/storage/redis/shared-counters.ts';
import { RedisServer, skipWithoutRedis } from '../../helpers/redis-server.ts';

const skip = skipWithoutRedis();

type After = { after(fn: () => Promise<void>): void };

/** One "instance": its own client and counters on the shared Redis. Long flush interval: tests flush by hand. */
function instance(t: After, url: string, flushIntervalMs = 60_000): { client: RedisClient; counters: RedisWindowCounters; errors: Error[] } {
  const client = new RedisClient({ url, reconnectMinDelayMs: 20, reconnectMaxDelayMs: 100, commandTimeoutMs: 1000 });
  const errors: Error[] = [];
  const counters = new RedisWindowCounters({ client, keyPrefix: 'mm:test:', flushIntervalMs, onFlushError: (e) => errors.push(e) });
  t.after(async () => {
    await counters.close();
    await client.close();
  });
  return { client, counters, errors };
}

async function until(check: () => boolean, show: () => unknown = () => '', ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met in time: ${JSON.stringify(show())}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test('two instances sharing counters see each other totals after a flush; add() alone sends nothing', skip, async (t) => {
  const server = await RedisServer.start();
  t.after(() => server.close());
  const a = instance(t, server.url());
  const b = instance(t, server.url());
  await Promise.all([a.client.connect(), b.client.connect()]);
  const end = Date.now() + 60_000;
  for (let i = 0; i < 3; i++) a.counters.add('client:app1:rpm', 1, end);
  b.counters.add('client:app1:rpm', 2, end);
  b.counters.add('client:app1:usd', 0.25, end);
  assert.equal(a.counters.get('client:app1:rpm'), 3, 'local counts are visible at once');
  assert.equal(await a.client.send(['EXISTS', 'mm:test:client:app1:rpm']), 0, 'no round trip on add');
  await a.counters.flush();
  await b.counters.flush();
  assert.equal(b.counters.get('client:app1:rpm'), 5);
  assert.equal(a.counters.get('client:app1:rpm'), 3, 'a has not read since b flushed');
  await a.counters.flush(); // idle keys are refreshed too
  assert.equal(a.counters.get('client:app1:rpm'), 5);
  b.counters.add('client:app1:usd', 0.5, end);
  await b.counters.flush();
  assert.equal(b.counters.get('client:app1:usd'), 0.75);
  const pttl = Number(await a.client.send(['PTTL', 'mm:test:client:app1:rpm']));
  assert.ok(pttl > 55_000 && pttl <= 60_000, `expires at the window end (pttl ${pttl})`);
  assert.deepEqual([a.errors, b.errors], [[], []]);
});

test('the flush timer runs by itself, and an ended window is dropped', skip, async (t) => {
  const server = await RedisServer.start();
  t.after(() => server.close());
  const a = instance(t, server.url(), 20);
  const b = instance(t, server.url(), 20);
  await Promise.all([a.client.connect(), b.client.connect()]);
  const end = Date.now() + 60_000;
  for (let i = 0; i < 600; i++) a.counters.add(`k${i}`, 1, end); // 3 batches of 256 keys at most
  b.counters.add('k0', 1, end);
  await until(() => a.counters.get('k0') === 2 && b.counters.get('k599') === 0 && b.counters.get('k0') === 2);
  a.counters.add('short', 5, Date.now() + 50);
  await until(() => a.counters.get('short') === 0);
  assert.equal(a.counters.get('k599'), 1);
});

test('with Redis stopped counting goes on locally; after the restart it is reconciled (lost counts added back)', skip, async (t) => {
  const server = await RedisServer.start();
  t.after(() => server.close());
  const a = instance(t, server.url(), 30);
  const b = instance(t, server.url(), 30);
  await Promise.all([a.client.connect(), b.client.connect()]);
  const end = Date.now() + 60_000;
  a.counters.add('model:m1:requests', 4, end);
  b.counters.add('model:m1:requests', 6, end);
  await until(() => a.counters.get('model:m1:requests') === 10 && b.counters.get('model:m1:requests') === 10);

  await server.stop();
  await until(() => !a.client.up && !b.client.up);
  for (let i = 0; i < 5; i++) a.counters.add('model:m1:requests', 1, end);
  b.counters.add('model:m1:requests', 1, end);
  assert.equal(a.counters.get('model:m1:requests'), 15, 'last known total + local counts while down');
  assert.equal(b.counters.get('model:m1:requests'), 11);

  await server.restart(); // no persistence: Redis comes back empty
  const key = 'model:m1:requests';
  await until(
    () => a.counters.get(key) === 16 && b.counters.get(key) === 16,
    () => [a.counters.get(key), b.counters.get(key), a.client.up, b.client.up, a.errors.map(String), b.errors.map(String)],
  );
  await a.counters.flush();
  assert.equal(Number(await a.client.send(['GET', 'mm:test:model:m1:requests'])), 16);
});

test('a flush is one script call per batch of keys, all pipelined (EVALSHA; EVAL once per batch on a fresh server)', skip, async (t) => {
  const server = await RedisServer.start();
  t.after(() => server.close());
  const a = instance(t, server.url());
  await a.client.connect();
  const end = Date.now() + 60_000;
  for (let i = 0; i < 600; i++) a.counters.add(`k${i}`, i, end);
  await a.counters.flush();
  await a.counters.flush();
  const stats = String(await a.client.send(['INFO', 'commandstats']));
  const calls = (name: string): number => Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
  // 600 keys in batches of 256: 3 calls per flush; the first flush's EVALSHA found no script and fell back to EVAL.
  assert.equal(calls('evalsha'), 6);
  assert.equal(calls('eval'), 3);
  assert.equal(a.counters.get('k599'), 599);
  assert.equal(Number(await a.client.send(['GET', 'mm:test:k599'])), 599);
});
