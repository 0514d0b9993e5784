// ProxyServer start/stop edge cases: races between start() and stop(), sockets that never send a request,
// and streams cut at the drain timeout.
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { ModelMesh } from '../../src/mesh/mesh.ts';
import { ProxyServer } from '../../src/proxy/proxy-server.ts';
import { sse, startFakeUpstream } from '../helpers/fake-upstream.ts';
import { captureLogger, request, simulatedConfig, startProxy } from '../helpers/proxy.ts';

function countingMesh(): { mesh: ModelMesh; shutdowns: () => number; listening: () => number[] } {
  const { logger, records } = captureLogger();
  const mesh = ModelMesh.fromConfig(simulatedConfig({ proxy: { host: '127.0.0.1', port: 0 } }), { env: {}, logger });
  let shutdowns = 0;
  const original = mesh.shutdown.bind(mesh);
  mesh.shutdown = async () => {
    shutdowns++;
    await original();
  };
  const listening = (): number[] => records.filter((r) => r.msg === 'listening').map((r) => r.fields?.['port'] as number);
  return { mesh, shutdowns: () => shutdowns, listening };
}

test('stop() called while start() is still binding stops the server it started (no leaked listener)', async (t) => {
  const { mesh, shutdowns } = countingMesh();
  const server = new ProxyServer(mesh);
  t.after(() => server.stop());
  const started = server.start();
  await server.stop();
  await started;
  assert.equal(server.getStatus().running, false);
  assert.equal(shutdowns(), 1);
  await assert.rejects(request(`http://127.0.0.1:${server.getStatus().port}/health`), /ECONNREFUSED/);
});

test('two concurrent start() calls bind one server; start() during stop() waits for the stop', async (t) => {
  const { mesh, shutdowns, listening } = countingMesh();
  const server = new ProxyServer(mesh);
  t.after(() => server.stop());
  await Promise.all([server.start(), server.start()]);
  assert.deepEqual(listening(), [server.getStatus().port], 'one server bound');
  await server.stop();
  await assert.rejects(request(`http://127.0.0.1:${listening()[0]}/health`), /ECONNREFUSED/);
  await server.start();
  const stopping = server.stop();
  const restarted = server.start();
  await stopping;
  await restarted;
  assert.equal(shutdowns(), 2);
  assert.equal(server.getStatus().running, true);
  assert.equal((await request(`http://127.0.0.1:${server.getStatus().port}/health`)).status, 200);
  await server.stop();
  assert.equal(shutdowns(), 3);
});

test('stop() closes a connected socket that never sent a request at once (not after drain_timeout)', async (t) => {
  const p = await startProxy(simulatedConfig({ proxy: { drain_timeout: '10s' } }));
  t.after(() => p.close());
  const socket = connect(p.port, '127.0.0.1');
  t.after(() => socket.destroy());
  await new Promise((resolve) => socket.once('connect', resolve));
  await delay(20);
  const started = Date.now();
  await p.server.stop();
  assert.ok(Date.now() - started < 1000, `stop took ${Date.now() - started}ms`);
  assert.equal(p.server.getStatus().active_connections, 0);
});

test('a stream cut at the drain timeout counts as cancelled, not as an upstream failure; stop() then reports 0 connections', async (t) => {
  const up = await startFakeUpstream();
  t.after(() => up.close());
  const chunk = { id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content: 'x' }, finish_reason: null }] };
  up.handle(sse(Array.from({ length: 200 }, () => chunk), { interval: 50 }));
  const { logger, records } = captureLogger();
  const p = await startProxy({
    proxy: { drain_timeout: '200ms' },
    providers: { a: { connector: 'openai.llm.v1', base_url: up.url, api_key: 'k' } },
    models: { 'a.m': { provider: 'a', capabilities: ['chat-completion'] } },
    pools: { 'chat-pool': { models: ['a.m'] } },
  }, { logger });
  t.after(() => p.close());
  let received = '';
  const client = new Promise<string>((resolve) => {
    const req = httpRequest(`${p.url}/v1/chat/completions`, { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
      res.on('data', (c: Buffer) => (received += String(c)));
      res.on('end', () => resolve('ended'));
      res.on('error', () => resolve('cut'));
    });
    req.on('error', () => resolve('cut'));
    req.end(JSON.stringify({ model: 'chat-pool', stream: true, messages: [{ role: 'user', content: 'hi' }] }));
  });
  while (!received.includes('data: ')) await delay(10);
  const started = Date.now();
  await p.server.stop();
  assert.ok(Date.now() - started < 2000, `stop took ${Date.now() - started}ms`);
  assert.equal(p.server.getStatus().active_connections, 0);
  assert.equal(await client, 'cut');
  await delay(100);
  const failed = records.filter((r) => r.msg === 'upstream failed after the response was committed');
  assert.deepEqual(failed, [], 'the client was cut by the drain, the upstream did nothing wrong');
  assert.equal(p.mesh.state.isModelActive('a.m', 'a'), true);
});
