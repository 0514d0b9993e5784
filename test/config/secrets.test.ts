import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../src/config/errors.ts';
import { formatSummary } from '../../src/config/load.ts';
import { buildConfig } from '../../src/config/schema/index.ts';
import { dotenvStore, envStore, newResolution, parseDotenv, resolveSecrets } from '../../src/config/secrets.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const SECRET = 'sk-test-0123456789abcdef';

function build(raw: unknown, env: Record<string, string | undefined> = {}, baseDir = '/srv/mesh') {
  return buildConfig(raw, { source: null, env, baseDir });
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    assert.equal(err.code, 'config_invalid');
    return err;
  }
  assert.fail('expected a config error');
}

describe('parseDotenv', () => {
  test('every syntax form', () => {
    const text = [
      '# a comment',
      '',
      'PLAIN=value',
      'export EXPORTED=yes',
      '  SPACED = around  ',
      "SINGLE='lit\\n $x # not a comment'",
      'DOUBLE="line1\\nline2\\t\\"q\\" \\\\ \\z"',
      'TRAILING=abc # comment',
      'HASH=a#b',
      'EMPTY=',
      'EMPTY_COMMENT= # only a comment',
      "QUOTED_COMMENT='v' # comment",
      'MULTI="first',
      'second"',
      'CRLF=x\r',
      'DUP=1',
      'DUP=2',
      'dotted.key-name=ok',
    ].join('\n');
    assert.deepEqual(
      Object.fromEntries(parseDotenv(text)),
      {
        PLAIN: 'value',
        EXPORTED: 'yes',
        SPACED: 'around',
        SINGLE: 'lit\\n $x # not a comment',
        DOUBLE: 'line1\nline2\t"q" \\ \\z',
        TRAILING: 'abc',
        HASH: 'a#b',
        EMPTY: '',
        EMPTY_COMMENT: '',
        QUOTED_COMMENT: 'v',
        MULTI: 'first\nsecond',
        CRLF: 'x',
        DUP: '2',
        'dotted.key-name': 'ok',
      },
    );
  });

  test('malformed lines name the line number, never the content', () => {
    assert.throws(() => parseDotenv('A=1\nnot a pair sk-secret\n'), { message: 'line 2: expected KEY=VALUE' });
    assert.throws(() => parseDotenv('A=1\n=novalue'), { message: 'line 2: expected KEY=VALUE' });
    assert.throws(() => parseDotenv("A=1\nB='open\nC=2"), { message: 'line 2: unterminated single-quoted value' });
    assert.throws(() => parseDotenv('B="open'), { message: 'line 1: unterminated double-quoted value' });
    assert.throws(() => parseDotenv('B="x" tail'), { message: 'line 1: unexpected text after the closing quote' });
  });

  test('empty input', () => {
    assert.equal(parseDotenv('').size, 0);
  });
});

describe('stores and substitution', () => {
  test('env store: unset and empty values count as not set; prototype keys are not secrets', () => {
    const store = envStore({ A: 'x', EMPTY: '', U: undefined });
    assert.equal(store.get('A'), 'x');
    assert.equal(store.get('EMPTY'), undefined);
    assert.equal(store.get('U'), undefined);
    assert.equal(store.get('toString'), undefined);
  });

  test('several references in one string, nested structures, paths', () => {
    const out = newResolution();
    const store = envStore({ A: 'alpha', B: 'beta' });
    const value = resolveSecrets(
      { s: '${secrets:A}-${secrets:B}', list: ['Bearer ${secrets:A}', 3], missing: 'x${secrets:C}', bad: '${secrets:not ok}' },
      'root',
      store,
      out,
    );
    assert.deepEqual(value, { s: 'alpha-beta', list: ['Bearer alpha', 3], missing: null, bad: '${secrets:not ok}' });
    assert.deepEqual([...out.values], ['alpha', 'beta']);
    assert.deepEqual(out.missing, [{ path: 'root.missing', name: 'C' }]);
    assert.deepEqual(out.invalid, [{ path: 'root.bad', reference: '${secrets:not ok}' }]);
  });

  test('paths through lists and from an empty base; a __proto__ key stays data; the input is not changed', () => {
    const out = newResolution();
    const input = JSON.parse('{"p":{"h":[{"k":"${secrets:NOPE}"},"${secrets:A}"]},"__proto__":{"x":"${secrets:A}"},"list":[[1,"${secrets:bad name}"]]}') as Record<string, unknown>;
    const before = JSON.stringify(input);
    const value = resolveSecrets(input, '', envStore({ A: 'alpha' }), out) as Record<string, unknown>;
    assert.deepEqual(out.missing, [{ path: 'p.h[0].k', name: 'NOPE' }]);
    assert.deepEqual(out.invalid, [{ path: 'list[0][1]', reference: '${secrets:bad name}' }]);
    assert.equal(Object.getPrototypeOf(value), Object.prototype);
    assert.deepEqual(Object.getOwnPropertyDescriptor(value, '__proto__')?.value, { x: 'alpha' });
    assert.deepEqual((value['p'] as { h: unknown[] }).h, [{ k: null }, 'alpha']);
    assert.equal(JSON.stringify(input), before);
  });

  test('dotenv store: a missing file is an error naming the path', (t) => {
    const dir = tempDir(t, 'mesh-secrets-');
    const file = join(dir, 'nope.env');
    assert.throws(() => dotenvStore(file), { message: `secrets.path: dotenv file ${file} not found` });
    assert.throws(() => dotenvStore(dir), /secrets\.path: dotenv file .* cannot be read \(EISDIR\)/);
    writeFileSync(join(dir, 'bad.env'), 'KEY=1\n!!\n');
    assert.throws(() => dotenvStore(join(dir, 'bad.env')), { message: `secrets.path: dotenv file ${join(dir, 'bad.env')}: line 2: expected KEY=VALUE` });
  });
});

