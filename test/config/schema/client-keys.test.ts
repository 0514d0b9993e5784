// Client keys that could never work as configured (C4, C5): a key equal to a `proxy.auth.tokens` or
// `proxy.admin.tokens` token (one bearer, two callers), given as key or as key_sha256, and a key with a
// character an HTTP header cannot carry as written. Each is a config error naming the client, never the key,
// at start and on SIGHUP (where the old config stays in force).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { ConfigError } from '../../../src/config/errors.ts';
import { buildConfig } from '../../../src/config/schema/index.ts';
import { keyDigest } from '../../../src/config/schema/clients.ts';
import { ROOT, cleanEnv } from '../../helpers/cli.ts';
import { freePort } from '../../helpers/ports.ts';
import { request } from '../../helpers/proxy.ts';
import { tempDir, writeIn } from '../../helpers/temp-dir.ts';

const TOKEN = 'mm-anonymous-token-0123456789ab';
const TOKEN2 = 'mm-anonymous-token-2-0123456789';
const ADMIN = 'mm-admin-token-0123456789abcdef';
const ADMIN2 = 'mm-admin-token-2-0123456789abcd';
const KEY = 'mm-app-0123456789abcdefghijkl';
const BASE = {
  providers: { sim: { connector: 'modelmesh.simulated.v1' } },
  models: { 'sim.chat': { provider: 'sim', capabilities: ['chat-completion'] } },
};

function build(raw: Record<string, unknown>) {
  return buildConfig({ ...BASE, ...raw }, { source: null, env: {}, baseDir: '/srv/mesh' });
}

/** The config_invalid message lines of a failing build. */
function problems(raw: Record<string, unknown>): string[] {
  try {
    build(raw);
  } catch (err) {
    assert.ok(err instanceof ConfigError && err.code === 'config_invalid', String(err));
    return err.message.split('\n');
  }
  assert.fail('expected config_invalid');
}

const AUTH_CLASH = 'the same key as a token in proxy.auth.tokens: a request with it would be both this client and an anonymous caller; give the client a key of its own';
const ADMIN_CLASH = "the same key as a token in proxy.admin.tokens: the client's key would also open the admin API; give the client a key of its own";

describe('a client key equal to a proxy token', () => {
  test('as key or as key_sha256, against proxy.auth.tokens and proxy.admin.tokens; the key is never printed', () => {
    const lines = problems({
      proxy: { auth: { tokens: [TOKEN, TOKEN2] }, admin: { tokens: [ADMIN, ADMIN2] } },
      clients: {
        anon: { key: TOKEN },
        anon_sha: { key_sha256: keyDigest(TOKEN2) },
        boss: { key: ADMIN2 },
        boss_sha: { key_sha256: keyDigest(ADMIN).toUpperCase() },
        fine: { key: KEY },
      },
    });
    assert.deepEqual(lines, [
      `clients.anon.key: ${AUTH_CLASH}`,
      `clients.anon_sha.key_sha256: ${AUTH_CLASH}`,
      `clients.boss.key: ${ADMIN_CLASH}`,
      `clients.boss_sha.key_sha256: ${ADMIN_CLASH}`,
    ]);
    const text = lines.join('\n');
    for (const secret of [TOKEN, TOKEN2, ADMIN, ADMIN2, keyDigest(TOKEN2), keyDigest(ADMIN)]) assert.ok(!text.includes(secret), 'a key or digest was printed');
  });

  test('a token in both lists is named twice; auth turned off still counts (enabling it must not break the config)', () => {
    const lines = problems({
      proxy: { auth: { enabled: false, tokens: [TOKEN] }, admin: { tokens: [TOKEN] } },
      clients: { app: { key: TOKEN } },
    });
    assert.deepEqual(lines, [`clients.app.key: ${AUTH_CLASH}`, `clients.app.key: ${ADMIN_CLASH}`]);
  });

  test('keys and tokens that differ are fine', () => {
    const config = build({ proxy: { auth: { tokens: [TOKEN] }, admin: { tokens: [ADMIN] } }, clients: { app: { key: KEY } } });
    assert.equal(config.clients.get('app')?.key_sha256, keyDigest(KEY));
  });
});

