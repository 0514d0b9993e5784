import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../../src/config/errors.ts';
import { buildConfig } from '../../../src/config/schema/index.ts';
import { editDistance, nearest } from '../../../src/config/suggest.ts';

/** The whole error message of a document that must fail. */
function problems(raw: unknown): string {
  try {
    buildConfig(raw, { source: null, env: {}, baseDir: '/srv/mesh' });
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    assert.equal(err.code, 'config_invalid');
    return err.message;
  }
  assert.fail('expected a config error');
}

const CHAT = ['chat-completion'];
const WORLD = {
  providers: { openai: null, anthropic: null },
  models: {
    'openai.gpt-4o': { provider: 'openai', capabilities: CHAT },
    'anthropic.claude-sonnet-4': { provider: 'anthropic', capabilities: CHAT },
  },
};

describe('nearest', () => {
  test('Damerau–Levenshtein distance', () => {
    assert.equal(editDistance('retyr', 'retry'), 1);
    assert.equal(editDistance('kitten', 'sitting'), 3);
    assert.equal(editDistance('', 'abc'), 3);
    assert.equal(editDistance('same', 'same'), 0);
  });

  test('suggests close words only', () => {
    assert.equal(nearest('retyr', ['recovery', 'retry', 'rate_limit']), 'retry');
    assert.equal(nearest('conect', ['connect', 'first_byte']), 'connect');
    assert.equal(nearest('Retry', ['retry']), 'retry');
    assert.equal(nearest('zzzzzz', ['retry', 'host']), undefined);
    assert.equal(nearest('ab', ['id']), undefined, 'a complete rewrite is not a typo');
    assert.equal(nearest('ab', ['abcd']), 'abcd');
    assert.equal(nearest('x', []), undefined);
    // long words tolerate more edits: max(2, len/3)
    assert.equal(nearest('modelmesh.stick-until-fail.v1', ['modelmesh.stick-until-failure.v1']), 'modelmesh.stick-until-failure.v1');
  });
});