describe('secrets in the schema', () => {
  const openai = { openai: { connector: 'openai.llm.v1', api_key: '${secrets:OPENAI_API_KEY}' } };

  test('env store resolves, records the value for redaction', () => {
    const config = build({ providers: openai }, { OPENAI_API_KEY: SECRET });
    const p = config.providers.get('openai');
    assert.equal(p?.api_key, SECRET);
    assert.equal(p?.enabled, true);
    assert.equal(p?.skipped, null);
    assert.ok(config.secretValues.includes(SECRET));
    assert.deepEqual(config.warnings, []);
  });

  test('dotenv store relative to the config folder, two references in one string', (t) => {
    const dir = tempDir(t, 'mesh-dotenv-');
    writeFileSync(join(dir, '.env'), `export USER_ID=alice\nKEY='${SECRET}'\n`);
    const config = build(
      {
        secrets: { store: 'modelmesh.dotenv.v1' },
        providers: { p: { headers: { 'x-auth': '${secrets:USER_ID}-${secrets:KEY}' } } },
      },
      { KEY: 'from-env-ignored' },
      dir,
    );
    assert.deepEqual(config.secrets, { store: 'modelmesh.dotenv.v1', path: join(dir, '.env') });
    assert.deepEqual(config.providers.get('p')?.headers, { 'x-auth': `alice-${SECRET}` });
    assert.deepEqual(config.secretValues.sort(), [SECRET, 'alice'].sort());
  });

  test('dotenv with an explicit path; a missing file is a config error naming it', () => {
    const err = configError(() => build({ secrets: { store: 'modelmesh.dotenv.v1', path: 'conf/keys.env' } }));
    assert.equal(err.message, 'secrets.path: dotenv file /srv/mesh/conf/keys.env not found');
    assert.equal(err.path, 'secrets.path');
  });

  test('path with the env store is an error', () => {
    assert.equal(configError(() => build({ secrets: { path: '.env' } })).message, 'secrets.path: only used with store: modelmesh.dotenv.v1');
  });

  test('unknown store suggests the nearest', () => {
    assert.equal(
      configError(() => build({ secrets: { store: 'modelmesh.dotenv.v2' } })).message,
      'secrets.store: expected one of modelmesh.env.v1, modelmesh.dotenv.v1, got "modelmesh.dotenv.v2", did you mean "modelmesh.dotenv.v1"?',
    );
  });

  test('missing secret: provider skipped with a warning; its models stay', () => {
    const config = build({
      providers: { ...openai, sim: { connector: 'modelmesh.simulated.v1' } },
      models: { 'openai.gpt-4o': { provider: 'openai', capabilities: ['chat-completion'] } },
    });
    const p = config.providers.get('openai');
    assert.equal(p?.enabled, false);
    assert.equal(p?.skipped, 'secret "OPENAI_API_KEY" is not set');
    assert.equal(p?.api_key, null);
    assert.deepEqual(config.warnings, ['provider openai skipped: secret "OPENAI_API_KEY" is not set']);
    assert.equal(config.providers.get('sim')?.enabled, true);
    assert.ok(config.models.has('openai.gpt-4o'));
  });

  test('several missing secrets in one provider are listed once each', () => {
    const config = build({
      providers: { p: { api_key: '${secrets:A}', base_url: 'https://${secrets:HOST}/v1', headers: { x: '${secrets:A}' } } },
    });
    assert.equal(config.providers.get('p')?.skipped, 'secrets "A", "HOST" are not set');
    assert.equal(config.providers.get('p')?.base_url, null);
  });

  test('missing secret with enabled: false: disabled by the operator, no warning', () => {
    const config = build({ providers: { openai: { ...openai.openai, enabled: false } } });
    assert.equal(config.providers.get('openai')?.enabled, false);
    assert.equal(config.providers.get('openai')?.skipped, null);
    assert.deepEqual(config.warnings, []);
  });

  test('missing secret with enabled: true fails naming the secret', () => {
    const err = configError(() => build({ providers: { openai: { ...openai.openai, enabled: true } } }));
    assert.equal(err.message, 'providers.openai.api_key: secret "OPENAI_API_KEY" is not set (the provider says enabled: true)');
    assert.equal(err.path, 'providers.openai.api_key');
  });

  test('missing secret outside providers is an error at its path (and nothing more there)', () => {
    const err = configError(() =>
      build({
        proxy: { auth: { enabled: true, tokens: ['${secrets:PROXY_TOKEN}'] }, admin: { tokens: ['${secrets:ADMIN}'] } },
        observability: { routing: { connector: 'modelmesh.webhook.v1', url: '${secrets:HOOK_URL}' } },
      }),
    );
    assert.equal(
      err.message,
      [
        'proxy.auth.tokens[0]: secret "PROXY_TOKEN" is not set',
        'proxy.admin.tokens[0]: secret "ADMIN" is not set',
        'observability.routing.url: secret "HOOK_URL" is not set',
      ].join('\n'),
    );
  });

  test('malformed reference', () => {
    assert.equal(
      configError(() => build({ proxy: { host: '${secrets:my key}' } })).message,
      'proxy.host: malformed secret reference "${secrets:my key}" (names are letters, digits, _, - and ., starting with a letter or _)',
    );
  });

  test('a dotenv problem does not also report every reference as missing', () => {
    const err = configError(() =>
      build({ secrets: { store: 'modelmesh.dotenv.v1' }, proxy: { admin: { tokens: ['${secrets:X}'] } } }),
    );
    assert.equal(err.message, 'secrets.path: dotenv file /srv/mesh/.env not found');
  });

  test('a secret value never appears in errors, warnings or the summary', () => {
    const env = { OPENAI_API_KEY: SECRET, TOKEN: `tok-${SECRET}` };
    // The secret lands in a numeric field: the wrong-type message would quote it.
    const err = configError(() =>
      build({ providers: { openai: { api_key: '${secrets:OPENAI_API_KEY}', max_sockets: '${secrets:OPENAI_API_KEY}' } } }, env),
    );
    assert.equal(err.message, 'providers.openai.max_sockets: expected an integer, got "[REDACTED]"');
    assert.ok(!err.message.includes(SECRET));

    const config = build(
      {
        proxy: { auth: { enabled: true, tokens: ['${secrets:TOKEN}', 'literal-token-value'] } },
        providers: {
          openai: { api_key: '${secrets:OPENAI_API_KEY}', base_url: 'https://api.example.com/v1?key=${secrets:OPENAI_API_KEY}' },
          other: { api_key: '${secrets:MISSING_KEY}' },
          literal: { api_key: 'plain-literal-key', headers: { Authorization: 'Bearer header-credential' } },
        },
      },
      env,
    );
    const summary = formatSummary(config);
    for (const text of [summary, ...config.warnings]) {
      for (const secret of [SECRET, 'plain-literal-key', 'literal-token-value', 'header-credential']) {
        assert.ok(!text.includes(secret), `${secret} leaked in: ${text}`);
      }
    }
    assert.match(summary, /base_url https:\/\/api\.example\.com\/v1\?key=\[REDACTED\]/);
    assert.match(summary, /other: connector other, skipped \(secret "MISSING_KEY" is not set\)/);
  });
});
