// The --new-key helper, as a function and through the built CLI (`npm test` builds dist/ first).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildConfig } from '../../src/config/schema/index.ts';
import { parseYaml } from '../../src/config/yaml/parser.ts';
import { newClientKey, newKeyText } from '../../src/clients/new-key.ts';
import { ClientRegistry } from '../../src/clients/registry.ts';
import { cleanEnv, runCli } from '../helpers/cli.ts';

async function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  // No config file anywhere near: the helper must not need one.
  return runCli(args, { env: cleanEnv({ MESH_CONFIG: '/nonexistent/mesh.yaml' }) });
}

/** The printed lines after the key, as a config, accept the printed key. */
function accepts(text: string): string {
  const [key, ...rest] = text.split('\n');
  assert.ok(key !== undefined);
  const config = buildConfig(parseYaml(rest.join('\n')), { source: null, env: {}, baseDir: '/' });
  const client = new ClientRegistry(config.clients.values()).lookup(key);
  assert.ok(client, 'the printed config accepts the printed key');
  assert.ok(!rest.join('\n').includes(key), 'the config lines do not hold the key');
  return client.name;
}

test('keys are mm- plus 32 random bytes in base64url, different every time', () => {
  const keys = new Set(Array.from({ length: 20 }, newClientKey));
  assert.equal(keys.size, 20);
  for (const key of keys) assert.match(key, /^mm-[A-Za-z0-9_-]{43}$/);
});

test('the printed config lines accept the printed key', () => {
  assert.equal(accepts(newKeyText('app1')), 'app1');
  assert.throws(() => newKeyText('bad name'), /client names are letters/);
});

test('node dist/server.js --new-key app1 prints a key and its config lines, exit 0, no config needed', async () => {
  const run = await cli(['--new-key', 'app1']);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stderr, '');
  assert.match(run.stdout, /^mm-[A-Za-z0-9_-]{43}\n/);
  assert.match(run.stdout, /\nclients:\n {2}app1:\n {4}key_sha256: [0-9a-f]{64}\n$/);
  assert.equal(accepts(run.stdout), 'app1');
  const second = await cli(['--new-key', 'app1']);
  assert.notEqual(second.stdout.split('\n')[0], run.stdout.split('\n')[0]);
});

test('--new-key with a bad name or no name exits 2', async () => {
  const bad = await cli(['--new-key', 'my app']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /client names are letters/);
  assert.equal(bad.stdout, '');
  const missing = await cli(['--new-key']);
  assert.equal(missing.code, 2);
});
