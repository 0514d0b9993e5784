import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MeshError } from '../../src/errors.ts';
import { Cors, DEFAULT_ALLOW_HEADERS, createCors } from '../../src/proxy/cors.ts';

const listed = new Cors({ enabled: true, origins: ['https://app.example.com', 'http://localhost:3000/'], max_age: 600 });
const wildcard = new Cors({ enabled: true, origins: ['*'], max_age: 60 });

test('disabled CORS is null: no headers are ever added', () => {
  assert.equal(createCors({ enabled: false, origins: ['*'], max_age: 1 }), null);
  assert.ok(createCors({ enabled: true, origins: ['*'], max_age: 1 }) instanceof Cors);
});

test('listed origin: echoed, with expose headers and Vary', () => {
  const h = listed.headers('https://app.example.com');
  assert.equal(h?.['access-control-allow-origin'], 'https://app.example.com');
  assert.match(h?.['access-control-expose-headers'] ?? '', /x-request-id/);
  assert.match(h?.['access-control-expose-headers'] ?? '', /x-modelmesh-model/);
  assert.match(h?.['access-control-expose-headers'] ?? '', /retry-after/);
  assert.equal(h?.['vary'], 'Origin');
});

test('configured origins compare without a trailing slash', () => {
  assert.equal(listed.headers('http://localhost:3000')?.['access-control-allow-origin'], 'http://localhost:3000');
});

test('unlisted origin and no origin: no allow-origin, only Vary', () => {
  assert.deepEqual(listed.headers('https://evil.example'), { vary: 'Origin' });
  assert.deepEqual(listed.headers(undefined), { vary: 'Origin' });
  assert.equal(listed.allows('https://evil.example'), false);
});

test('wildcard: * for any origin; nothing without an Origin', () => {
  assert.equal(wildcard.headers('https://whatever.test')?.['access-control-allow-origin'], '*');
  assert.equal(wildcard.headers(undefined), null);
});

test('preflight from a listed origin: 204 with methods, echoed headers, max-age', () => {
  const p = listed.preflight('https://app.example.com', ['POST'], 'authorization, content-type, x-stainless-os');
  assert.equal(p.status, 204);
  assert.equal(p.headers['access-control-allow-origin'], 'https://app.example.com');
  assert.equal(p.headers['access-control-allow-methods'], 'POST');
  assert.equal(p.headers['access-control-allow-headers'], 'authorization, content-type, x-stainless-os');
  assert.equal(p.headers['access-control-max-age'], '600');
  assert.match(p.headers['vary'] ?? '', /Origin/);
});

test('preflight without requested headers offers the SDK header list', () => {
  const p = wildcard.preflight('https://x.test', ['GET', 'HEAD'], undefined);
  assert.equal(p.headers['access-control-allow-origin'], '*');
  assert.equal(p.headers['access-control-allow-headers'], DEFAULT_ALLOW_HEADERS);
  assert.match(DEFAULT_ALLOW_HEADERS, /authorization/);
  assert.match(DEFAULT_ALLOW_HEADERS, /x-stainless-retry-count/);
  assert.equal(p.headers['access-control-max-age'], '60');
});

test('preflight with a header list that is not plain names falls back to the default list', () => {
  const p = wildcard.preflight('https://x.test', ['POST'], 'x-ok, bad header\u00e9');
  assert.equal(p.headers['access-control-allow-headers'], DEFAULT_ALLOW_HEADERS);
});

test('preflight from an unlisted origin is a 403 MeshError', () => {
  assert.throws(() => listed.preflight('https://evil.example', ['POST'], undefined), (err: unknown) => {
    assert.ok(err instanceof MeshError);
    assert.equal(err.status, 403);
    assert.equal(err.type, 'invalid_request_error');
    return true;
  });
});
