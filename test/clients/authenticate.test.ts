import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keyDigest } from '../../src/config/schema/clients.ts';
import type { ClientConfig } from '../../src/config/types.ts';
import { MeshError } from '../../src/errors.ts';
import { BearerAuth } from '../../src/proxy/auth.ts';
import { UNKNOWN_CLIENT_KEY_MESSAGE, authenticate } from '../../src/clients/authenticate.ts';
import { ClientRegistry } from '../../src/clients/registry.ts';

const KEY = 'mm-app1-0123456789abcdefghij';
const APP1: ClientConfig = {
  name: 'app1', key_sha256: keyDigest(KEY), pools: null, rpm: null, tpm: null, max_concurrent: null,
  budget: { daily: null, monthly: null }, metadata: {},
};
const clients = new ClientRegistry([APP1]);
const none = new ClientRegistry([]);
const tokens = new BearerAuth(['anon-token-123']);

function refusal(fn: () => unknown): MeshError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof MeshError);
    return err;
  }
  assert.fail('expected a 401');
}

test('auth off and no clients: everyone is anonymous', () => {
  assert.equal(authenticate(undefined, none, null), null);
  assert.equal(authenticate('whatever', none, null), null);
});

test('a client key finds the client, with or without proxy.auth', () => {
  assert.equal(authenticate(KEY, clients, null)?.name, 'app1');
  assert.equal(authenticate(KEY, clients, tokens)?.name, 'app1');
});

test('a proxy.auth token is anonymous next to clients', () => {
  assert.equal(authenticate('anon-token-123', clients, tokens), null);
  assert.equal(authenticate('anon-token-123', none, tokens), null);
});

test('with clients configured a key is required even when proxy.auth is off', () => {
  const missing = refusal(() => authenticate(undefined, clients, null));
  assert.equal(missing.status, 401);
  assert.equal(missing.code, 'invalid_api_key');
  assert.equal(missing.headers['www-authenticate'], 'Bearer realm="modelmesh"');
  const wrong = refusal(() => authenticate('mm-app1-0123456789abcdefghiX', clients, null));
  assert.equal(wrong.message, UNKNOWN_CLIENT_KEY_MESSAGE);
  assert.ok(!wrong.message.includes('mm-app1'));
});

test('without clients, a wrong proxy token keeps the proxy.auth message', () => {
  const wrong = refusal(() => authenticate('nope', none, tokens));
  assert.match(wrong.message, /proxy\.auth\.tokens/);
  assert.doesNotMatch(wrong.message, /clients:/);
});
