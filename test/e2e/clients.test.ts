// Issue 12 §6 end to end with the built CLI: SIGHUP adds, changes and revokes clients. A revoked key is refused
// on its next request while a stream of that client already in flight finishes; the client added by the
// same reload works at once.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { keyDigest } from '../../src/config/schema/clients.ts';
import { sse, startFakeUpstream } from '../helpers/fake-upstream.ts';
import { request } from '../helpers/proxy.ts';
import { startServer } from '../helpers/server.ts';

const OLD = 'mm-e2e-old-client-0123456789abcdef';
const NEW = 'mm-e2e-new-client-0123456789abcdef';

function yaml(upstream: string, clients: Record<string, string>): string {
  const lines = ['proxy:', '  host: 127.0.0.1', 'providers:', `  up: {connector: openai.llm.v1, base_url: "${upstream}", api_key: sk-test}`,
    'models:', '  up.chat: {provider: up, capabilities: [chat-completion]}', 'clients:'];
  for (const [name, key] of Object.entries(clients)) lines.push(`  ${name}: {key_sha256: ${keyDigest(key)}, rpm: 100}`);
  return `${lines.join('\n')}\n`;
}

function chunk(content: string): object {
  return { id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'chat', choices: [{ index: 0, delta: { content }, finish_reason: null }] };
}

/** A streaming chat request; resolves with status, headers and the whole text. `onFirstByte` runs at the first chunk. */
function stream(url: string, key: string, onFirstByte: () => void): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  return new Promise((resolve, reject) => {
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${key}` };
    const req = httpRequest(`${url}/v1/chat/completions`, { method: 'POST', headers }, (res) => {
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
    req.end(JSON.stringify({ model: 'text-generation', stream: true, messages: [{ role: 'user', content: 'hi' }] }));
  });
}

/** dist/server.js on a temp mesh.yaml with one client, `old`; both are cleaned up after the test. */
async function startWithOldKey(t: TestContext, upstream: string): Promise<{ path: string; server: Awaited<ReturnType<typeof startServer>> }> {
  const dir = mkdtempSync(join(tmpdir(), 'modelmesh-e2e-clients-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'mesh.yaml');
  writeFileSync(path, yaml(upstream, { old: OLD }));
  const server = await startServer({ path }, { cwd: dir });
  t.after(() => server.stop());
  return { path, server };
}

test('SIGHUP revokes a key: refused on its next request while its stream in flight finishes; an added key works', async (t) => {
  const up = await startFakeUpstream();
  t.after(() => up.close());
  const letters = 'abcdefghij'.split('');
  up.handle(sse(letters.map(chunk), { interval: 100 }));
  const { path, server } = await startWithOldKey(t, up.url);
  const models = (key: string): Promise<number> => request(`${server.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } }).then((r) => r.status);
  assert.equal(await models(OLD), 200);
  assert.equal(await models(NEW), 401);

  let revokedWhileStreaming = false;
  let streamDone = false;
  const inFlight = stream(server.url, OLD, () => {
    writeFileSync(path, yaml(up.url, { new: NEW }));
    server.child.kill('SIGHUP');
    void (async () => {
      for (let i = 0; i < 100; i++) {
        if ((await models(OLD)) === 401) {
          revokedWhileStreaming = !streamDone;
          return;
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
  });
  const reply = await inFlight;
  streamDone = true;
  assert.equal(reply.status, 200);
  assert.equal(reply.headers['x-ratelimit-limit-requests'], '100');
  for (const letter of letters) assert.match(reply.text, new RegExp(`"content":"${letter}"`));
  assert.match(reply.text, /data: \[DONE\]\n\n$/);
  assert.ok(revokedWhileStreaming, 'the old key was refused while its stream was still running');
  assert.equal(await models(OLD), 401);
  assert.equal(await models(NEW), 200);
  assert.doesNotMatch(server.stderr(), /mm-e2e-/);
});

test('a key revoked by SIGHUP is refused on the keep-alive connection it was proven on', async (t) => {
  const up = await startFakeUpstream();
  t.after(() => up.close());
  const { path, server } = await startWithOldKey(t, up.url);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  const models = (): Promise<{ status: number; reused: boolean }> => new Promise((resolve, reject) => {
    const req = httpRequest(`${server.url}/v1/models`, { agent, headers: { authorization: `Bearer ${OLD}` } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, reused: req.reusedSocket }));
    });
    req.on('error', reject);
    req.end();
  });
  assert.deepEqual(await models(), { status: 200, reused: false });
  assert.deepEqual(await models(), { status: 200, reused: true }, 'the key, proven on this connection, again');
  writeFileSync(path, yaml(up.url, { new: NEW }));
  server.child.kill('SIGHUP');
  let last = { status: 0, reused: false };
  for (let i = 0; i < 200 && last.status !== 401; i++) {
    last = await models();
    if (last.status !== 401) await new Promise((r) => setTimeout(r, 10));
  }
  assert.deepEqual(last, { status: 401, reused: true }, 'refused on the same connection');
});
