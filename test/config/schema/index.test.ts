import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../../src/config/errors.ts';
import { formatSummary, loadConfigFile } from '../../../src/config/load.ts';
import { buildConfig } from '../../../src/config/schema/index.ts';
import { OPENAI_ROUTES } from '../../../src/config/types.ts';
import { TRACING_OFF } from '../../../src/observability/tracing/config.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

function build(raw: unknown, env: Record<string, string | undefined> = {}) {
  return buildConfig(raw, { source: null, env, baseDir: '/srv/mesh' });
}

const SIM = { sim: { connector: 'modelmesh.simulated.v1' } };
const CHAT = ['chat-completion'];

describe('defaults', () => {
  for (const empty of [null, undefined, {}]) {
    test(`an empty document (${String(empty && 'mapping')}) gives every default`, () => {
      const config = build(empty);
      assert.equal(config.source, null);
      assert.deepEqual(config.secrets, { store: 'modelmesh.env.v1', path: null });
      assert.deepEqual(config.proxy, {
        host: '127.0.0.1',
        port: 8080,
        endpoints: [...OPENAI_ROUTES],
        auth: { enabled: false, method: 'bearer', tokens: [] },
        cors: { enabled: false, origins: ['*'], max_age: 600 },
        limits: { max_body: 10_485_760, max_upload: 26_214_400 },
        timeouts: { headers: 30_000, request: 300_000, keep_alive: 65_000, deadline: 120_000 },
        drain_timeout: 30_000,
        metrics: { enabled: false, path: '/metrics' },
        admin: { tokens: [] },
        responses: { store_size: 1000, store_ttl: 3_600_000 },
      });
      assert.deepEqual(config.capabilities, []);
      assert.deepEqual([config.providers.size, config.models.size, config.pools.size], [0, 0, 0]);
      assert.deepEqual(config.storage, { connector: 'modelmesh.local-file.v1', path: null, sync_policy: 'in-memory', sync_interval: 30_000 });
      const off = { connector: null, path: null, url: null, headers: {}, batch_size: 100, flush_interval: 5_000 };
      assert.deepEqual(config.observability, {
        routing: off,
        logging: { ...off, level: 'metadata' },
        statistics: { ...off, flush_interval: 60_000 },
        tracing: TRACING_OFF,
      });
      assert.deepEqual(config.secretValues, []);
      assert.deepEqual(config.warnings, []);
    });
  }

  test('provider, model and pool defaults', () => {
    const config = build({
      providers: { 'modelmesh.simulated.v1': null },
      models: { 'sim.echo-1': { provider: 'modelmesh.simulated.v1', capabilities: CHAT } },
      pools: { chat: {} },
    });
    assert.deepEqual(config.providers.get('modelmesh.simulated.v1'), {
      id: 'modelmesh.simulated.v1',
      connector: 'modelmesh.simulated.v1',
      enabled: true,
      skipped: null,
      base_url: null,
      api_key: null,
      headers: {},
      timeouts: { connect: 10_000, first_byte: 60_000, idle: 60_000, total: 600_000 },
      max_sockets: 256,
      http_client: 'modelmesh',
      budget: { daily_limit: null, monthly_limit: null },
      simulated: { latency: 0, failure_rate: 0, chunk_interval: 20, dimensions: 256 },
    });
    assert.deepEqual(config.models.get('sim.echo-1'), {
      id: 'sim.echo-1',
      provider: 'modelmesh.simulated.v1',
      name: 'echo-1',
      capabilities: CHAT,
      delivery: { synchronous: true, streaming: true, batch: false },
      features: {
        tool_calling: null,
        structured_output: null,
        json_mode: null,
        system_prompt: null,
        grounding: null,
        logprobs: null,
        fine_tunable: null,
      },
      constraints: { context_window: null, max_output_tokens: null, max_images: null, max_file_size: null, supported_languages: null },
      pricing: { input_per_1m: 0, output_per_1m: 0 },
    });
    assert.deepEqual(config.pools.get('chat'), {
      name: 'chat',
      capability: null,
      models: [],
      aliases: [],
      providers: null,
      excluded_providers: [],
      model_priority: [],
      provider_priority: [],
      strategy: 'modelmesh.stick-until-failure.v1',
      fallback_strategy: null,
      balance_mode: 'absolute',
      deactivation: {
        retry_limit: 3,
        error_rate_threshold: null,
        error_rate_window: 20,
        error_codes: [],
        request_limit: null,
        token_limit: null,
        budget_limit: null,
        quota_window: null,
        maintenance_window: null,
      },
      recovery: { cooldown: 60_000, probe_on_start: false, probe_interval: null, on_quota_reset: true, quota_reset_schedule: 'daily_utc' },
      retry: {
        max_attempts: 2,
        backoff: 'exponential_jitter',
        initial_delay: 200,
        max_delay: 5_000,
        retryable_codes: [408, 429, 500, 502, 503, 504],
        non_retryable_codes: [400, 401, 403, 404, 422],
        scope: 'same_model',
        honor_retry_after: true,
      },
      rate_limit: { threshold: 0.1, min_delta: 0, max_rpm: null },
      provider_deactivation: ['on_auth_failure'],
      provider_recovery: 'on_probe_success',
    });
  });
});

