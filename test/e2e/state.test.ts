// State that survives restarts (DESIGN §6), through the built CLI: a standby outlives a SIGTERM + restart
// until its cooldown ends, a corrupt state file is moved aside and the proxy serves anyway, and kill -9 at
// random moments during periodic saves never leaves an unparsable state file.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { closedPort } from '../helpers/fake-upstream.ts';
import { postJson, request } from '../helpers/proxy.ts';
import { eventually, startCli, tempDir, writeConfig } from '../observability/spawn.ts';

const CHAT = { model: 'chat', messages: [{ role: 'user', content: 'hi' }] };

interface Member {
  id: string;
  status: 'active' | 'standby';
  until: string | null;
}

/** A pool `chat` whose first member's upstream refuses connections; one failure puts it in standby. */
async function configYaml(statePath: string, options: { cooldown: string; policy?: string; interval?: string }): Promise<string> {
  return `
proxy:
  host: 127.0.0.1
  drain_timeout: 5s
providers:
  down: {connector: openai.llm.v1, base_url: "http://127.0.0.1:${await closedPort()}/v1", api_key: sk-test}
  sim: {connector: modelmesh.simulated.v1}
models:
  down.gpt: {provider: down, capabilities: [chat-completion]}
  sim.chat: {provider: sim, capabilities: [chat-completion]}
pools:
  chat:
    models: [down.gpt, sim.chat]
    strategy: modelmesh.priority-selection.v1
    model_priority: [down.gpt, sim.chat]
    retry: {max_attempts: 1}
    deactivation: {retry_limit: 1}
    recovery: {cooldown: ${options.cooldown}}
storage:
  path: ${JSON.stringify(statePath)}
  sync_policy: ${options.policy ?? 'sync-on-boundary'}
  sync_interval: ${options.interval ?? '30s'}
`;
}

async function member(url: string, id: string): Promise<Member> {
  const res = await request(`${url}/v1/models/chat`);
  assert.equal(res.status, 200, res.body);
  const found = (res.json.modelmesh.members as Member[]).find((m) => m.id === id);
  assert.ok(found, res.body);
  return found;
}

test('a model in standby stays in standby across SIGTERM and restart (cooldown 1h); requests route around it', async (t) => {
  const dir = tempDir(t);
  const statePath = join(dir, 'state', 'state.json');
  const config = writeConfig(dir, await configYaml(statePath, { cooldown: '1h' }));

  const first = await startCli(t, config);
  const failover = await postJson(`${first.url}/v1/chat/completions`, CHAT);
  assert.equal(failover.status, 200, failover.body);
  assert.equal(failover.headers['x-modelmesh-model'], 'sim.chat');
  assert.equal((await member(first.url, 'down.gpt')).status, 'standby');
  assert.deepEqual(await first.stop(), { code: 0, signal: null });
  const saved = JSON.parse(readFileSync(statePath, 'utf8')) as { models: Record<string, { status: string; until: number }> };
  assert.equal(saved.models['down.gpt']?.status, 'standby');
  assert.ok((saved.models['down.gpt']?.until ?? 0) > Date.now() + 50 * 60_000, 'until is absolute epoch ms, an hour ahead');

  const second = await startCli(t, config);
  const m = await member(second.url, 'down.gpt');
  assert.equal(m.status, 'standby');
  const routed = await postJson(`${second.url}/v1/chat/completions`, CHAT);
  assert.equal(routed.status, 200);
  assert.equal(routed.headers['x-modelmesh-model'], 'sim.chat');
  assert.equal(routed.headers['x-modelmesh-attempts'], '1', 'the standby model is not tried');
  assert.ok(second.stderr().includes('"msg":"state loaded"'), second.stderr());
  assert.deepEqual(await second.stop(), { code: 0, signal: null });
});

test('with a short cooldown the restored standby ends when the cooldown does', async (t) => {
  const dir = tempDir(t);
  const statePath = join(dir, 'state.json');
  const config = writeConfig(dir, await configYaml(statePath, { cooldown: '4s' }));
  const first = await startCli(t, config);
  assert.equal((await postJson(`${first.url}/v1/chat/completions`, CHAT)).status, 200);
  const until = Date.parse((await member(first.url, 'down.gpt')).until ?? '');
  assert.ok(Number.isFinite(until));
  await first.stop();

  const second = await startCli(t, config);
  const restored = await member(second.url, 'down.gpt');
  if (Date.now() < until - 200) assert.equal(restored.status, 'standby', 'still cooling down after the restart');
  assert.equal(Date.parse(restored.until ?? '') || until, until, 'the same absolute until');
  await eventually(async () => Date.now() > until + 100 && (await member(second.url, 'down.gpt')).status === 'active', 15_000, 'cooldown end');
  await second.stop();
});

test('a state file truncated in the middle is moved aside with a warning; the proxy starts and serves', async (t) => {
  const dir = tempDir(t);
  const statePath = join(dir, 'state.json');
  const valid = JSON.stringify({ version: 1, saved_at: Date.now(), models: { 'sim.chat': { status: 'active', reason: null, until: null, since: 0, manual: false } }, providers: {} });
  writeFileSync(statePath, valid.slice(0, Math.floor(valid.length / 2)));
  const config = writeConfig(dir, await configYaml(statePath, { cooldown: '1h' }));
  const running = await startCli(t, config);
  const aside = readdirSync(dir).filter((f) => f.startsWith('state.json.corrupt-'));
  assert.equal(aside.length, 1, readdirSync(dir).join(', '));
  const warning = running.stderr().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>)
    .find((l) => l['level'] === 'warn' && String(l['msg']).includes('moved aside'));
  assert.ok(warning, running.stderr());
  assert.equal((await request(`${running.url}/health`)).status, 200);
  assert.equal((await postJson(`${running.url}/v1/chat/completions`, { ...CHAT, model: 'sim.chat' })).status, 200);
  await running.stop();
  JSON.parse(readFileSync(statePath, 'utf8'));
});

test('kill -9 at random moments during periodic saves never leaves an unparsable state file', async (t) => {
  const dir = tempDir(t);
  const statePath = join(dir, 'state.json');
  const config = writeConfig(dir, await configYaml(statePath, { cooldown: '1s', policy: 'periodic', interval: '50ms' }));
  let sawFile = 0;
  for (let i = 0; i < 10; i++) {
    const running = await startCli(t, config);
    let flowing = true;
    const traffic = (async () => {
      while (flowing) await postJson(`${running.url}/v1/chat/completions`, CHAT).catch(() => undefined);
    })();
    await delay(50 + Math.floor(Math.random() * 250));
    running.child.kill('SIGKILL');
    const exit = await running.exit;
    flowing = false;
    await traffic;
    assert.equal(exit.signal, 'SIGKILL');
    if (existsSync(statePath)) {
      sawFile++;
      const text = readFileSync(statePath, 'utf8');
      const parsed = JSON.parse(text) as { version: number; models: object };
      assert.equal(parsed.version, 1, `iteration ${i}`);
      assert.equal(typeof parsed.models, 'object');
    }
    assert.equal(readdirSync(dir).filter((f) => f.includes('.corrupt-')).length, 0, `iteration ${i}: a start found a corrupt file`);
  }
  assert.ok(sawFile > 0, 'periodic saves happened at all');
});
