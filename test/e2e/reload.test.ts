// Issue 11.2: a reload (SIGHUP) never touches work in flight. The built CLI with a scripted upstream: a
// stream and a slow synchronous request that are in flight at the SIGHUP finish on the providers they
// started with, and the upstream sees each request exactly once.
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { sse, startFakeUpstream, type Behaviour } from '../helpers/fake-upstream.ts';
import { startServer } from '../helpers/server.ts';

const CHAT = { model: 'text-generation', messages: [{ role: 'user', content: 'hi' }] };

function yaml(provider: string): string {
  return ['proxy:', '  host: 127.0.0.1', 'providers:', `  up: ${provider}`, 'models:', '  up.chat: {provider: up, capabilities: [chat-completion]}', ''].join('\n');
}

/** POSTs `body`, resolves with status, headers and the whole body text. `onFirstByte` runs at the first body chunk. */
function post(url: string, body: unknown, onFirstByte: () => void = () => undefined): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      let first = true;
      res.on('data', (c: Buffer) => {
        if (first) onFirstByte();
        first = false;
        text += c.toString('utf8');
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

function chunk(content: string): object {
  return { id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'chat', choices: [{ index: 0, delta: { content }, finish_reason: null }] };
}

const slowJson: Behaviour = async (_req, res) => {
  await delay(600);
  const body = JSON.stringify({ id: 'x', object: 'chat.completion', created: 1, model: 'chat', choices: [{ index: 0, message: { role: 'assistant', content: 'slow' }, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
};

test('SIGHUP during a stream: the stream finishes on the old connector, one upstream call', async (t) => {
  const up = await startFakeUpstream();
  t.after(() => up.close());
  up.handle(sse(['a', 'b', 'c', 'd', 'e', 'f'].map(chunk), { interval: 100 }));
  const server = await startServer({ yaml: yaml(`{connector: openai.llm.v1, base_url: "${up.url}", api_key: sk-test}`) });
  t.after(() => server.stop());
  const reply = await post(server.url, { ...CHAT, stream: true }, () => server.child.kill('SIGHUP'));
  assert.equal(reply.status, 200);
  assert.doesNotMatch(reply.text, /failed mid-stream|error/);
  for (const letter of ['a', 'b', 'c', 'd', 'e', 'f']) assert.match(reply.text, new RegExp(`"content":"${letter}"`));
  assert.match(reply.text, /data: \[DONE\]/);
  assert.equal(up.requests.length, 1);
});

test('SIGHUP during a slow synchronous request: answered once, never sent upstream a second time', async (t) => {
  const up = await startFakeUpstream();
  t.after(() => up.close());
  up.handle(slowJson);
  const server = await startServer({ yaml: yaml(`{connector: openai.llm.v1, base_url: "${up.url}", api_key: sk-test}`) });
  t.after(() => server.stop());
  const pending = post(server.url, CHAT);
  for (let i = 0; i < 100 && up.requests.length === 0; i++) await delay(10);
  server.child.kill('SIGHUP');
  const reply = await pending;
  assert.equal(reply.status, 200);
  assert.equal(reply.headers['x-modelmesh-attempts'], '1');
  assert.match(reply.text, /"content":"slow"/);
  assert.equal(up.requests.length, 1);
  // The next request runs on the new generation and still works.
  up.handle(sse([chunk('z')]));
  assert.equal((await post(server.url, { ...CHAT, stream: true })).status, 200);
});

test('SIGHUP during a simulated stream: no "provider closed"', async (t) => {
  const server = await startServer({ yaml: yaml('{connector: modelmesh.simulated.v1, chunk_interval: 60ms}') });
  t.after(() => server.stop());
  const reply = await post(server.url, { ...CHAT, stream: true }, () => server.child.kill('SIGHUP'));
  assert.equal(reply.status, 200);
  assert.doesNotMatch(reply.text, /provider closed|failed mid-stream/);
  assert.match(reply.text, /data: \[DONE\]/);
});