describe('error formats', () => {
  test('unknown keys suggest the nearest valid key at every depth', () => {
    assert.equal(
      problems({ proxyy: {}, pools: { 'text-generation': { retyr: {} } }, providers: { x: { timeouts: { conect: '1s' } } } }),
      [
        'proxyy: unknown key, did you mean "proxy"?',
        'providers.x.timeouts.conect: unknown key, did you mean "connect"?',
        'pools.text-generation.retyr: unknown key, did you mean "retry"?',
      ].join('\n'),
    );
  });

  test('unknown key without a close match lists the valid keys', () => {
    assert.equal(problems({ storage: { zzzzzzzz: 1 } }), 'storage.zzzzzzzz: unknown key (expected one of: connector, path, sync_policy, sync_interval)');
  });

  test('wrong types: JSON of scalars, "a list" / "a mapping" for containers', () => {
    assert.equal(
      problems({
        pools: { 'text-generation': { retry: { max_attempts: 'two', honor_retry_after: 'yes', initial_delay: [1] } } },
        proxy: { host: { a: 1 }, port: 1.5, cors: { origins: 'x' } },
      }),
      [
        'proxy.host: expected a non-empty string, got a mapping',
        'proxy.port: expected an integer, got 1.5',
        'proxy.cors.origins: expected a list, got "x"',
        'pools.text-generation.retry.initial_delay: expected a duration like 500ms, 30s, 5m, 1h or 1d, got a list',
        'pools.text-generation.retry.max_attempts: expected an integer, got "two"',
        'pools.text-generation.retry.honor_retry_after: expected true or false, got "yes"',
      ].join('\n'),
    );
  });

  test('ranges', () => {
    assert.equal(
      problems({
        proxy: { port: 70000, limits: { max_body: '1 parsec' } },
        providers: { p: { failure_rate: 1.5, max_sockets: 0, budget: { daily_limit: -1 } } },
        pools: { p: { deactivation: { error_codes: [429, 99], retry_limit: -1 }, rate_limit: { threshold: 'high' } } },
      }),
      [
        'proxy.port: expected an integer between 0 and 65535, got 70000',
        'proxy.limits.max_body: expected a size like 512KiB, 10MiB or 25MB, got "1 parsec"',
        'providers.p.max_sockets: expected an integer >= 1, got 0',
        'providers.p.budget.daily_limit: expected a number >= 0, got -1',
        'providers.p.failure_rate: expected a number between 0 and 1, got 1.5',
        'pools.p.deactivation.retry_limit: expected an integer >= 0, got -1',
        'pools.p.deactivation.error_codes[1]: expected an integer between 100 and 599, got 99',
        'pools.p.rate_limit.threshold: expected a number, got "high"',
      ].join('\n'),
    );
  });

  test('enums, with a suggestion when close', () => {
    assert.equal(
      problems({ pools: { 'text-generation': { retry: { backoff: 'linear', scope: 'same_modle' }, provider_deactivation: ['on_outage'] } } }),
      [
        'pools.text-generation.retry.backoff: expected one of fixed, exponential_jitter, retry_after, got "linear"',
        'pools.text-generation.retry.scope: expected one of same_model, same_provider, any, got "same_modle", did you mean "same_model"?',
        'pools.text-generation.provider_deactivation[0]: expected one of on_auth_failure, on_api_outage, got "on_outage"',
      ].join('\n'),
    );
    assert.equal(problems({ pools: { p: { provider_deactivation: 'never' } } }), 'pools.p.provider_deactivation: expected one of on_auth_failure, on_api_outage, got "never"');
    assert.equal(problems({ observability: { logging: { connector: 'modelmesh.console.v1', level: 42 } } }), 'observability.logging.level: expected one of metadata, summary, full, got 42');
  });

  test('required keys', () => {
    assert.equal(
      problems({ providers: { openai: null }, models: { 'openai.gpt-4o': {} } }),
      ['models.openai.gpt-4o.provider: required', 'models.openai.gpt-4o.capabilities: required'].join('\n'),
    );
    assert.equal(
      problems({ providers: { openai: null }, models: { 'openai.gpt-4o': { provider: 'openai', capabilities: [] } } }),
      'models.openai.gpt-4o.capabilities: expected a non-empty list of capabilities',
    );
  });

  test('cross references suggest the nearest name', () => {
    assert.equal(
      problems({
        providers: { openai: null },
        models: { 'openai.gpt-4o': { provider: 'opneai', capabilities: CHAT }, 'x.y': { provider: 'zzzzzzzzz', capabilities: CHAT } },
      }),
      [
        'models.openai.gpt-4o.provider: unknown provider "opneai", did you mean "openai"?',
        'models.x.y.provider: unknown provider "zzzzzzzzz" (expected one of: openai)',
      ].join('\n'),
    );
    assert.equal(problems({ models: { 'a.b': { provider: 'a', capabilities: CHAT } } }), 'models.a.b.provider: unknown provider "a" (none are configured)');
  });

  test('pool references to models and providers must exist', () => {
    assert.equal(
      problems({
        ...WORLD,
        pools: {
          p: {
            models: ['openai.gpt4o', 'openai.gpt-4o'],
            model_priority: ['anthropic.claude-sonet-4'],
            providers: ['openai', 'antropic'],
            excluded_providers: ['opnai'],
            provider_priority: ['nobody-at-all'],
          },
        },
      }),
      [
        'pools.p.models[0]: unknown model "openai.gpt4o", did you mean "openai.gpt-4o"?',
        'pools.p.providers[1]: unknown provider "antropic", did you mean "anthropic"?',
        'pools.p.excluded_providers[0]: unknown provider "opnai", did you mean "openai"?',
        'pools.p.model_priority[0]: unknown model "anthropic.claude-sonet-4", did you mean "anthropic.claude-sonnet-4"?',
        'pools.p.provider_priority[0]: unknown provider "nobody-at-all" (expected one of: openai, anthropic)',
      ].join('\n'),
    );
  });

  test('model ids are dot-notated; duplicates anywhere are errors', () => {
    assert.equal(
      problems({ providers: { openai: null }, models: { gpt4: { provider: 'openai', capabilities: CHAT } } }),
      'models.gpt4: model ids are dot-notated vendor.model-name',
    );
    assert.equal(
      problems({
        providers: { openai: { models: [{ id: 'openai.gpt-4o', capabilities: CHAT }, { id: 'gpt', capabilities: CHAT }] } },
        models: { 'openai.gpt-4o': { provider: 'openai', capabilities: CHAT } },
      }),
      [
        'providers.openai.models[1].id: model ids are dot-notated vendor.model-name',
        'models.openai.gpt-4o: duplicate model id "openai.gpt-4o" (also defined at providers.openai.models[0])',
      ].join('\n'),
    );
  });

  test('nested model lists', () => {
    assert.equal(problems({ providers: { a: { models: { 'a.b': {} } } } }), 'providers.a.models: expected a list of models, got a mapping');
    assert.equal(
      problems({ providers: { a: { models: ['a.b', { capabilities: CHAT }, { id: 'a.c', provider: 'b', capabilities: CHAT, pricng: 1 }] } } }),
      [
        'providers.a.models[0]: expected a mapping with an id, got "a.b"',
        'providers.a.models[1].id: required',
        'providers.a.models[2].pricng: unknown key, did you mean "pricing"?',
        'providers.a.models[2].provider: expected "a" (the provider this list belongs to) or nothing, got "b"',
      ].join('\n'),
    );
  });

  test('aliases may not repeat a pool name or another alias', () => {
    assert.equal(
      problems({ pools: { chat: { aliases: ['gpt'] }, code: { aliases: ['chat', 'gpt', 'ok', 'my alias'] } } }),
      [
        'pools.code.aliases[0]: alias "chat" is already the name of pool chat',
        'pools.code.aliases[1]: alias "gpt" is already an alias of pool chat',
        'pools.code.aliases[3]: aliases may not contain whitespace, got "my alias"',
      ].join('\n'),
    );
  });

  test('endpoints: unknown routes suggest the nearest', () => {
    assert.equal(
      problems({ proxy: { endpoints: ['/v1/chat/completion', 'audio/speach', 'zzz', 7] } }),
      [
        'proxy.endpoints[0]: unknown endpoint "/v1/chat/completion", did you mean "/v1/chat/completions"?',
        'proxy.endpoints[1]: unknown endpoint "audio/speach", did you mean "/v1/audio/speech"?',
        'proxy.endpoints[2]: unknown endpoint "zzz"',
        'proxy.endpoints[3]: expected an endpoint like /v1/chat/completions, got 7',
      ].join('\n'),
    );
  });

  test('proxy rules', () => {
    assert.equal(problems({ proxy: { auth: { enabled: true } } }), 'proxy.auth.tokens: required when proxy.auth.enabled is true');
    assert.equal(problems({ proxy: { auth: { enabled: true, tokens: [] } } }), 'proxy.auth.tokens: must list at least one token when proxy.auth.enabled is true');
    assert.equal(problems({ proxy: { auth: { method: 'basic' } } }), 'proxy.auth.method: expected one of bearer, got "basic"');
    assert.equal(problems({ proxy: { timeouts: { headers: '10m' } } }), 'proxy.timeouts.headers: must not be longer than proxy.timeouts.request (300000ms)');
    assert.equal(problems({ proxy: { metrics: { path: 'metrics' } } }), 'proxy.metrics.path: expected a path starting with /, got "metrics"');
    assert.equal(problems({ proxy: { cors: { max_age: 'soon' } } }), 'proxy.cors.max_age: expected a number of seconds or a duration like 10m, got "soon"');
    assert.equal(problems({ proxy: 'on' }), 'proxy: expected a mapping, got "on"');
  });

  test('provider rules', () => {
    assert.equal(
      problems({ providers: { 'my provider': { base_url: 'ftp://x', timeout: '1s', timeouts: { total: '2s' }, headers: { a: [1] }, connector: '' } } }),
      [
        'providers.my provider: provider ids may not be empty or contain whitespace',
        'providers.my provider.timeout: conflicts with providers.my provider.timeouts.total; write only one',
        'providers.my provider.connector: expected a non-empty string, got ""',
        'providers.my provider.base_url: expected an http(s) URL, got "ftp://x"',
        'providers.my provider.headers.a: expected a string, got a list',
      ].join('\n'),
    );
    assert.equal(problems({ providers: { p: { headers: 'x' } } }), 'providers.p.headers: expected a mapping, got "x"');
  });

  test('pool rules', () => {
    assert.equal(
      problems({
        pools: {
          'bad name': {
            deactivation: { maintenance_window: '2am-4am' },
            retry: { initial_delay: '10s', retryable_codes: [429, 500], non_retryable_codes: [400, 500] },
            recovery: { quota_reset_schedule: 'weekly' },
          },
        },
      }),
      [
        'pools.bad name: pool names may not be empty or contain whitespace',
        'pools.bad name.deactivation.maintenance_window: expected a UTC time window like 02:00-04:00, got "2am-4am"',
        'pools.bad name.recovery.quota_reset_schedule: expected one of monthly, daily_utc, got "weekly"',
        'pools.bad name.retry.initial_delay: 10000ms is longer than max_delay (5000ms)',
        'pools.bad name.retry.non_retryable_codes: 500 also listed in retryable_codes',
      ].join('\n'),
    );
  });

  test('storage and observability rules', () => {
    assert.equal(
      problems({
        storage: { sync_policy: 'periodic', connector: 'redis' },
        observability: {
          routing: { path: 'x.jsonl' },
          logging: { connector: 'modelmesh.local-file.v1' },
          statistics: { connector: 'modelmesh.webhook.v1' },
        },
      }),
      [
        'storage.sync_policy: "periodic" writes state to a file: set storage.path, or use in-memory',
        'storage.connector: expected one of modelmesh.local-file.v1, modelmesh.redis.v1, got "redis"',
        'observability.routing.connector: required',
        'observability.logging.path: required by modelmesh.local-file.v1',
        'observability.statistics.url: required by modelmesh.webhook.v1',
      ].join('\n'),
    );
  });

  test('custom capabilities are full dotted paths', () => {
    assert.equal(
      problems({ capabilities: ['legal', 'generation.text-generation.legal-drafting', 3] }),
      [
        'capabilities[0]: expected a full dotted capability path like generation.text-generation.legal-drafting, got "legal"',
        'capabilities[2]: expected a full dotted capability path like generation.text-generation.legal-drafting, got 3',
      ].join('\n'),
    );
    assert.equal(problems({ capabilities: 'a.b' }), 'capabilities: expected a list, got "a.b"');
  });

  test('the top level must be a mapping', () => {
    assert.equal(
      problems(['proxy']),
      'the configuration must be a mapping of sections (secrets, proxy, providers, models, pools, clients, storage, observability, capabilities), got a list',
    );
  });

  test('every problem is reported at once; the error path is the first one', () => {
    try {
      buildConfig({ proxy: { port: 'x' }, pools: { p: { strategy: 7 } } }, { source: null, env: {}, baseDir: '/' });
      assert.fail('expected an error');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.path, 'proxy.port');
      assert.equal(err.message.split('\n').length, 2);
      // A config problem is not an HTTP answer (issue 10.6): no status, and not a MeshError.
      assert.equal('status' in err, false);
      assert.equal(err.name, 'ConfigError');
    }
  });
});

test('a quota reset schedule that contradicts the quota window is an error; a matching or absent one is not', () => {
  assert.match(
    problems({ pools: { p: { deactivation: { request_limit: 10, quota_window: 'monthly' }, recovery: { quota_reset_schedule: 'daily_utc' } } } }),
    /pools\.p\.recovery\.quota_reset_schedule: daily_utc does not match deactivation\.quota_window monthly \(use monthly, or leave it out\)/,
  );
  const ok = buildConfig({ pools: {
    m: { deactivation: { quota_window: 'monthly' } },
    d: { deactivation: { quota_window: 'daily' }, recovery: { quota_reset_schedule: 'daily_utc' } },
  } }, { source: null, env: {}, baseDir: '/' });
  assert.equal(ok.pools.get('m')?.recovery.quota_reset_schedule, 'monthly');
  assert.equal(ok.pools.get('d')?.recovery.quota_reset_schedule, 'daily_utc');
});
