import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../src/config/errors.ts';
import { buildConfig } from '../../src/config/schema/index.ts';
import { AnthropicProvider } from '../../src/providers/anthropic/index.ts';
import { OpenAiCompatibleProvider } from '../../src/providers/openai-compatible.ts';
import { createProvider, knownConnectors } from '../../src/providers/registry.ts';
import { SimulatedProvider } from '../../src/providers/simulated/index.ts';
import { providerConfig } from '../helpers/fake-upstream.ts';

test('knownConnectors lists every preset', () => {
  const ids = knownConnectors();
  for (const id of ['openai.llm.v1', 'anthropic.claude.v1', 'google.gemini.v1', 'groq.api.v1', 'deepseek.api.v1', 'mistral.api.v1',
    'together.api.v1', 'xai.grok.v1', 'openrouter.gateway.v1', 'ollama.local.v1', 'vllm.local.v1', 'lmstudio.local.v1',
    'localai.local.v1', 'modelmesh.simulated.v1']) {
    assert.ok(ids.includes(id), id);
  }
  assert.equal(ids.length, 14);
});

test('createProvider picks the implementation by connector kind', () => {
  const make = (connector: string, id = connector) => createProvider(providerConfig(connector, null, { id }));
  const openai = make('groq.api.v1', 'fast');
  assert.ok(openai instanceof OpenAiCompatibleProvider);
  assert.equal(openai.id, 'fast');
  assert.equal(openai.simulated, false);
  assert.ok(make('anthropic.claude.v1') instanceof AnthropicProvider);
  const sim = make('modelmesh.simulated.v1');
  assert.ok(sim instanceof SimulatedProvider);
  assert.equal(sim.simulated, true);
  for (const p of [openai, sim]) p.close();
});

test('an unknown connector is a config error with the key path and a suggestion', () => {
  const attempt = (connector: string) => () => createProvider(providerConfig(connector, null, { id: 'main' }));
  assert.throws(attempt('openai.llm.v2'), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.equal(e.code, 'config_invalid');
    assert.equal(e.path, 'providers.main.connector');
    assert.equal(e.message, 'providers.main.connector: unknown connector "openai.llm.v2", did you mean "openai.llm.v1"?');
    return true;
  });
  assert.throws(attempt('zzz'), /unknown connector "zzz"; known connectors: openai\.llm\.v1, /);
});

test('a bad base_url is a config error', () => {
  // The schema is the one place base_url is checked (config/schema/check.ts httpUrl); connectors trust it.
  const raw = { providers: { x: { connector: 'openai.llm.v1', base_url: 'nope' } } };
  assert.throws(() => buildConfig(raw, { source: null, env: {}, baseDir: '/' }), (e: unknown) => e instanceof ConfigError && e.path === 'providers.x.base_url');
});
