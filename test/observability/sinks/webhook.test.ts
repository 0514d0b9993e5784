// The webhook sink: JSON array batches of batch_size, retries with backoff, a bounded queue, drops counted
// when the hook is down or hangs, and a listener that never waits for the network.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { test } from 'node:test';
import type { Clock } from '../../../src/lib/clock.ts';
import { silentLogger } from '../../../src/log.ts';
import type { StreamName } from '../../../src/observability/records.ts';
import { QUEUE_LIMIT, type SinkDeps } from '../../../src/observability/sinks/sink.ts';
import { WebhookSink } from '../../../src/observability/sinks/webhook.ts';
import { closedPort } from '../../helpers/fake-upstream.ts';
import { closeServer, collect, listen } from '../../helpers/listen.ts';

/** systemClock's timers are unref'd (a server keeps the process alive); a test needs them to hold the loop. */
const clock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const timer = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(timer) };
  },
};

function deps(): { deps: SinkDeps; dropped: Record<StreamName, number> } {
  const dropped: Record<StreamName, number> = { routing: 0, logging: 0, statistics: 0 };
  return {
    dropped,
    deps: { clock, logger: silentLogger, serialize: (r) => JSON.stringify(r), onDrop: (s, n) => void (dropped[s] += n) },
  };
}

async function hook(handler: (req: IncomingMessage, res: ServerResponse, body: string) => void) {
  const bodies: string[] = [];
  const headers: IncomingMessage['headers'][] = [];
  const server = createServer(async (req, res) => {
    const body = (await collect(req)).toString('utf8');
    bodies.push(body);
    headers.push(req.headers);
    handler(req, res, body);
  });
  const url = await listen(server);
  return { url, bodies, headers, close: () => closeServer(server) };
}

test('POSTs JSON arrays of at most batch_size records with the configured headers', async (t) => {
  const h = await hook((_req, res) => res.end('ok'));
  t.after(() => h.close());
  const { deps: d, dropped } = deps();
  const sink = new WebhookSink(d, { url: `${h.url}/hook`, headers: { 'x-hook-token': 'abc' }, batchSize: 3, flushInterval: 60_000 });
  sink.start();
  for (let i = 0; i < 7; i++) sink.push({ stream: 'routing', record: { i } });
  await sink.close();
  const batches = h.bodies.map((b) => (JSON.parse(b) as { i: number }[]).map((r) => r.i));
  assert.deepEqual(batches.flat(), [0, 1, 2, 3, 4, 5, 6]);
  assert.ok(batches.every((b) => b.length <= 3));
  assert.equal(h.headers[0]?.['content-type'], 'application/json');
  assert.equal(h.headers[0]?.['x-hook-token'], 'abc');
  assert.equal(sink.delivered, 7);
  assert.equal(dropped.routing, 0);
});

test('a 503 is retried with backoff and then delivered', async (t) => {
  let calls = 0;
  const h = await hook((_req, res) => {
    res.statusCode = ++calls <= 2 ? 503 : 200;
    res.end();
  });
  t.after(() => h.close());
  const { deps: d, dropped } = deps();
  const sink = new WebhookSink(d, { url: h.url, headers: {}, batchSize: 10, flushInterval: 60_000, backoff: 10 });
  sink.start();
  sink.push({ stream: 'logging', record: { a: 1 } });
  await sink.flush();
  assert.equal(calls, 3);
  assert.equal(sink.delivered, 1);
  assert.equal(dropped.logging, 0);
  await sink.close();
});

test('a 400 is not retried: the batch is dropped and counted', async (t) => {
  let calls = 0;
  const h = await hook((_req, res) => {
    calls++;
    res.statusCode = 400;
    res.end();
  });
  t.after(() => h.close());
  const { deps: d, dropped } = deps();
  const sink = new WebhookSink(d, { url: h.url, headers: {}, batchSize: 10, flushInterval: 60_000, backoff: 10 });
  sink.start();
  sink.push({ stream: 'logging', record: { a: 1 } });
  sink.push({ stream: 'routing', record: { a: 2 } });
  await sink.flush();
  assert.equal(calls, 1);
  assert.deepEqual(dropped, { routing: 1, logging: 1, statistics: 0 });
  await sink.close();
});

test('a webhook that is down: bounded retries, then drops counted; later batches get one attempt each', async () => {
  const { deps: d, dropped } = deps();
  let calls = 0;
  const counting: typeof fetch = (input, init) => {
    calls++;
    return fetch(input, init);
  };
  const sink = new WebhookSink(d, { url: `http://127.0.0.1:${await closedPort()}/hook`, headers: {}, batchSize: 2, flushInterval: 60_000, backoff: 5, retries: 3, fetch: counting });
  sink.start();
  for (let i = 0; i < 6; i++) sink.push({ stream: 'routing', record: { i } });
  await sink.flush();
  assert.equal(dropped.routing, 6);
  assert.equal(calls, 4 + 1 + 1, 'first batch 1+3 retries; then presumed down: one attempt per batch');
  assert.equal(sink.failedBatches, 3);
  await sink.close();
});

test('a hanging webhook never blocks push(); the queue is bounded; close gives up after its grace period', async (t) => {
  const h = await hook(() => undefined); // never answers
  t.after(() => h.close());
  const { deps: d, dropped } = deps();
  const sink = new WebhookSink(d, { url: h.url, headers: {}, batchSize: 100, flushInterval: 60_000, timeout: 60_000 });
  sink.start();
  const started = performance.now();
  for (let i = 0; i < QUEUE_LIMIT * 2; i++) sink.push({ stream: 'statistics', record: { i } });
  const pushMs = performance.now() - started;
  assert.ok(pushMs < 2_000, `20k pushes took ${pushMs} ms`);
  assert.ok(sink.queued <= QUEUE_LIMIT);
  assert.ok(dropped.statistics >= QUEUE_LIMIT, String(dropped.statistics));
  await new Promise((r) => setTimeout(r, 50)); // the first batch is now in flight, hanging
  const closing = performance.now();
  await sink.closeWithin(200);
  assert.ok(performance.now() - closing < 5_000);
  assert.equal(dropped.statistics, QUEUE_LIMIT * 2, 'everything that was not delivered is counted');
  assert.equal(sink.delivered, 0);
});
