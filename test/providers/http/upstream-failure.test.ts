import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { MeshError } from '../../../src/errors.ts';
import { Transport } from '../../../src/providers/http/transport.ts';
import { errorReason, retryAfterMs, transportReason, upstreamError } from '../../../src/providers/http/upstream-failure.ts';

describe('upstream failures', () => {
  test('upstreamError: a 502-class MeshError carrying the upstream status and reason', () => {
    const err = upstreamError('openai', '503 overloaded', 503, { retryAfterMs: 10 });
    assert.ok(err instanceof MeshError);
    assert.equal(err.code, 'upstream_error');
    assert.equal(err.status, 502);
    assert.equal(err.message, 'Upstream openai failed: 503 overloaded');
    assert.deepEqual(err.upstream, { status: 503, reason: '503 overloaded', retryAfterMs: 10 });
  });

  test('transportReason maps errno codes', () => {
    const reason = (code: string): string => transportReason(Object.assign(new Error(code), { code }));
    assert.equal(reason('ENOTFOUND'), 'host not found');
    assert.equal(reason('EAI_AGAIN'), 'host not found');
    assert.equal(reason('EPIPE'), 'connection reset');
    assert.equal(reason('ETIMEDOUT'), 'connection timed out');
    assert.equal(reason('EHOSTUNREACH'), 'host unreachable');
    assert.equal(reason('CERT_HAS_EXPIRED'), 'tls error: CERT_HAS_EXPIRED');
    assert.equal(reason('EPROTO'), 'transport error: EPROTO');
    const tls = Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    assert.equal(transportReason(tls), 'tls error: DEPTH_ZERO_SELF_SIGNED_CERT (self-signed certificate)', 'OpenSSL words with the code');
  });

  test('errorReason reads the common error body shapes', () => {
    const r = (body: unknown): string => errorReason(404, 'Not Found', Buffer.from(JSON.stringify(body)));
    assert.equal(r({ error: 'model "x" not found' }), '404 model "x" not found'); // Ollama
    assert.equal(r([{ error: { code: 404, message: 'gone' } }]), '404 gone'); // Gemini
    assert.equal(r({ type: 'error', error: { type: 'not_found_error', message: 'model: x' } }), '404 model: x'); // Anthropic
    assert.equal(r({ detail: 'nope' }), '404 nope');
    assert.equal(r({ something: 1 }), '404 Not Found');
    assert.equal(r(null), '404 Not Found');
  });

  test('retryAfterMs', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(retryAfterMs({ 'retry-after': '1.5' }, now), 1_500);
    assert.equal(retryAfterMs({ 'retry-after': 'Thu, 01 Jan 2026 00:00:30 GMT' }, now), 30_000);
    assert.equal(retryAfterMs({ 'retry-after': 'Wed, 31 Dec 2025 00:00:00 GMT' }, now), 0);
    assert.equal(retryAfterMs({ 'retry-after': 'soon' }, now), undefined);
    // Only an HTTP-date: V8's Date.parse reads "-1" as a day in 2001 and "abc 2030" as a wait of years.
    assert.equal(retryAfterMs({ 'retry-after': '-1' }, now), undefined);
    assert.equal(retryAfterMs({ 'retry-after': 'abc 2030' }, now), undefined);
    assert.equal(retryAfterMs({ 'retry-after': '2026-01-01T00:00:30Z' }, now), undefined);
    assert.equal(retryAfterMs({ 'retry-after-ms': 'abc', 'retry-after': '' }, now), undefined);
    assert.equal(retryAfterMs({}, now), undefined);
  });
});

// A throwaway self-signed P-256 certificate: the https path must refuse it like any unknown issuer.
const KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg5iPMlJqzd4PmohXi
+AX8oB8PYULaPQC7u5emZuexkfuhRANCAAQ76eGttfv2URAWlqXDCHc95CsHRW1W
gqBgfopKofj9G5mwJ6MWKlkRi2tE/cb7PmVkFkTuXbcYKlp/v0h7XNGD
-----END PRIVATE KEY-----`;
const CERT = `-----BEGIN CERTIFICATE-----
MIIBfzCCASWgAwIBAgIUc4ef5FeScP2kbh2CLxbcaVg+n90wCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEyNDEzNDIwNVoYDzIxMjYxMDMx
MTM0MjA1WjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAAQ76eGttfv2URAWlqXDCHc95CsHRW1WgqBgfopKofj9G5mwJ6MWKlkR
i2tE/cb7PmVkFkTuXbcYKlp/v0h7XNGDo1MwUTAdBgNVHQ4EFgQUZ9DBtt2FZ2zn
fr4gFYoXShiQpicwHwYDVR0jBBgwFoAUZ9DBtt2FZ2znfr4gFYoXShiQpicwDwYD
VR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiEAlJ7FTKq92VTLP3FtzeCs
tLemY2mVO/e8zfmpbmDm1xMCIGcDWykuYI+6Hi94/LaqL4V1kSKltEqi+ly7cK9G
euSy
-----END CERTIFICATE-----`;

test('https: an untrusted certificate fails the attempt with a tls reason', async (t) => {
  const server = createServer({ key: KEY, cert: CERT }, (_req, res) => res.end('{}'));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const port = (server.address() as AddressInfo).port;
  const timeouts = { connect: 5_000, first_byte: 5_000, idle: 5_000, total: 10_000 };
  const transport = new Transport({ id: 'tls', baseUrl: `https://127.0.0.1:${port}/v1`, headers: {}, timeouts, maxSockets: 2 });
  t.after(() => transport.close());
  const err = await transport.request({ path: '/x', mode: 'buffer', signal: new AbortController().signal }).then(
    () => assert.fail('expected a rejection'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof MeshError);
  assert.match(err.upstream?.reason ?? '', /^tls error: /);
});
