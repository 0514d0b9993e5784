// storage: with connector modelmesh.redis.v1 (issue 13): defaults, checks, and the password redacted everywhere.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MeshError } from '../../../src/errors.ts';
import { createRedactor } from '../../../src/config/redact.ts';
import { buildConfig } from '../../../src/config/schema/index.ts';

function build(storage: unknown, env: Record<string, string> = {}) {
  return buildConfig({ storage }, { source: null, env, baseDir: '/tmp' });
}

test('modelmesh.redis.v1: defaults, a written password joins the redaction list', () => {
  const config = build({ connector: 'modelmesh.redis.v1', url: 'redis://app:pa%40ss@10.0.0.5:6380/2' });
  assert.deepEqual(config.storage.redis, {
    url: 'redis://app:pa%40ss@10.0.0.5:6380/2', key_prefix: 'modelmesh:', connect_timeout: 2000, command_timeout: 1000, flush_interval: 100, on_unavailable: 'open',
  });
  assert.ok(config.secretValues.includes('pa@ss'));
  assert.equal(createRedactor(config.secretValues)(config.storage.redis?.url ?? ''), 'redis://app:[REDACTED]@10.0.0.5:6380/2');
});

test('modelmesh.redis.v1: url from ${secrets:…}, options read', () => {
  const config = build(
    { connector: 'modelmesh.redis.v1', url: '${secrets:REDIS_URL}', key_prefix: 'mm:prod:', flush_interval: '250ms', command_timeout: '2s', on_unavailable: 'closed' },
    { REDIS_URL: 'rediss://default:topsecret@cache.example.com:6380' },
  );
  assert.equal(config.storage.redis?.flush_interval, 250);
  assert.equal(config.storage.redis?.on_unavailable, 'closed');
  assert.equal(config.storage.redis?.key_prefix, 'mm:prod:');
  assert.ok(config.secretValues.some((v) => v.includes('topsecret')));
});

test('modelmesh.redis.v1: a missing or bad url and an out-of-range flush_interval are config errors, the password not quoted', () => {
  assert.throws(() => build({ connector: 'modelmesh.redis.v1' }), (err: MeshError) => /storage\.url: required/.test(err.message));
  assert.throws(
    () => build({ connector: 'modelmesh.redis.v1', url: 'http://u:hunter2@host', flush_interval: '1ms' }),
    (err: MeshError) => /storage\.url: invalid Redis URL/.test(err.message) && /flush_interval/.test(err.message) && !err.message.includes('hunter2'),
  );
  assert.throws(() => build({ connector: 'modelmesh.redis.v1', url: 'redis://h', on_unavailable: 'maybe' }), /on_unavailable: expected one of open, closed/);
});

test('the local file stays the default, with no Redis settings', () => {
  const config = build({ path: 'state.json' });
  assert.equal(config.storage.connector, 'modelmesh.local-file.v1');
  assert.equal(config.storage.redis, undefined);
});
