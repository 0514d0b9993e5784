import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { REDACTED, createRedactor, isSensitiveKey, redactDeep } from '../../src/config/redact.ts';

describe('createRedactor', () => {
  test('replaces every occurrence of every secret', () => {
    const redact = createRedactor(['sk-live-1234', 'hunter22']);
    assert.equal(
      redact('key=sk-live-1234 pw=hunter22 again sk-live-1234'),
      `key=${REDACTED} pw=${REDACTED} again ${REDACTED}`,
    );
  });

  test('longest secret first, so a secret containing another is replaced whole', () => {
    const redact = createRedactor(['abcd', 'abcdefgh']);
    assert.equal(redact('x abcdefgh y abcd'), `x ${REDACTED} y ${REDACTED}`);
  });

  test('ignores values shorter than 4 characters', () => {
    const redact = createRedactor(['abc', '', 'a']);
    assert.equal(redact('abc a abcabc'), 'abc a abcabc');
  });

  test('no secrets: the identity', () => {
    const redact = createRedactor([]);
    assert.equal(redact('anything'), 'anything');
  });

  test('regex metacharacters in a secret are literal', () => {
    const redact = createRedactor(['a.b*c(d)[e]{f}|g\\h$^+?/-']);
    assert.equal(redact('see a.b*c(d)[e]{f}|g\\h$^+?/- here; aXb'), `see ${REDACTED} here; aXb`);
  });

  test('matches the JSON-escaped and URL-encoded spellings', () => {
    const secret = 'pa"ss/wo rd';
    const redact = createRedactor([secret]);
    assert.equal(redact(JSON.stringify({ k: secret })), `{"k":"${REDACTED}"}`);
    assert.equal(redact(`https://h/?k=${encodeURIComponent(secret)}`), `https://h/?k=${REDACTED}`);
  });
});

describe('isSensitiveKey', () => {
  test('credential-named keys', () => {
    for (const key of ['api_key', 'apiKey', 'x-api-key', 'OPENAI_API_KEY', 'Authorization', 'proxy-authorization',
      'token', 'tokens', 'access_token', 'password', 'db_password', 'secret', 'client_secret', 'cookie', 'secretValues']) {
      assert.equal(isSensitiveKey(key), true, key);
    }
  });

  test('counts and ordinary keys are not credentials', () => {
    for (const key of ['max_tokens', 'prompt_tokens', 'tokens_in', 'token_limit', 'model', 'secrets', 'store', 'path']) {
      assert.equal(isSensitiveKey(key), false, key);
    }
  });
});

describe('redactDeep', () => {
  const redact = createRedactor(['sk-live-1234']);

  test('redacts strings everywhere and credential-named keys regardless of content', () => {
    const input = {
      base_url: 'https://x/?key=sk-live-1234',
      api_key: 'literal-not-in-list',
      headers: { Authorization: 'Bearer xyz', 'x-trace': 'ok' },
      auth: { tokens: ['t1', 't2'], enabled: true },
      nested: [{ password: 42 }, 'sk-live-1234'],
      max_tokens: 100,
      empty: { api_key: null },
      secret: { a: 'x', b: ['y'], on: true },
    };
    assert.deepEqual(redactDeep(input, redact), {
      base_url: `https://x/?key=${REDACTED}`,
      api_key: REDACTED,
      headers: { Authorization: REDACTED, 'x-trace': 'ok' },
      auth: { tokens: [REDACTED, REDACTED], enabled: true },
      nested: [{ password: REDACTED }, REDACTED],
      max_tokens: 100,
      empty: { api_key: null },
      secret: { a: REDACTED, b: [REDACTED], on: true },
    });
    assert.equal(input.api_key, 'literal-not-in-list', 'the input is not modified');
  });

  test('copies Maps, keeps class instances, breaks cycles', () => {
    const date = new Date(0);
    const cyclic: Record<string, unknown> = { name: 'sk-live-1234' };
    cyclic['self'] = cyclic;
    const out = redactDeep(
      { providers: new Map<unknown, unknown>([['p', { api_key: 'k' }], ['token', 'v'], [1, 'sk-live-1234']]), date, cyclic },
      redact,
    );
    assert.deepEqual(out.providers, new Map<unknown, unknown>([['p', { api_key: REDACTED }], ['token', REDACTED], [1, REDACTED]]));
    assert.equal(out.date, date);
    assert.deepEqual(out.cyclic, { name: REDACTED, self: '[Circular]' });
  });

  test('a shared (non-cyclic) object is copied twice, not reported as circular', () => {
    const shared = { v: 'x' };
    assert.deepEqual(redactDeep({ a: shared, b: shared }, redact), { a: { v: 'x' }, b: { v: 'x' } });
  });

  test('a __proto__ key stays data', () => {
    const input = JSON.parse('{"__proto__": {"polluted": "sk-live-1234"}}') as Record<string, unknown>;
    const out = redactDeep(input, redact);
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
    assert.deepEqual(Object.getOwnPropertyDescriptor(out, '__proto__')?.value, { polluted: REDACTED });
  });

  test('scalars pass through', () => {
    assert.equal(redactDeep(5, redact), 5);
    assert.equal(redactDeep(undefined, redact), undefined);
    assert.equal(redactDeep('sk-live-1234', redact), REDACTED);
  });
});
