import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../../src/config/errors.ts';
import { buildConfig } from '../../../src/config/schema/index.ts';
import { createRedactor } from '../../../src/config/redact.ts';
import { PREDEFINED_POOL_NAMES, keyDigest } from '../../../src/config/schema/clients.ts';
import { PREDEFINED_POOLS } from '../../../src/mesh/capabilities.ts';

const KEY1 = 'mm-app1-0123456789abcdefghij';
const KEY2 = 'mm-app2-0123456789abcdefghij';
const SHA2 = keyDigest(KEY2);
const BASE = {
  providers: { sim: { connector: 'modelmesh.simulated.v1' } },
  models: { 'sim.chat': { provider: 'sim', capabilities: ['chat-completion'] } },
  pools: { chat: { models: ['sim.chat'], aliases: ['gpt-4o'] } },
};

function build(clients: unknown, env: Record<string, string> = { APP1_KEY: KEY1 }) {
  return buildConfig({ ...BASE, clients }, { source: null, env, baseDir: '/srv/mesh' });
}

/** The config_invalid message lines of a failing build. */
function problems(clients: unknown, env?: Record<string, string>): string[] {
  try {
    build(clients, env);
  } catch (err) {
    assert.ok(err instanceof ConfigError && err.code === 'config_invalid', String(err));
    return err.message.split('\n');
  }
  assert.fail('expected config_invalid');
}

describe('clients: normalised', () => {
  test('a full client and a minimal one', () => {
    const config = build({
      app1: {
        key: '${secrets:APP1_KEY}',
        pools: ['chat', 'gpt-4o', 'sim.chat', 'embeddings'],
        rpm: 60,
        tpm: 10_000,
        max_concurrent: 4,
        budget: { daily: 5, monthly: 100.5 },
        metadata: { team: 'search', owner: 'ana', cost_center: 42 },
      },
      app2: { key_sha256: SHA2.toUpperCase() },
    });
    assert.deepEqual(config.clients.get('app1'), {
      name: 'app1',
      key_sha256: keyDigest(KEY1),
      pools: ['chat', 'gpt-4o', 'sim.chat', 'embeddings'],
      rpm: 60,
      tpm: 10_000,
      max_concurrent: 4,
      budget: { daily: 5, monthly: 100.5 },
      metadata: { team: 'search', owner: 'ana', cost_center: '42' },
    });
    assert.deepEqual(config.clients.get('app2'), {
      name: 'app2',
      key_sha256: SHA2,
      pools: null,
      rpm: null,
      tpm: null,
      max_concurrent: null,
      budget: { daily: null, monthly: null },
      metadata: {},
    });
    assert.deepEqual(config.warnings, []);
  });

  test('no clients section: an empty map', () => {
    assert.equal(buildConfig({}, { source: null, env: {}, baseDir: '/' }).clients.size, 0);
  });

  test('the key is in the redaction list and nowhere else in the config', () => {
    const config = build({ app1: { key: '${secrets:APP1_KEY}' }, app3: { key: 'mm-literal-key-0123456789' } });
    assert.ok(config.secretValues.includes(KEY1));
    assert.ok(config.secretValues.includes('mm-literal-key-0123456789'));
    const json = JSON.stringify({ ...config, secretValues: [], clients: [...config.clients.values()] });
    assert.ok(json.includes(keyDigest(KEY1)));
    assert.ok(!json.includes(KEY1) && !json.includes('mm-literal-key'));
    // A literal key works, with a warning that the file now holds a usable key.
    assert.deepEqual(config.warnings, ['clients.app3.key: the key is written in the config file; prefer ${secrets:NAME} or key_sha256']);
  });

  test('the predefined pool names match the mesh', () => {
    assert.deepEqual([...PREDEFINED_POOL_NAMES].sort(), Object.keys(PREDEFINED_POOLS).sort());
  });
});