describe('a client key with a character past printable ASCII', () => {
  test('is a config error that does not quote the key', () => {
    const keys = { accent: 'mm-café-0123456789abcdef', euro: 'mm-€uro-0123456789abcdef', emoji: 'mm-🔑-0123456789abcdefgh', control: 'mm-ctl\u0007-0123456789abcdef' };
    const lines = problems({ clients: Object.fromEntries(Object.entries(keys).map(([name, key]) => [name, { key }])) });
    const rule = 'a client key may contain only printable ASCII characters (an HTTP header cannot carry any other key as written)';
    assert.deepEqual(lines, Object.keys(keys).map((name) => `clients.${name}.key: ${rule}`));
    for (const key of Object.values(keys)) assert.ok(!lines.join('\n').includes(key));
  });

  test('every printable ASCII character is still allowed', () => {
    let printable = '';
    for (let c = 0x21; c <= 0x7e; c++) printable += String.fromCharCode(c);
    assert.equal(build({ clients: { app: { key: printable } } }).clients.get('app')?.key_sha256, keyDigest(printable));
  });
});

function yaml(clientKey: string): string {
  return [
    'proxy:', `  admin: {tokens: [${ADMIN}]}`,
    'providers:', '  sim: {connector: modelmesh.simulated.v1}',
    'models:', '  sim.chat: {provider: sim, capabilities: [chat-completion]}',
    'clients:', `  app: {key_sha256: ${keyDigest(clientKey)}}`, '',
  ].join('\n');
}

test('SIGHUP with a client key equal to an admin token: the reload is refused and the old config stays', async (t) => {
  const dir = tempDir(t);
  const path = writeIn(dir, 'mesh.yaml', yaml(KEY));
  const port = await freePort();
  // src/server.ts itself (through tsx), so the signal handler under test is the one that ships.
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts', '--config', path, '--host', '127.0.0.1', '--port', String(port)], {
    cwd: ROOT, env: cleanEnv(), stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const exited = once(child, 'exit');
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
  });
  const url = `http://127.0.0.1:${port}`;
  const models = (key: string): Promise<number> => request(`${url}/v1/models`, { headers: { authorization: `Bearer ${key}` } }).then((r) => r.status);
  const until = async (what: string, ok: () => Promise<boolean> | boolean): Promise<void> => {
    for (let i = 0; i < 300; i++) {
      if (await ok()) return;
      await delay(50);
    }
    assert.fail(`${what}; stderr: ${stderr}`);
  };
  await until('the server never listened', () => stderr.includes('"msg":"listening"'));
  assert.equal(await models(KEY), 200);

  writeFileSync(path, yaml(ADMIN));
  child.kill('SIGHUP');
  await until('no reload failure was logged', () => stderr.includes('config reload failed'));
  const line = stderr.split('\n').find((l) => l.includes('config reload failed')) ?? '';
  assert.match(line, /clients\.app\.key_sha256: the same key as a token in proxy\.admin\.tokens/);
  assert.equal(await models(KEY), 200, 'the old client key still works');
  assert.equal(await models(ADMIN), 401, 'the admin token did not become a client key');
  for (const secret of [KEY, ADMIN, keyDigest(KEY), keyDigest(ADMIN)]) assert.ok(!stderr.includes(secret), 'a key or digest was logged');
});

test('proxy.auth and proxy.admin tokens an HTTP header cannot carry as written are config errors that never quote the token', () => {
  const bad = ['tok-café-0123456789', 'tok-\u0007-bell-0123456', ' tok-leading-space-0123'];
  for (const token of bad) {
    const lines = [...problems({ proxy: { auth: { tokens: [token] } } }), ...problems({ proxy: { admin: { tokens: [token] } } })];
    assert.deepEqual(lines.map((l) => l.split(':')[0]), ['proxy.auth.tokens[0]', 'proxy.admin.tokens[0]'], lines.join('\n'));
    assert.ok(lines.every((l) => l.includes('printable ASCII') && !l.includes(token.trim())), lines.join('\n'));
  }
  // A token with inner spaces (printable ASCII) stays valid, as before.
  assert.deepEqual(build({ proxy: { auth: { tokens: ['two words-0123456789'] } } }).proxy.auth.tokens, ['two words-0123456789']);
});
