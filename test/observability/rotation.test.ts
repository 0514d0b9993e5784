// Log rotation through the built CLI: logrotate renames the request log and sends SIGHUP; the file is
// reopened even when the config file is invalid at that moment (being edited), so no line goes to the
// rotated-away file.
import assert from 'node:assert/strict';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { postJson } from '../helpers/proxy.ts';
import { eventually, startCli, tempDir, writeConfig } from './spawn.ts';

const ASK = { model: 'chat', messages: [{ role: 'user', content: 'hi' }] };

function ids(path: string): string[] {
  return readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => String((JSON.parse(l) as Record<string, unknown>)['request_id']));
}

test('SIGHUP after rotation reopens the request log even when the new config is invalid', async (t) => {
  const dir = tempDir(t);
  const config = writeConfig(dir, `
providers:
  sim: {connector: modelmesh.simulated.v1}
models:
  sim.chat: {provider: sim, capabilities: [chat-completion]}
pools:
  chat: {models: [sim.chat]}
observability:
  logging: {connector: modelmesh.local-file.v1, path: logs/requests.jsonl, level: summary, flush_interval: 10ms}
`);
  const running = await startCli(t, config);
  const log = join(dir, 'logs', 'requests.jsonl');
  assert.equal((await postJson(`${running.url}/v1/chat/completions`, ASK, { 'x-request-id': 'before' })).status, 200);
  await eventually(() => { try { return ids(log).includes('before'); } catch { return false; } }, 5000, 'the first line written');
  renameSync(log, `${log}.1`);
  writeFileSync(config, 'providers: [this is not a mapping\n');
  running.child.kill('SIGHUP');
  await eventually(() => running.stderr().includes('config reload failed'), 5000, 'the failed reload logged');
  assert.equal((await postJson(`${running.url}/v1/chat/completions`, ASK, { 'x-request-id': 'after' })).status, 200, 'the old config serves');
  await running.stop();
  assert.deepEqual(ids(`${log}.1`), ['before'], 'nothing more in the rotated file');
  assert.deepEqual(ids(log), ['after'], 'a new file, reopened at the SIGHUP');
});
