import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MeshError } from '../../src/errors.ts';
import type { Handler } from '../../src/proxy/context.ts';
import { routeDefs } from '../../src/proxy/route-list.ts';
import { RouteTable, compilePath, decodeParam, isMatch, type RouteDef } from '../../src/proxy/route-table.ts';
import type { ServerView } from '../../src/proxy/server-view.ts';
import { OPENAI_ROUTES, type ProxyConfig } from '../../src/config/types.ts';

const h = (name: string): Handler => Object.assign(async () => {}, { label: name });
const get = h('get');
const post = h('post');
const item = h('item');

function table(): RouteTable {
  const defs: RouteDef[] = [
    { method: 'GET', path: '/v1/models', name: 'list', handler: get },
    { method: 'POST', path: '/v1/models', name: 'create', handler: post },
    { method: 'GET', path: '/v1/models/{id+}', name: 'item', handler: item },
    { method: 'GET', path: '/v1/things/{a}/x/{b}', name: 'two', handler: get },
    { method: 'POST', path: '/v1/chat/completions', name: 'chat', handler: post },
  ];
  return new RouteTable(defs);
}

test('compilePath escapes literals and collects keys in order', () => {
  const { pattern, keys } = compilePath('/v1/a.b/{x}/{rest+}');
  assert.deepEqual(keys, ['x', 'rest']);
  assert.ok(pattern.test('/v1/a.b/1/2/3'));
  assert.ok(!pattern.test('/v1/aXb/1/2'), 'the dot is literal');
  assert.ok(!pattern.test('/v1/a.b/1'), 'rest needs at least one character');
});

test('static hit returns the handler and empty params', () => {
  const m = table().match('GET', '/v1/models');
  assert.ok(isMatch(m));
  assert.equal(m.handler, get);
  assert.equal(m.route.name, 'list');
  assert.deepEqual(m.params, {});
});

test('same path, other method picks the other row', () => {
  const m = table().match('POST', '/v1/models');
  assert.ok(isMatch(m));
  assert.equal(m.route.name, 'create');
});

test('known path with the wrong method gives the allowed list (HEAD implied by GET)', () => {
  assert.deepEqual(table().match('DELETE', '/v1/models'), { allowed: ['GET', 'HEAD', 'POST'] });
  assert.deepEqual(table().match('GET', '/v1/chat/completions'), { allowed: ['POST'] });
  assert.deepEqual(table().match('PUT', '/v1/models/x'), { allowed: ['GET', 'HEAD'] });
});

test('unknown path is null', () => {
  assert.equal(table().match('GET', '/v1/nothing'), null);
  assert.equal(table().match('GET', '/v1/models/'), null);
});

test('HEAD falls back to GET, static and dynamic', () => {
  const s = table().match('HEAD', '/v1/models');
  assert.ok(isMatch(s));
  assert.equal(s.handler, get);
  const d = table().match('HEAD', '/v1/models/abc');
  assert.ok(isMatch(d));
  assert.equal(d.handler, item);
  assert.deepEqual(d.params, { id: 'abc' });
});

test('params are percent-decoded: %2F in a model id (openai-node encodeURIPath)', () => {
  const m = table().match('GET', '/v1/models/openai.gpt%2F4o');
  assert.ok(isMatch(m));
  assert.deepEqual(m.params, { id: 'openai.gpt/4o' });
});

test('a rest param also takes a raw slash', () => {
  const m = table().match('GET', '/v1/models/org/model');
  assert.ok(isMatch(m));
  assert.deepEqual(m.params, { id: 'org/model' });
});

test('several params', () => {
  const m = table().match('GET', '/v1/things/a%20b/x/c');
  assert.ok(isMatch(m));
  assert.deepEqual(m.params, { a: 'a b', b: 'c' });
});

test('a malformed escape is a 400 MeshError', () => {
  assert.throws(() => table().match('GET', '/v1/models/bad%E0%A4%A'), (err: unknown) => {
    assert.ok(err instanceof MeshError);
    assert.equal(err.status, 400);
    assert.equal(err.code, 'invalid_request');
    return true;
  });
  assert.equal(decodeParam('plain'), 'plain');
});

test('allowed() serves preflights: known paths list methods, unknown is null', () => {
  const t = table();
  assert.deepEqual(t.allowed('/v1/models'), ['GET', 'HEAD', 'POST']);
  assert.deepEqual(t.allowed('/v1/models/x'), ['GET', 'HEAD']);
  assert.equal(t.allowed('/nope'), null);
});

test('the first row wins for a duplicate method and path', () => {
  const first = h('first');
  const t = new RouteTable([
    { method: 'GET', path: '/a', name: 'first', handler: first },
    { method: 'GET', path: '/a', name: 'second', handler: get },
  ]);
  const m = t.match('GET', '/a');
  assert.ok(isMatch(m));
  assert.equal(m.handler, first);
});

const view: ServerView = { listening: true, draining: false, getStatus: () => ({ running: true, host: '', port: 0, uptime_seconds: 0, active_connections: 0, total_requests: 0 }) };

function proxyConfig(endpoints: ProxyConfig['endpoints']): ProxyConfig {
  return { endpoints, metrics: { enabled: false, path: '/metrics' }, admin: { tokens: [] } } as unknown as ProxyConfig;
}

test('the route list serves every OpenAI route with and without /v1, plus health and ready', () => {
  const t = new RouteTable(routeDefs(proxyConfig([...OPENAI_ROUTES]), view));
  for (const path of ['/v1/chat/completions', '/chat/completions', '/v1/embeddings', '/embeddings', '/audio/speech',
    '/v1/audio/transcriptions', '/audio/translations', '/v1/images/generations', '/images/generations']) {
    assert.ok(isMatch(t.match('POST', path)), path);
  }
  for (const path of ['/v1/models', '/models', '/v1/models/x', '/models/x', '/health', '/ready']) {
    assert.ok(isMatch(t.match('GET', path)), path);
  }
  const health = t.match('GET', '/health');
  assert.ok(isMatch(health));
  assert.equal(health.route.auth, 'none');
  assert.equal(health.route.whileDraining, true);
  const chat = t.match('POST', '/chat/completions');
  assert.ok(isMatch(chat));
  assert.equal(chat.route.auth, 'proxy');
  assert.equal(chat.route.name, 'chat');
});

test('proxy.endpoints disables the other OpenAI routes entirely (404, not 405)', () => {
  const t = new RouteTable(routeDefs(proxyConfig(['/v1/models']), view));
  assert.equal(t.match('POST', '/v1/chat/completions'), null);
  assert.equal(t.match('POST', '/chat/completions'), null);
  assert.equal(t.match('GET', '/v1/chat/completions'), null);
  assert.ok(isMatch(t.match('GET', '/v1/models/abc')));
  assert.ok(isMatch(t.match('GET', '/health')), 'operational routes stay');
});