describe('normalisation', () => {
  test('proxy values, shorthands and endpoint forms', () => {
    const { proxy } = build({
      proxy: {
        host: '0.0.0.0',
        port: 0,
        endpoints: ['chat/completions', '/embeddings', '/v1/models', 'v1/audio/speech', '/v1/models/'],
        auth: { enabled: true, tokens: ['t-1'] },
        cors: { enabled: true, origins: ['https://a.example'], max_age: '10m' },
        limits: { max_body: '1MiB', max_upload: 1000 },
        timeouts: { headers: '5s', request: '1m', keep_alive: 5000, deadline: '1m30s' },
        drain_timeout: '2s',
        metrics: true,
        admin: { tokens: ['adm-1'] },
      },
    });
    assert.deepEqual(proxy.endpoints, ['/v1/chat/completions', '/v1/embeddings', '/v1/audio/speech', '/v1/models']);
    assert.deepEqual(proxy.cors, { enabled: true, origins: ['https://a.example'], max_age: 600 });
    assert.deepEqual(proxy.limits, { max_body: 1_048_576, max_upload: 1000 });
    assert.deepEqual(proxy.timeouts, { headers: 5_000, request: 60_000, keep_alive: 5_000, deadline: 90_000 });
    assert.deepEqual(proxy.metrics, { enabled: true, path: '/metrics' });
    assert.equal(proxy.port, 0);
    assert.equal(proxy.drain_timeout, 2_000);
    assert.equal(build({ proxy: { metrics: { enabled: true, path: '/prom' }, cors: { max_age: 30 } } }).proxy.metrics.path, '/prom');
    assert.equal(build({ proxy: { cors: { max_age: 30 } } }).proxy.cors.max_age, 30);
    assert.deepEqual(build({ proxy: { metrics: false } }).proxy.metrics, { enabled: false, path: '/metrics' });
  });

  test('provider knobs, timeout shorthand, trailing slash of base_url', () => {
    const p = build({
      providers: {
        local: {
          connector: 'ollama.local.v1',
          enabled: false,
          base_url: 'http://localhost:11434/v1/',
          api_key: 'k',
          headers: { 'x-version': 2, 'x-flag': true, 'x-name': 'n' },
          timeout: '45s',
          timeouts: { connect: '1s', first_byte: '2s', idle: '3s' },
          max_sockets: 8,
          budget: { daily_limit: 5, monthly_limit: 100.5 },
          latency: '50ms',
          failure_rate: 0.25,
          chunk_interval: 5,
          dimensions: 64,
        },
      },
    }).providers.get('local');
    assert.equal(p?.connector, 'ollama.local.v1');
    assert.equal(p?.enabled, false);
    assert.equal(p?.base_url, 'http://localhost:11434/v1');
    assert.deepEqual(p?.headers, { 'x-version': '2', 'x-flag': 'true', 'x-name': 'n' });
    assert.deepEqual(p?.timeouts, { connect: 1_000, first_byte: 2_000, idle: 3_000, total: 45_000 });
    assert.deepEqual(p?.budget, { daily_limit: 5, monthly_limit: 100.5 });
    assert.deepEqual(p?.simulated, { latency: 50, failure_rate: 0.25, chunk_interval: 5, dimensions: 64 });
    assert.equal(p?.max_sockets, 8);
  });

  test('models nested under a provider are merged in document order', () => {
    const config = build({
      providers: {
        openai: { models: [{ id: 'openai.gpt-4o', capabilities: CHAT }, { id: 'openai.o1', provider: 'openai', capabilities: 'chat-completion' }] },
        sim: { connector: 'modelmesh.simulated.v1' },
      },
      models: { 'sim.echo': { provider: 'sim', capabilities: CHAT } },
    });
    assert.deepEqual([...config.models.keys()], ['openai.gpt-4o', 'openai.o1', 'sim.echo']);
    assert.equal(config.models.get('openai.gpt-4o')?.provider, 'openai');
    assert.deepEqual(config.models.get('openai.o1')?.capabilities, CHAT);
    const modelsFirst = build({ models: { 'sim.echo': { provider: 'sim', capabilities: CHAT } }, providers: { sim: { models: [{ id: 'sim.b', capabilities: CHAT }] } } });
    assert.deepEqual([...modelsFirst.models.keys()], ['sim.echo', 'sim.b']);
  });

  test('model details', () => {
    const m = build({
      providers: SIM,
      models: {
        'anthropic.claude-sonnet-4': {
          provider: 'sim',
          name: 'claude-sonnet-4-20250514',
          capabilities: ['chat-completion', 'tool-calling'],
          delivery: { batch: true, streaming: false },
          features: { tool_calling: true, json_mode: false },
          constraints: { context_window: 200_000, max_output_tokens: 8192, max_images: 20, max_file_size: '5MB', supported_languages: ['en', 'fr'] },
          pricing: { input_per_1m: 3, output_per_1m: 15 },
        },
      },
    }).models.get('anthropic.claude-sonnet-4');
    assert.equal(m?.name, 'claude-sonnet-4-20250514');
    assert.deepEqual(m?.delivery, { synchronous: true, streaming: false, batch: true });
    assert.equal(m?.features.tool_calling, true);
    assert.equal(m?.features.json_mode, false);
    assert.equal(m?.features.grounding, null);
    assert.deepEqual(m?.constraints, { context_window: 200_000, max_output_tokens: 8192, max_images: 20, max_file_size: 5_000_000, supported_languages: ['en', 'fr'] });
    assert.deepEqual(m?.pricing, { input_per_1m: 3, output_per_1m: 15 });
  });

  test('pool details and derived defaults', () => {
    const config = build({
      providers: { ...SIM, b: null },
      models: { 'sim.a': { provider: 'sim', capabilities: CHAT }, 'b.x': { provider: 'b', capabilities: CHAT } },
      pools: {
        'code-review': {
          capability: 'generation.text-generation.code-generation',
          models: ['sim.a', 'b.x'],
          aliases: ['review', 'cr'],
          providers: ['sim', 'b'],
          excluded_providers: ['b'],
          model_priority: ['b.x'],
          provider_priority: ['sim'],
          strategy: 'modelmesh.priority-selection.v1',
          fallback_strategy: 'modelmesh.cost-first.v1',
          balance_mode: 'relative',
          deactivation: { retry_limit: 0, error_rate_threshold: 0.5, error_codes: [429, 503], quota_window: 'monthly', maintenance_window: '22:00-02:30', token_limit: 1000, request_limit: 5, budget_limit: 2.5, error_rate_window: 10 },
          recovery: { cooldown: '5m', probe_on_start: true, probe_interval: '30s', on_quota_reset: false },
          retry: { max_attempts: 4, backoff: 'fixed', initial_delay: '1s', max_delay: '10s', scope: 'any', honor_retry_after: false },
          rate_limit: { threshold: 0.2, min_delta: 1, max_rpm: 60 },
          provider_deactivation: 'on_api_outage',
          provider_recovery: 'on_manual',
        },
      },
    });
    const pool = config.pools.get('code-review');
    assert.equal(pool?.recovery.quota_reset_schedule, 'monthly');
    assert.equal(pool?.deactivation.maintenance_window, '22:00-02:30');
    assert.deepEqual(pool?.provider_deactivation, ['on_api_outage']);
    assert.deepEqual(pool?.retry, { ...pool?.retry, max_attempts: 4, backoff: 'fixed', initial_delay: 1_000, max_delay: 10_000, scope: 'any' });
    assert.deepEqual(pool?.rate_limit, { threshold: 0.2, min_delta: 1, max_rpm: 60 });
    assert.equal(pool?.recovery.probe_interval, 30_000);
    assert.deepEqual(pool?.aliases, ['review', 'cr']);
  });

  test('a code written in one retry list leaves the other list', () => {
    const retry = build({ pools: { p: { retry: { retryable_codes: [404, 429] } } } }).pools.get('p')?.retry;
    assert.deepEqual(retry?.non_retryable_codes, [400, 401, 403, 422]);
    const other = build({ pools: { p: { retry: { non_retryable_codes: [429] } } } }).pools.get('p')?.retry;
    assert.deepEqual(other?.retryable_codes, [408, 500, 502, 503, 504]);
  });

  test('storage and observability paths resolve against the config folder', () => {
    const config = build({
      storage: { path: 'state/mesh.json' },
      observability: {
        routing: { connector: 'modelmesh.console.v1' },
        logging: { connector: 'modelmesh.local-file.v1', path: '/var/log/mesh.jsonl', level: 'full' },
        statistics: { connector: 'modelmesh.webhook.v1', url: 'https://hooks.example/stats', headers: { 'x-api-key': 'hook-key' }, batch_size: 10, flush_interval: '2m' },
      },
      capabilities: ['generation.text-generation.legal-drafting'],
    });
    assert.deepEqual(config.storage, { connector: 'modelmesh.local-file.v1', path: '/srv/mesh/state/mesh.json', sync_policy: 'sync-on-boundary', sync_interval: 30_000 });
    assert.equal(config.observability.routing.connector, 'modelmesh.console.v1');
    assert.equal(config.observability.logging.path, '/var/log/mesh.jsonl');
    assert.equal(config.observability.logging.level, 'full');
    assert.deepEqual(config.observability.statistics, {
      connector: 'modelmesh.webhook.v1', path: null, url: 'https://hooks.example/stats', headers: { 'x-api-key': 'hook-key' }, batch_size: 10, flush_interval: 120_000,
    });
    assert.ok(config.secretValues.includes('hook-key'));
    assert.deepEqual(config.capabilities, ['generation.text-generation.legal-drafting']);
    assert.equal(build({ storage: { path: 's.json', sync_policy: 'periodic', sync_interval: '10s' } }).storage.sync_policy, 'periodic');
  });

  test('observability.tracing is read, its URL completed and its credential headers redacted', () => {
    const config = build({
      observability: {
        tracing: { endpoint: 'http://collector:4318/', headers: { Authorization: 'Bearer otlp-secret', 'x-tenant': 'visible' }, sample_ratio: 0.25 },
      },
    });
    const t = config.observability.tracing;
    assert.equal(t.enabled, true);
    assert.equal(t.endpoint, 'http://collector:4318/v1/traces');
    assert.equal(t.sample_ratio, 0.25);
    assert.ok(config.secretValues.includes('otlp-secret'));
    assert.ok(!config.secretValues.includes('visible'));
    assert.throws(() => build({ observability: { tracing: { sample_ratio: 2 } } }), /observability\.tracing\.(endpoint|sample_ratio)/);
  });

  test('literal credentials join the redaction list', () => {
    const config = build({
      proxy: { auth: { enabled: true, tokens: ['proxy-token'] }, admin: { tokens: ['admin-token'] } },
      providers: { p: { api_key: 'literal-key', headers: { Authorization: 'Bearer hdr-token', 'x-other': 'visible' } } },
    });
    assert.deepEqual(config.secretValues.sort(), ['Bearer hdr-token', 'admin-token', 'hdr-token', 'literal-key', 'proxy-token']);
  });

  test('a __proto__ key is reported, never used as a prototype', () => {
    const raw = JSON.parse('{"__proto__": {"port": 1}, "proxy": {"__proto__": {"port": 2}}}') as unknown;
    assert.throws(() => build(raw), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /^__proto__: unknown key/m);
      assert.match(err.message, /^proxy\.__proto__: unknown key/m);
      return true;
    });
  });
});

