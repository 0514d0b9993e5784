// Fault suite, client aborts (issue 11): a client that goes away while its request waits on the upstream
// (synchronous) or in the middle of a stream has its upstream request closed within 100 ms, and the request
// counts as cancelled, never as a failure: no model loses standing because clients hang up.
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { startFakeUpstream, type Behaviour } from '../helpers/fake-upstream.ts';
import { request, startProxy } from '../helpers/proxy.ts';
import { assertNone, meshFor, metricSum, n, pool, size, summary } from './common.ts';

test('client aborts: every one reaches the upstream within 100 ms and counts as cancelled, not failed', async (t) => {
  const up = await startFakeUpstream();
  t.after(() => up.close());
  const arrived = new Map<string, () => void>();
  const closedAt = new Map<string, number>();
  // Synchronous requests hang; streams send a chunk every 20 ms for far longer than any test waits.
  const behaviour: Behaviour = (req, res, recorded) => {
    const id = String(req.headers['x-request-id']);
    res.on('close', () => closedAt.set(id, performance.now()));
    if ((recorded.json as { stream?: unknown }).stream === true) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const chunk = `data: ${JSON.stringify({ id: 's', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content: 'x' }, finish_reason: null }] })}\n\n`;
      const timer = setInterval(() => res.write(chunk), 20);
      res.on('close', () => clearInterval(timer));
      res.write(chunk);
    }
    arrived.get(id)?.();
  };
  up.handle(behaviour);
  const proxy = await startProxy(meshFor([up]));
  t.after(() => proxy.close());

  const total = size(40, 2_000);
  // Client, proxy and upstream share this process: when the machine is busy (parallel test files), a stall
  // of the whole event loop delays the upstream's close event as much as anything the proxy does.
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const late: string[] = [];
  let over100 = 0;
  const waits: number[] = [];
  await pool(total, 10, async (i) => {
    const id = `abort-${i}`;
    const stream = i % 2 === 1;
    const reachedUpstream = new Promise<void>((resolve) => arrived.set(id, resolve));
    const req = httpRequest(`${proxy.url}/v1/chat/completions`, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'x-request-id': id } });
    req.on('error', () => undefined);
    const firstByte = new Promise<void>((resolve) => req.on('response', (res) => res.once('data', () => resolve())));
    req.end(JSON.stringify({ model: 'text-generation', stream, messages: [{ role: 'user', content: 'hi' }] }));
    await reachedUpstream;
    if (stream) await firstByte;
    const abortedAt = performance.now();
    req.destroy();
    for (let k = 0; k < 400 && !closedAt.has(id); k++) await delay(5);
    const wait = (closedAt.get(id) ?? Infinity) - abortedAt;
    waits.push(wait);
    if (wait > 100) over100++;
    if (!(wait <= 100 + loop.max / 1e6)) late.push(`${id} (${stream ? 'stream' : 'sync'}): upstream closed after ${wait === Infinity ? 'never (2 s)' : `${Math.round(wait)} ms`}`);
  });

  loop.disable();
  const stall = loop.max / 1e6;
  // The router reports a request when its attempt has settled: wait until every abort is accounted for.
  let metrics = '';
  for (let k = 0; k < 100; k++) {
    metrics = (await request(`${proxy.url}/metrics`)).body;
    if (metricSum(metrics, 'modelmesh_requests_total', { outcome: 'cancelled' }) >= total) break;
    await delay(20);
  }
  const cancelled = metricSum(metrics, 'modelmesh_requests_total', { outcome: 'cancelled' });
  const failed = metricSum(metrics, 'modelmesh_requests_total', { outcome: 'failure' });
  const model = proxy.mesh.state.model('a.chat');
  const sorted = waits.filter(Number.isFinite).sort((x, y) => x - y);
  summary(t, `client aborts ${n(total)} (half synchronous, half mid-stream) → ${n(total - over100)} reached the upstream within 100 ms ` +
    `(median ${(sorted[Math.floor(sorted.length / 2)] ?? NaN).toFixed(1)} ms, max ${(sorted.at(-1) ?? NaN).toFixed(1)} ms), ` +
    `${n(cancelled)} counted cancelled, ${n(failed)} failed; longest event-loop stall of the test process ${stall.toFixed(0)} ms`);
  assertNone(late, 'aborts that did not reach the upstream within 100 ms (plus the longest event-loop stall)');
  assert.equal(cancelled, total);
  assert.equal(failed, 0);
  assert.equal(model.status, 'active');
  assert.equal(model.consecutive_failures, 0);
});
