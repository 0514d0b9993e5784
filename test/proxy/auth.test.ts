import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MeshError } from '../../src/errors.ts';
import { BearerAuth, MISSING_KEY_MESSAGE, WRONG_KEY_MESSAGE, bearerToken, createAuth } from '../../src/proxy/auth.ts';

function refusal(fn: () => void): MeshError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof MeshError);
    return err;
  }
  assert.fail('expected a refusal');
}

test('bearerToken parses the scheme case-insensitively and trims', () => {
  assert.equal(bearerToken('Bearer abc'), 'abc');
  assert.equal(bearerToken('bearer   abc  '), 'abc');
  assert.equal(bearerToken('BEARER abc'), 'abc');
  assert.equal(bearerToken('Basic abc'), undefined);
  assert.equal(bearerToken('Bearer '), undefined);
  assert.equal(bearerToken('Bearer'), undefined);
  assert.equal(bearerToken(undefined), undefined);
});

test('accepts any configured token, refuses others, including prefixes and longer strings', () => {
  const auth = new BearerAuth(['sk-one', 'sk-two-longer']);
  assert.equal(auth.accepts('sk-one'), true);
  assert.equal(auth.accepts('sk-two-longer'), true);
  assert.equal(auth.accepts('sk-on'), false);
  assert.equal(auth.accepts('sk-one '), false);
  assert.equal(auth.accepts('sk-two'), false);
  assert.equal(auth.accepts(''), false);
});

test('verify passes a good header', () => {
  const auth = new BearerAuth(['sk-one']);
  assert.doesNotThrow(() => auth.verify('Bearer sk-one'));
});

test('missing header: 401 invalid_api_key with the OpenAI wording, no retry', () => {
  const err = refusal(() => new BearerAuth(['sk-one']).verify(undefined));
  assert.equal(err.status, 401);
  assert.equal(err.code, 'invalid_api_key');
  assert.equal(err.type, 'invalid_request_error');
  assert.equal(err.message, MISSING_KEY_MESSAGE);
  assert.match(err.message, /^You didn't provide an API key/);
  assert.equal(err.headers['x-should-retry'], 'false');
  assert.match(err.headers['www-authenticate'] ?? '', /^Bearer/);
});

test('wrong token: 401 Incorrect API key, and the token is never echoed', () => {
  const err = refusal(() => new BearerAuth(['sk-one']).verify('Bearer sk-secret-guess-123'));
  assert.equal(err.status, 401);
  assert.equal(err.code, 'invalid_api_key');
  assert.equal(err.message, WRONG_KEY_MESSAGE);
  assert.match(err.message, /^Incorrect API key provided/);
  assert.ok(!JSON.stringify(err.toJSON()).includes('sk-secret-guess-123'));
  assert.ok(!JSON.stringify(err.toJSON()).includes('sk-one'));
});

test('a non-Bearer scheme counts as no key', () => {
  const err = refusal(() => new BearerAuth(['sk-one']).verify('Basic c2stb25lOg=='));
  assert.equal(err.message, MISSING_KEY_MESSAGE);
});

test('admin tokens get their own wording', () => {
  const err = refusal(() => new BearerAuth(['adm'], { admin: true }).verify('Bearer nope'));
  assert.match(err.message, /admin token/);
});

test('createAuth: null when disabled, a checker when enabled', () => {
  assert.equal(createAuth({ enabled: false, tokens: ['x'] }), null);
  const auth = createAuth({ enabled: true, tokens: ['x'] });
  assert.ok(auth instanceof BearerAuth);
  assert.equal(auth.accepts('x'), true);
});

test('presentedKey: Bearer first, then x-api-key; blank values are no key', async () => {
  const { presentedKey } = await import('../../src/proxy/auth.ts');
  const req = (headers: Record<string, string>): import('node:http').IncomingMessage => ({ headers }) as unknown as import('node:http').IncomingMessage;
  assert.equal(presentedKey(req({ authorization: 'Bearer abc' })), 'abc');
  assert.equal(presentedKey(req({ 'x-api-key': ' xyz ' })), 'xyz');
  assert.equal(presentedKey(req({ authorization: 'Bearer abc', 'x-api-key': 'xyz' })), 'abc');
  assert.equal(presentedKey(req({ authorization: 'Basic abc', 'x-api-key': 'xyz' })), 'xyz');
  assert.equal(presentedKey(req({ 'x-api-key': '  ' })), undefined);
  assert.equal(presentedKey(req({})), undefined);
});
