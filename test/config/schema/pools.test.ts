import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../../src/config/errors.ts';
import { buildConfig } from '../../../src/config/schema/index.ts';
import { defaultPoolConfig } from '../../../src/config/schema/pools.ts';

test('defaultPoolConfig is the pool a file would get from `pools: { name: { capability } }`', () => {
  for (const [name, capability] of [['text-generation', 'generation.text-generation'], ['openai.gpt-4o', null]] as const) {
    const written = buildConfig({ pools: { [name]: { capability } } }, { source: null, env: {}, baseDir: '/' }).pools.get(name);
    assert.deepEqual(defaultPoolConfig(name, capability), written);
  }
  assert.equal(defaultPoolConfig('p', null).strategy, 'modelmesh.stick-until-failure.v1');
  assert.equal(defaultPoolConfig('p', null).capability, null);
});

test('defaultPoolConfig rejects a name no pool may have', () => {
  assert.throws(() => defaultPoolConfig('a b', null), (e: unknown) => e instanceof ConfigError && e.path === 'pools.a b');
});
