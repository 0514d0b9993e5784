// Issue 11.8: every answered request is counted in /metrics by route pattern and status class, client errors
// answered before any routing (400, 401, 404, 405, 413, 415) included; labels stay bounded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HttpResponseCounts } from '../../src/observability/http-responses.ts';
import { postJson, request, simulatedConfig, startProxy } from '../helpers/proxy.ts';
import { rawSend } from '../helpers/raw-http.ts';

test('HttpResponseCounts: classes 1xx..5xx per route, anything else ignored', () => {
  const counts = new HttpResponseCounts();
  for (const status of [200, 201, 404, 503, 99, 600]) counts.record('/r', status);
  assert.deepEqual([...counts.entries()], [
    { route: '/r', class: '2xx', count: 2 }, { route: '/r', class: '4xx', count: 1 }, { route: '/r', class: '5xx', count: 1 },
  ]);
});

function sample(text: string, route: string, cls: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`modelmesh_http_responses_total{route="${route}",class="${cls}"} `));
  return line === undefined ? 0 : Number(line.split(' ')[1]);
}

test('/metrics counts client errors by route and class, unknown paths as "unmatched"', async (t) => {
  const proxy = await startProxy(simulatedConfig({ proxy: { metrics: true, auth: { enabled: true, tokens: ['tok'] }, limits: { max_body: '1kb' } } }));
  t.after(() => proxy.close());
  const auth = { authorization: 'Bearer tok' };
  const chat = `${proxy.url}/v1/chat/completions`;
  assert.equal((await postJson(chat, { model: 'sim.chat', messages: [{ role: 'user', content: 'hi' }] }, auth)).status, 200);
  assert.equal((await request(chat, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: '{bad' })).status, 400);
  assert.equal((await postJson(chat, { model: 'nope', messages: [{ role: 'user', content: 'hi' }] }, auth)).status, 404);
  assert.equal((await postJson(chat, { model: 'sim.chat', messages: [] })).status, 401);
  assert.equal((await request(chat, { method: 'POST', headers: { 'content-type': 'text/plain', ...auth }, body: 'x' })).status, 415);
  assert.equal((await request(chat, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: 'x'.repeat(5000) })).status, 413);
  assert.equal((await request(chat, { method: 'GET', headers: auth })).status, 405);
  for (let i = 0; i < 3; i++) assert.equal((await request(`${proxy.url}/v1/random-${i}`, { headers: auth })).status, 404);
  assert.equal((await rawSend(proxy.port, 'BREW / HTTP/1.1\r\nHost: x\r\n\r\n')).status, 400);
  const metrics = await request(`${proxy.url}/metrics`, { headers: auth });
  assert.equal(metrics.status, 200);
  const route = '/v1/chat/completions';
  assert.equal(sample(metrics.body, route, '2xx'), 1);
  assert.equal(sample(metrics.body, route, '4xx'), 5, metrics.body);
  // 405 (no route for GET), three unknown paths and the parser error: one bounded "unmatched" series.
  assert.equal(sample(metrics.body, 'unmatched', '4xx'), 5);
  assert.doesNotMatch(metrics.body, /random-/);
  assert.match(metrics.body, /# TYPE modelmesh_http_responses_total counter/);
});
