// Keys proven per connection: a repeated key on one connection skips the digest; anything else (another
// key, another connection, a registry rebuilt by a reload) goes through the registry's full lookup.
import assert from 'node:assert/strict';
import { timingSafeEqual } from 'node:crypto';
import { describe, test } from 'node:test';
import { buildConfig } from '../../src/config/schema/index.ts';
import { ConnectionKeys } from '../../src/clients/connection-keys.ts';
import { ClientRegistry } from '../../src/clients/registry.ts';

const KEYS = { app1: 'mm-app1-0123456789abcdefghij', app2: 'mm-app2-0123456789abcdefghij' };

/** A registry of `names` whose digest comparisons are counted in `lookups`. */
function registry(names: (keyof typeof KEYS)[], lookups: { n: number }): ClientRegistry {
  const clients = Object.fromEntries(names.map((n) => [n, { key: `\${secrets:${n.toUpperCase()}}` }]));
  const config = buildConfig(
    { providers: { sim: { connector: 'modelmesh.simulated.v1' } }, models: { 'sim.chat': { provider: 'sim', capabilities: ['chat-completion'] } }, pools: { chat: { models: ['sim.chat'] } }, clients },
    { source: null, env: { APP1: KEYS.app1, APP2: KEYS.app2 }, baseDir: '/' },
  );
  return new ClientRegistry(config.clients.values(), config.pools, { compare: (a, b) => (lookups.n++, timingSafeEqual(a, b)) });
}

describe('ConnectionKeys', () => {
  test('the same key again on one connection is that client without another lookup', () => {
    const lookups = { n: 0 };
    const r = registry(['app1', 'app2'], lookups);
    const keys = new ConnectionKeys();
    const conn = {};
    assert.equal(keys.lookup(conn, KEYS.app1, r)?.name, 'app1');
    assert.equal(keys.lookup(conn, KEYS.app1, r)?.name, 'app1');
    assert.equal(keys.lookup(conn, `${KEYS.app1}`.slice(0), r)?.name, 'app1', 'an equal string, not the same object');
    assert.equal(lookups.n, 1);
  });

  test('another key, another connection, or a wrong key next to a proven one: the full lookup', () => {
    const lookups = { n: 0 };
    const r = registry(['app1', 'app2'], lookups);
    const keys = new ConnectionKeys();
    const conn = {};
    keys.lookup(conn, KEYS.app1, r);
    assert.equal(keys.lookup(conn, KEYS.app2, r)?.name, 'app2', 'a shared connection, another caller');
    assert.equal(keys.lookup({}, KEYS.app2, r)?.name, 'app2');
    // Same length as the proven key, one character off: not that client, and the proven key stays.
    assert.equal(keys.lookup(conn, `${KEYS.app2.slice(0, -1)}x`, r), undefined);
    assert.equal(keys.lookup(conn, KEYS.app2, r)?.name, 'app2');
    assert.equal(lookups.n, 4);
  });

  test('the Authorization line that carried a proven key finds its client whole; any other line, connection or registry does not', () => {
    const lookups = { n: 0 };
    const r = registry(['app1', 'app2'], lookups);
    const keys = new ConnectionKeys();
    const conn = {};
    const line = `Bearer ${KEYS.app1}`;
    assert.equal(keys.byHeader(conn, line, r), undefined, 'nothing proven yet');
    keys.lookup(conn, KEYS.app1, r);
    assert.equal(keys.byHeader(conn, line, r), undefined, 'proven, but not said to come in this line');
    keys.carriedBy(conn, line);
    assert.equal(keys.byHeader(conn, `Bearer ${KEYS.app1}`.slice(0), r)?.name, 'app1');
    assert.equal(keys.byHeader(conn, `Bearer ${KEYS.app1.slice(0, -1)}x`, r), undefined, 'one character off');
    assert.equal(keys.byHeader(conn, `bearer ${KEYS.app1}`, r), undefined, 'another spelling: parsed again by the caller');
    assert.equal(keys.byHeader({}, line, r), undefined, 'another connection');
    assert.equal(keys.byHeader(conn, line, registry(['app2'], lookups)), undefined, 'a registry rebuilt by a reload (revoked)');
    // Another key proven on the connection forgets the line of the first.
    keys.lookup(conn, KEYS.app2, r);
    assert.equal(keys.byHeader(conn, line, r), undefined);
    assert.equal(lookups.n, 2);
  });

  test('a key proven against one registry is looked up afresh in the next one (SIGHUP revoked it)', () => {
    const lookups = { n: 0 };
    const keys = new ConnectionKeys();
    const conn = {};
    assert.equal(keys.lookup(conn, KEYS.app1, registry(['app1', 'app2'], lookups))?.name, 'app1');
    assert.equal(keys.lookup(conn, KEYS.app1, registry(['app2'], lookups)), undefined);
    assert.equal(lookups.n, 2);
  });
});
