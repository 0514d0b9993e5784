// The built CLI as a user runs it: `node dist/server.js ...` in a child process (DESIGN §10).
// Needs `npm run build` first (the npm test script builds before running the tests).
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { test, type TestContext } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { postJson, request } from '../helpers/proxy.ts';

import { SERVER, killIfRunning, spawnCli } from '../helpers/cli.ts';
import { freePort } from '../helpers/ports.ts';
import { tempDir, writeIn } from '../helpers/temp-dir.ts';
const CHAT = { model: 'text-generation', messages: [{ role: 'user', content: 'hi' }] };

function configYaml(options: { latency?: string; aliases?: string[] } = {}): string {
  const aliases = options.aliases === undefined ? '' : `pools:\n  text-generation:\n    aliases: [${options.aliases.join(', ')}]\n`;
  return [
    'proxy:',
    '  host: 127.0.0.1',
    '  drain_timeout: 10s',
    'providers:',
    `  sim: {connector: modelmesh.simulated.v1, latency: ${options.latency ?? '0ms'}}`,
    'models:',
    '  sim.chat: {provider: sim, capabilities: [chat-completion]}',
    aliases,
  ].join('\n');
}

function tempConfig(t: TestContext, text: string): string {
  return writeIn(tempDir(t, 'modelmesh-cli-'), 'mesh.yaml', text);
}


interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
}

function run(args: string[], env: Record<string, string> = {}): Run {
  const r = spawnCli(args, { env: { ...process.env, ...env } });
  return { child: r.child, stdout: r.stdout, stderr: r.stderr, exit: r.exit.then((e) => e.code) };
}

/** JSON log lines so far; fails the test if any stderr line is not JSON. */
function logLines(r: Run): { level: string; msg: string; [k: string]: unknown }[] {
  return r.stderr().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
}

async function waitForLog(r: Run, msg: string, ms = 10_000): Promise<Record<string, unknown>> {
  const end = Date.now() + ms;
  for (;;) {
    const line = logLines(r).find((l) => l.msg === msg);
    if (line !== undefined) return line;
    if (Date.now() > end) throw new Error(`no "${msg}" log line; stderr:\n${r.stderr()}`);
    await delay(20);
  }
}

/** Starts the server on a free port; resolves once it logged `listening`. */
async function startServer(t: TestContext, file: string): Promise<{ r: Run; url: string }> {
  const port = await freePort();
  const r = run(['--config', file, '--port', String(port)]);
  t.after(() => {
    if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
  });
  const listening = await waitForLog(r, 'listening');
  assert.equal(listening['port'], port);
  assert.equal(listening['host'], '127.0.0.1');
  return { r, url: `http://127.0.0.1:${port}` };
}

test('dist/server.js exists (run npm run build first)', () => {
  assert.ok(existsSync(SERVER), `${SERVER} missing`);
});

test('--check on a valid config prints the summary on stdout and exits 0', async (t) => {
  const r = run(['--check', '--config', tempConfig(t, configYaml())]);
  assert.equal(await r.exit, 0);
  assert.match(r.stdout(), /sim\.chat/);
  assert.match(r.stdout(), /modelmesh\.simulated\.v1/);
  assert.equal(r.stderr(), '');
});

test('--check on a typo exits 1 naming the key path and the suggestion', async (t) => {
  const r = run(['--check', '--config', tempConfig(t, 'pools:\n  text-generation:\n    retyr: {}\n')]);
  assert.equal(await r.exit, 1);
  assert.match(r.stderr(), /pools\.text-generation\.retyr/);
  assert.match(r.stderr(), /did you mean "retry"/);
  assert.equal(r.stdout(), '');
});

test('MESH_CONFIG is used when --config is absent; a missing file is exit 1', async (t) => {
  const ok = run(['--check'], { MESH_CONFIG: tempConfig(t, configYaml()) });
  assert.equal(await ok.exit, 0);
  const missing = run(['--check', '--config', '/nonexistent/mesh.yaml']);
  assert.equal(await missing.exit, 1);
  assert.match(missing.stderr(), /not found/);
});

test('bad arguments print the usage on stderr and exit 2; --help exits 0', async () => {
  const bad = run(['--bogus']);
  assert.equal(await bad.exit, 2);
  assert.match(bad.stderr(), /Unknown option '--bogus'/);
  assert.match(bad.stderr(), /Usage: modelmesh/);
  const port = run(['--port', 'eighty']);
  assert.equal(await port.exit, 2);
  assert.match(port.stderr(), /--port must be an integer/);
  const help = run(['--help']);
  assert.equal(await help.exit, 0);
  assert.match(help.stdout(), /--config FILE/);
});

test('SIGTERM while a slow request is in flight: it completes with 200, exit 0, logs are JSON lines', async (t) => {
  const { r, url } = await startServer(t, tempConfig(t, configYaml({ latency: '1500ms' })));
  const reply = postJson(`${url}/v1/chat/completions`, CHAT);
  await delay(300); // the request is in the simulated provider's latency
  r.child.kill('SIGTERM');
  const res = await reply;
  assert.equal(res.status, 200);
  assert.equal(res.json.object, 'chat.completion');
  assert.equal(await r.exit, 0);
  const lines = logLines(r);
  assert.ok(lines.every((l) => typeof l.msg === 'string' && typeof l.level === 'string' && typeof l['ts'] === 'string'));
  assert.ok(lines.some((l) => l.msg === 'stopped'));
});

