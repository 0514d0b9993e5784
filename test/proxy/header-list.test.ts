import assert from 'node:assert/strict';
import { createServer, get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { headerList } from '../../src/proxy/header-list.ts';

test('headerList: base, routed, then own pairs as one flat list', () => {
  assert.deepEqual(headerList({ 'x-request-id': 'r1' }, { 'x-modelmesh-pool': 'p' }, ['content-type', 'application/json']), [
    'x-request-id', 'r1', 'x-modelmesh-pool', 'p', 'content-type', 'application/json',
  ]);
});

test('headerList: a name in more than one source gives the merged object, later wins', () => {
  assert.deepEqual(headerList({ a: '1', b: '2' }, { b: '3' }, ['c', '4']), { a: '1', b: '3', c: '4' });
  assert.deepEqual(headerList({ a: '1' }, { b: '2' }, ['a', '5']), { a: '5', b: '2' });
  assert.deepEqual(headerList({}, {}, []), []);
});

test('headerList: node:http writeHead sends the list as headers, in order', { timeout: 10_000 }, async (t) => {
  const server = createServer((_req, res) => {
    res.writeHead(200, headerList({ 'x-request-id': 'r1' }, { 'x-modelmesh-model': 'm' }, ['content-type', 'text/plain', 'content-length', '2']));
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const { port } = server.address() as AddressInfo;
  const raw = await new Promise<string[]>((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.rawHeaders));
    }).on('error', reject);
  });
  assert.deepEqual(raw.slice(0, 8), ['x-request-id', 'r1', 'x-modelmesh-model', 'm', 'content-type', 'text/plain', 'content-length', '2']);
});
