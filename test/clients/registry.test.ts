import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { timingSafeEqual } from 'node:crypto';
import { buildConfig } from '../../src/config/schema/index.ts';
import { keyDigest } from '../../src/config/schema/clients.ts';
import { ClientRegistry, modelNotAllowed } from '../../src/clients/registry.ts';

const KEYS = { app1: 'mm-app1-0123456789abcdefghij', app2: 'mm-app2-0123456789abcdefghij', open: 'mm-open-0123456789abcdefghij' };

function config() {
  return buildConfig(
    {
      providers: { sim: { connector: 'modelmesh.simulated.v1' } },
      models: {
        'sim.chat': { provider: 'sim', capabilities: ['chat-completion'] },
        'sim.embed': { provider: 'sim', capabilities: ['embeddings'] },
      },
      pools: { chat: { models: ['sim.chat'], aliases: ['gpt-4o', 'fast'] }, other: { models: ['sim.chat'] } },
      clients: {
        app1: { key: '${secrets:APP1}', pools: ['chat', 'sim.embed'], rpm: 10 },
        app2: { key_sha256: keyDigest(KEYS.app2), pools: ['gpt-4o'] },
        open: { key: '${secrets:OPEN}', metadata: { team: 'x' } },
      },
    },
    { source: null, env: { APP1: KEYS.app1, OPEN: KEYS.open }, baseDir: '/' },
  );
}

function registry(options = {}) {
  const c = config();
  return new ClientRegistry(c.clients.values(), c.pools, options);
}

describe('lookup', () => {
  test('finds each client by its key, from key or key_sha256', () => {
    const r = registry();
    assert.equal(r.size, 3);
    assert.equal(r.lookup(KEYS.app1)?.name, 'app1');
    assert.equal(r.lookup(KEYS.app2)?.name, 'app2');
    assert.equal(r.lookup(KEYS.open)?.name, 'open');
    assert.equal(r.lookup(KEYS.app1)?.keyId, keyDigest(KEYS.app1).slice(0, 8));
  });

  test('near misses, other lengths, the digest itself and the empty string are unknown', () => {
    const r = registry();
    for (const key of [KEYS.app1.slice(0, -1), `${KEYS.app1}x`, KEYS.app1.toUpperCase(), keyDigest(KEYS.app1), '', ' ']) {
      assert.equal(r.lookup(key), undefined, key);
    }
  });

  test('a hit and a miss both confirm through one constant-time comparison of 32-byte digests', () => {
    const calls: [number, number][] = [];
    const compare = (a: Buffer, b: Buffer): boolean => {
      calls.push([a.length, b.length]);
      return timingSafeEqual(a, b);
    };
    const r = registry({ compare });
    assert.equal(r.lookup(KEYS.app1)?.name, 'app1');
    assert.equal(r.lookup('not a key'), undefined);
    assert.deepEqual(calls, [
      [32, 32],
      [32, 32],
    ]);
  });

  test('the comparison has the last word: a digest match it rejects is a miss', () => {
    const r = registry({ compare: () => false });
    assert.equal(r.lookup(KEYS.app1), undefined);
  });

  test('JSON.stringify of the registry and of its clients holds no key', () => {
    const r = registry();
    const json = JSON.stringify([r, r.list(), r.lookup(KEYS.app1)]);
    for (const key of Object.values(KEYS)) assert.ok(!json.includes(key));
    assert.deepEqual(JSON.parse(JSON.stringify(r)).clients[0], { name: 'app1', key_id: keyDigest(KEYS.app1).slice(0, 8), pools: ['chat', 'sim.embed'] });
  });

  test('limited and rateLimited flags', () => {
    const r = registry();
    assert.deepEqual([r.get('app1')?.limited, r.get('app1')?.rateLimited], [true, true]);
    assert.deepEqual([r.get('open')?.limited, r.get('open')?.rateLimited], [false, false]);
  });
});

describe('allows', () => {
  test('a pool entry allows the pool under every name; a model entry allows that model directly', () => {
    const r = registry();
    const app1 = r.get('app1');
    assert.ok(app1);
    assert.equal(r.allows(app1, 'chat', 'chat'), true);
    assert.equal(r.allows(app1, 'gpt-4o', 'chat'), true);
    assert.equal(r.allows(app1, 'sim.embed', 'sim.embed'), true);
    assert.equal(r.allows(app1, 'embed', 'sim.embed'), true); // an upstream name resolving to the model
    assert.equal(r.allows(app1, 'other', 'other'), false);
    assert.equal(r.allows(app1, 'sim.chat', 'sim.chat'), false); // chat's member, but not by itself
    assert.equal(r.allows(app1, 'embeddings', 'embeddings'), false);
  });

  test('an alias entry allows its pool and its other aliases', () => {
    const r = registry();
    const app2 = r.get('app2');
    assert.ok(app2);
    assert.equal(r.allows(app2, 'gpt-4o', 'chat'), true);
    assert.equal(r.allows(app2, 'chat', 'chat'), true);
    assert.equal(r.allows(app2, 'fast', 'chat'), true);
    assert.equal(r.allows(app2, 'other', 'other'), false);
  });

  test('no pools: everything; a client no longer configured: nothing', () => {
    const r = registry();
    const open = r.get('open');
    assert.ok(open);
    assert.equal(r.allows(open, 'anything', 'anything'), true);
    const empty = new ClientRegistry([]);
    assert.equal(empty.allows(open, 'chat', 'chat'), false);
  });

  test('the 404 for a model a client may not use has OpenAI wording', () => {
    const err = modelNotAllowed('other');
    assert.equal(err.status, 404);
    assert.deepEqual(err.toJSON(), {
      error: { message: 'The model `other` does not exist or you do not have access to it.', type: 'invalid_request_error', param: 'model', code: 'model_not_found' },
    });
  });
});

test('a ClientConfig without a valid digest is refused', () => {
  const c = [...config().clients.values()][0];
  assert.ok(c);
  assert.throws(() => new ClientRegistry([{ ...c, key_sha256: '' }]), /no valid key digest/);
});