describe('clients: errors', () => {
  test('typos, wrong types and ranges, each with its key path', () => {
    const lines = problems({
      app1: { key: '${secrets:APP1_KEY}', rmp: 5, tpm: 0, max_concurrent: 'two', budget: { dialy: 1, monthly: -1 }, metadata: { a: [] } },
    });
    assert.deepEqual(lines, [
      'clients.app1.rmp: unknown key, did you mean "rpm"?',
      'clients.app1.budget.dialy: unknown key, did you mean "daily"?',
      'clients.app1.tpm: expected an integer >= 1, got 0',
      'clients.app1.max_concurrent: expected an integer, got "two"',
      'clients.app1.budget.monthly: expected a number >= 0, got -1',
      'clients.app1.metadata.a: expected a string, got a list',
    ]);
  });

  test('exactly one of key and key_sha256', () => {
    assert.deepEqual(problems({ a: { rpm: 1 }, b: { key: KEY1, key_sha256: SHA2 }, c: null }), [
      'clients.a.key: required (key or key_sha256)',
      'clients.b.key_sha256: give either key or key_sha256, not both',
      'clients.c.key: required (key or key_sha256)',
    ]);
  });

  test('a missing secret names the secret, once', () => {
    assert.deepEqual(problems({ app1: { key: '${secrets:NOPE}' } }, {}), ['clients.app1.key: secret "NOPE" is not set']);
  });

  test('a bad key or digest is never quoted', () => {
    const lines = problems({
      short: { key: 'mm-short' },
      spaced: { key: 'mm key with spaces 0123456789' },
      digest: { key_sha256: KEY1 },
      number: { key: 12345 },
    });
    assert.deepEqual(lines, [
      'clients.short.key: too short: a client key needs at least 16 characters (node dist/server.js --new-key NAME makes one)',
      'clients.spaced.key: a client key may not contain whitespace',
      `clients.digest.key_sha256: expected 64 hex digits (the SHA-256 of the key, as --new-key prints it), got a string of ${KEY1.length} characters`,
      'clients.number.key: expected a non-empty string, got 12345',
    ]);
    assert.ok(!lines.join('\n').includes(KEY1));
  });

  test('two clients with the same key, given as key and as digest', () => {
    assert.deepEqual(problems({ app1: { key: '${secrets:APP1_KEY}' }, other: { key_sha256: keyDigest(KEY1) } }), [
      'clients.other.key_sha256: the same key as clients.app1 (every client needs its own key)',
    ]);
  });

  test('allow-list entries must name a pool, alias or model', () => {
    const lines = problems({ app1: { key: KEY1, pools: ['chta', 'text-generation', 'nothing-like-it'] }, app2: { key: KEY2, pools: [] } });
    assert.equal(lines[0], 'clients.app1.pools[0]: unknown pool, alias or model "chta", did you mean "chat"?');
    assert.match(lines[1] ?? '', /^clients\.app1\.pools\[2\]: unknown pool, alias or model "nothing-like-it" \(expected one of: chat, text-generation, .*gpt-4o, sim\.chat\)$/);
    assert.equal(lines[2], 'clients.app2.pools: must name at least one pool, alias or model (leave pools out to allow all)');
    assert.equal(lines.length, 3);
  });

  test('client names that cannot go in a URL or a metric label', () => {
    assert.deepEqual(problems({ 'my app': { key: KEY1 }, '-x': { key: KEY2 } }), [
      'clients.my app: client names are letters, digits, ".", "_" and "-", starting with a letter or digit, got "my app"',
      'clients.-x: client names are letters, digits, ".", "_" and "-", starting with a letter or digit, got "-x"',
    ]);
  });

  test('a wrong-type message quoting a secret key is redacted', () => {
    // `rpm: ${secrets:APP1_KEY}` is nonsense, but its message must not print the key.
    const lines = problems({ app1: { key: '${secrets:APP1_KEY}', rpm: '${secrets:APP1_KEY}' } });
    assert.deepEqual(lines, ['clients.app1.rpm: expected an integer, got "[REDACTED]"']);
    assert.equal(createRedactor([KEY1])(KEY1), '[REDACTED]');
  });

  test('`clients` must be a mapping', () => {
    assert.deepEqual(problems(['app1']), ['clients: expected a mapping, got a list']);
  });
});