describe('loading files', () => {
  const fixtures = fileURLToPath(new URL('../../fixtures/config/', import.meta.url));

  test('the full fixture loads, resolves dotenv secrets next to it and summarises without secrets', () => {
    const config = loadConfigFile(join(fixtures, 'full.yaml'), {});
    assert.equal(config.source, join(fixtures, 'full.yaml'));
    assert.equal(config.providers.get('openai')?.api_key, 'sk-fixture-openai-0001');
    assert.equal(config.providers.get('anthropic')?.skipped, 'secret "ANTHROPIC_API_KEY" is not set');
    assert.equal(config.storage.path, join(fixtures, 'state/mesh-state.json'));
    const summary = formatSummary(config);
    assert.ok(!summary.includes('sk-fixture-openai-0001'));
    assert.ok(!summary.includes('fixture-proxy-token'));
    assert.equal(
      summary,
      [
        `config: ${join(fixtures, 'full.yaml')}`,
        '4 providers (2 enabled, 1 skipped, 1 disabled), 4 models, 2 pools, 1 warning',
        // The total grows as routes are added (issue 14); the fixture enables 3 of them.
        `proxy: 127.0.0.1:8787, auth bearer (1 token), cors https://app.example, metrics /metrics, admin off, endpoints 3/${OPENAI_ROUTES.length}`,
        `storage: sync-on-boundary ${join(fixtures, 'state/mesh-state.json')}`,
        'providers:',
        '  openai: connector openai.llm.v1, enabled, base_url https://api.openai.com/v1',
        '  anthropic: connector anthropic.claude.v1, skipped (secret "ANTHROPIC_API_KEY" is not set), base_url (connector default)',
        '  sim: connector modelmesh.simulated.v1, enabled, base_url (connector default)',
        '  ollama: connector ollama.local.v1, disabled, base_url http://localhost:11434/v1',
        'models:',
        '  openai.gpt-4o-mini: provider openai, name gpt-4o-mini, capabilities chat-completion, tool-calling',
        '  anthropic.claude-sonnet-4: provider anthropic, name claude-sonnet-4-20250514, capabilities chat-completion',
        '  sim.echo: provider sim, name echo, capabilities chat-completion',
        '  sim.embed: provider sim, name embed, capabilities text-embeddings',
        'pools:',
        '  text-generation: capability (pool name), strategy modelmesh.cost-first.v1, aliases chat, gpt',
        '  code-review: capability generation.text-generation.code-generation, models openai.gpt-4o-mini, sim.echo, strategy modelmesh.priority-selection.v1',
        'warnings:',
        '  - provider anthropic skipped: secret "ANTHROPIC_API_KEY" is not set',
      ].join('\n'),
    );
  });

  test('an empty file is a valid config; the summary says so', (t) => {
    const dir = tempDir(t, 'mesh-load-');
    writeFileSync(join(dir, 'mesh.yaml'), '# nothing yet\n');
    const config = loadConfigFile(join(dir, 'mesh.yaml'));
    const summary = formatSummary(config);
    assert.match(summary, /^0 providers \(0 enabled, 0 skipped, 0 disabled\), 0 models, 0 pools, 0 warnings$/m);
    assert.match(summary, /^providers: none$/m);
    assert.match(summary, /^pools: none configured \(predefined pools only\)$/m);
    assert.match(formatSummary(build({})), /^config: \(built from an object\)$/m);
  });

  test('text settings (header values, client metadata) take a number as it was written: 000123 stays 000123', (t) => {
    const dir = tempDir(t, 'mesh-load-');
    writeFileSync(join(dir, 'mesh.yaml'), [
      'providers:',
      '  p: {connector: openai.llm.v1, base_url: "http://127.0.0.1:1/v1", api_key: sk-aaaaaaaaaaaaaaaa,',
      '      headers: {x-account-id: 000123, x-api-version: 2.10, x-n: 7}}',
      'clients:',
      '  app:',
      `    key_sha256: ${'a'.repeat(64)}`,
      '    metadata:',
      '      cost-center: 0042',
      '      build: 0x1F',
      '',
    ].join('\n'));
    const config = loadConfigFile(join(dir, 'mesh.yaml'), {});
    assert.deepEqual(config.providers.get('p')?.headers, { 'x-account-id': '000123', 'x-api-version': '2.10', 'x-n': '7' });
    assert.deepEqual(config.clients.get('app')?.metadata, { 'cost-center': '0042', build: '0x1F' });
  });

  test('a missing file, a YAML error and a schema error are all config_invalid', (t) => {
    const dir = tempDir(t, 'mesh-load-');
    assert.throws(() => loadConfigFile(join(dir, 'absent.yaml')), { code: 'config_invalid', message: `config file ${join(dir, 'absent.yaml')} not found` });
    assert.throws(() => loadConfigFile(dir), { code: 'config_invalid', message: `config file ${dir} cannot be read (EISDIR)` });
    writeFileSync(join(dir, 'bad.yaml'), 'proxy:\n  port: [1\n');
    assert.throws(() => loadConfigFile(join(dir, 'bad.yaml')), (err: unknown) => err instanceof ConfigError && err.code === 'config_invalid' && err.location !== undefined);
    writeFileSync(join(dir, 'schema.yaml'), 'proxy:\n  port: eighty\n');
    assert.throws(() => loadConfigFile(join(dir, 'schema.yaml')), { message: 'proxy.port: expected an integer, got "eighty"', path: 'proxy.port' });
  });
});