test('a second signal exits 1 at once', async (t) => {
  const { r, url } = await startServer(t, tempConfig(t, configYaml({ latency: '5s' })));
  const reply = postJson(`${url}/v1/chat/completions`, CHAT).catch(() => undefined);
  await delay(300);
  r.child.kill('SIGTERM');
  await waitForLog(r, 'stopping');
  r.child.kill('SIGINT');
  assert.equal(await r.exit, 1);
  await reply;
});

test('SIGHUP reloads a valid file (new alias visible) and keeps the old config on a broken one', async (t) => {
  const file = tempConfig(t, configYaml());
  const { r, url } = await startServer(t, file);
  const ids = async (): Promise<string[]> => ((await request(`${url}/v1/models`)).json.data as { id: string }[]).map((m) => m.id);
  assert.ok(!(await ids()).includes('e2e-alias'));

  writeFileSync(file, configYaml({ aliases: ['e2e-alias'] }));
  r.child.kill('SIGHUP');
  await waitForLog(r, 'config reloaded');
  assert.ok((await ids()).includes('e2e-alias'));

  writeFileSync(file, 'pools:\n  text-generation:\n    retyr: {}\n');
  r.child.kill('SIGHUP');
  const failed = await waitForLog(r, 'config reload failed; keeping the current config');
  assert.equal(failed['level'], 'error');
  assert.match(String(failed['error']), /retyr/);
  assert.ok((await ids()).includes('e2e-alias'), 'old config still serves');
  assert.equal((await postJson(`${url}/v1/chat/completions`, CHAT)).status, 200);

  r.child.kill('SIGTERM');
  assert.equal(await r.exit, 0);
});

/** True once `pid` catches SIGHUP (Linux: bit 1 of SigCgt in /proc/<pid>/status). */
function catchesHup(pid: number): boolean {
  try {
    const mask = /^SigCgt:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return mask !== undefined && (BigInt(`0x${mask}`) & 1n) === 1n;
  } catch {
    return false;
  }
}

test('a SIGHUP while the server is still loading (systemctl reload right after start) is a reload once it is up, not the end of the process', async (t) => {
  const file = tempConfig(t, configYaml());
  const port = await freePort();
  const r = run(['--config', file, '--port', String(port)]);
  t.after(() => killIfRunning(r.child));
  const pid = r.child.pid ?? 0;
  const end = Date.now() + 10_000;
  while (!catchesHup(pid)) {
    assert.ok(Date.now() < end, 'the program never caught SIGHUP');
    await delay(2);
  }
  assert.ok(!logLines(r).some((l) => l.msg === 'listening'), 'still loading when the signal comes');
  writeFileSync(file, configYaml({ aliases: ['after-hup'] }));
  r.child.kill('SIGHUP');
  await waitForLog(r, 'SIGHUP received while starting: reloading now');
  await waitForLog(r, 'config reloaded');
  const ids = ((await request(`http://127.0.0.1:${port}/v1/models`)).json.data as { id: string }[]).map((m) => m.id);
  assert.ok(ids.includes('after-hup'), 'the file as it was at the signal');
  r.child.kill('SIGTERM');
  assert.equal(await r.exit, 0);
});

test('a config the mesh cannot build (unknown strategy): --check exits 1, a normal start logs it and exits 1', async (t) => {
  const file = tempConfig(t, `${configYaml()}pools:\n  text-generation:\n    strategy: modelmesh.no-such-strategy.v1\n`);
  const check = run(['--check', '--config', file]);
  assert.equal(await check.exit, 1);
  assert.match(check.stderr(), /no-such-strategy/);
  const start = run(['--config', file, '--port', String(await freePort())]);
  assert.equal(await start.exit, 1);
  const line = logLines(start).find((l) => l.msg === 'config invalid');
  assert.ok(line, start.stderr());
  assert.match(String(line['error']), /no-such-strategy/);
});

test('no log line is lost on exit when stderr is a slow pipe (SIGTERM right after a burst of warnings)', async (t) => {
  // 5000 providers skipped for a missing secret: ~700 KB of warnings, more than a pipe buffer holds.
  const providers = Array.from({ length: 5000 }, (_, i) => `  p${i}: {connector: openai.llm.v1, api_key: '\${secrets:E2E_MISSING_${i}}'}`);
  const file = tempConfig(t, configYaml().replace('providers:\n', `providers:\n${providers.join('\n')}\n`));
  const port = await freePort();
  const r = spawnCli(['--config', file, '--port', String(port)], { env: { ...process.env }, stdout: false });
  const { child } = r;
  t.after(() => killIfRunning(child));
  // A reader stalled until 300 ms after SIGTERM (a busy journald): the child's stderr queue builds up.
  // (Paused in the tick it was spawned in, before any data could flow.)
  child.stderr?.pause();
  const exit = r.exit.then((e) => e.code);
  const closed = once(child, 'close');
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      if ((await request(`http://127.0.0.1:${port}/health`)).status === 200) break;
    } catch {
      assert.ok(Date.now() < deadline && child.exitCode === null, 'the server did not come up');
      await delay(20);
    }
  }
  child.kill('SIGTERM');
  await delay(300);
  child.stderr?.resume();
  assert.equal(await exit, 0);
  await closed;
  const lines = r.stderr().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { msg: string });
  assert.equal(lines.filter((l) => l.msg === 'config warning').length, 5000);
  assert.ok(lines.some((l) => l.msg === 'stopped'), `last line: ${JSON.stringify(lines.at(-1))}`);
});
