// Issue 11.7, config traps: listing proxy tokens never leaves the proxy open silently, and secret names
// as people write them (`proxy-token`, `openai.key`) resolve, in the env store through their env form.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../src/config/errors.ts';
import { buildConfig } from '../../src/config/schema/index.ts';
import { secretNameCandidates } from '../../src/config/secrets.ts';
import { postJson, simulatedConfig, startProxy } from '../helpers/proxy.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const build = (raw: unknown, env: Record<string, string> = {}, baseDir = '/srv/mesh') => buildConfig(raw, { source: null, env, baseDir });

test('proxy.auth with tokens and no `enabled` is on; enabled: false with tokens warns', () => {
  const on = build({ proxy: { auth: { method: 'bearer', tokens: ['t1'] } } });
  assert.equal(on.proxy.auth.enabled, true);
  assert.deepEqual(on.warnings, []);
  const off = build({ proxy: { auth: { enabled: false, tokens: ['t1'] } } });
  assert.equal(off.proxy.auth.enabled, false);
  assert.equal(off.warnings.length, 1);
  assert.match(off.warnings[0] ?? '', /proxy\.auth\.enabled is false: the 1 token\(s\).*ignored/);
  assert.equal(build({ proxy: { auth: { method: 'bearer' } } }).proxy.auth.enabled, false);
});

test('a proxy configured in the upstream docs style refuses requests without the token', async (t) => {
  const proxy = await startProxy(simulatedConfig({ proxy: { auth: { method: 'bearer', tokens: ['s3cret'] } } }));
  t.after(() => proxy.close());
  const body = { model: 'sim.chat', messages: [{ role: 'user', content: 'hi' }] };
  assert.equal((await postJson(`${proxy.url}/v1/chat/completions`, body)).status, 401);
  assert.equal((await postJson(`${proxy.url}/v1/chat/completions`, body, { authorization: 'Bearer s3cret' })).status, 200);
});

test('${secrets:proxy-token}: the literal name first, then PROXY_TOKEN', () => {
  assert.deepEqual(secretNameCandidates('proxy-token'), ['proxy-token', 'PROXY_TOKEN']);
  assert.deepEqual(secretNameCandidates('openai.key'), ['openai.key', 'OPENAI_KEY']);
  assert.deepEqual(secretNameCandidates('OPENAI_API_KEY'), ['OPENAI_API_KEY']);
  const raw = { proxy: { auth: { tokens: ['${secrets:proxy-token}'] } } };
  assert.deepEqual(build(raw, { PROXY_TOKEN: 'from-env' }).proxy.auth.tokens, ['from-env']);
  assert.deepEqual(build(raw, { 'proxy-token': 'literal', PROXY_TOKEN: 'from-env' }).proxy.auth.tokens, ['literal']);
  assert.deepEqual(build({ proxy: { admin: { tokens: ['${secrets:openai.key}'] } } }, { OPENAI_KEY: 'k' }).proxy.admin.tokens, ['k']);
  assert.throws(() => build(raw), (err: unknown) => err instanceof ConfigError && err.message === 'proxy.auth.tokens[0]: secret "proxy-token" or "PROXY_TOKEN" is not set');
});

test('dotenv keys with hyphens and dots resolve as written', (t) => {
  const dir = tempDir(t, 'mesh-secrets-');
  writeFileSync(join(dir, '.env'), 'proxy-token=dash\nopenai.key=dot\n');
  const config = build({ secrets: { store: 'modelmesh.dotenv.v1' }, proxy: { auth: { tokens: ['${secrets:proxy-token}', '${secrets:openai.key}'] } } }, {}, dir);
  assert.deepEqual(config.proxy.auth.tokens, ['dash', 'dot']);
  assert.equal(config.proxy.auth.enabled, true);
});
