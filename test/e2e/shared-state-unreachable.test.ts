// An unreachable Redis (issue 13 §5) is a clear error from --check and at start, naming the address and
// never the password; no redis-server needed (nothing listens on the port).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { closedPort } from '../helpers/fake-upstream.ts';
import { SERVER } from '../helpers/cli.ts';
import { tempDir, writeConfig } from '../observability/spawn.ts';

test('unreachable Redis: --check exits 1 naming the redacted URL; a start exits 1 with the same reason', async (t) => {
  const port = await closedPort();
  const config = writeConfig(tempDir(t), `
proxy: {host: 127.0.0.1}
providers:
  sim: {connector: modelmesh.simulated.v1}
models:
  sim.chat: {provider: sim, capabilities: [chat-completion]}
storage: {connector: modelmesh.redis.v1, url: "redis://:hidden-pw@127.0.0.1:${port}/0", connect_timeout: 500ms}
`);
  const check = spawnSync(process.execPath, [SERVER, '--check', '--config', config], { encoding: 'utf8', timeout: 15_000 });
  const out = `${check.stdout}${check.stderr}`;
  assert.equal(check.status, 1, out);
  assert.match(out, new RegExp(`storage.url: shared state store redis://:\\[REDACTED\\]@127\\.0\\.0\\.1:${port}/0 unusable`));
  assert.ok(!out.includes('hidden-pw'), out);

  const start = spawnSync(process.execPath, [SERVER, '--config', config, '--port', '0'], { encoding: 'utf8', timeout: 15_000 });
  assert.equal(start.status, 1, start.stderr);
  assert.match(start.stderr, /cannot start/);
  assert.match(start.stderr, new RegExp(`127\\.0\\.0\\.1:${port}`));
  assert.ok(!start.stderr.includes('hidden-pw'), start.stderr);
});
