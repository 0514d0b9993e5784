// Conformance of the modelmesh HTTP/1.1 client against raw node:net upstreams that write byte-exact answers.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { Socket } from 'node:net';
import { MeshError } from '../../../../src/errors.ts';
import type { SseEvent } from '../../../../src/lib/sse.ts';
import { H1Transport } from '../../../../src/providers/http/h1/transport.ts';
import type { ProviderResponse } from '../../../../src/providers/provider.ts';
import type { TransportOptions, TransportRequest } from '../../../../src/providers/http/transport.ts';
import { pause, startRawUpstream } from './raw-upstream.ts';
import type { RawUpstream } from './raw-upstream.ts';

const TIMEOUTS = { connect: 5_000, first_byte: 5_000, idle: 5_000, total: 10_000 };
const open: { close(): unknown }[] = [];
after(async () => {
  for (const o of open) await o.close();
});

async function upstream(fn: Parameters<typeof startRawUpstream>[0]): Promise<RawUpstream> {
  const up = await startRawUpstream(fn);
  open.push(up);
  return up;
}

function client(up: RawUpstream, options: Partial<TransportOptions> = {}): H1Transport {
  const t = new H1Transport({ id: 'p', baseUrl: up.url, headers: { authorization: 'Bearer k' }, timeouts: TIMEOUTS, maxSockets: 4, ...options });
  open.push(t);
  return t;
}

/** A request with a small JSON body; `body: null` for none (a HEAD). */
function request(over: Partial<Omit<TransportRequest, 'body'>> & { body?: TransportRequest['body'] | null } = {}): TransportRequest {
  const { body = Buffer.from('{}'), ...rest } = over;
  const r: TransportRequest = { path: '/chat/completions', mode: 'buffer', signal: new AbortController().signal, ...rest };
  if (body !== null) r.body = body;
  return r;
}

async function failure(p: Promise<unknown>): Promise<MeshError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof MeshError, `expected a MeshError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a rejection');
}

function bodyOf(res: ProviderResponse): string {
  return res.kind === 'buffer' ? res.body.toString() : assert.fail('buffer expected');
}

async function events(res: ProviderResponse): Promise<string[]> {
  if (res.kind !== 'sse') return assert.fail('sse expected');
  const out: string[] = [];
  for (let r = await res.events.next(); r.done !== true; r = await res.events.next()) out.push((r.value as SseEvent).data);
  return out;
}

const ok = (body: string, extra = ''): string => `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;
const SSE = 'HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n' +
  'f;ext=1\r\ndata: {"n":1}\n\n\r\n' + 'f\r\ndata: {"n":2}\n\n\r\n' + 'e\r\ndata: [DONE]\n\n\r\n' + '0\r\nX-Checksum: abc\r\n\r\n';

describe('h1 transport conformance (raw upstreams)', () => {
  test('the request as written: line, host, static and own headers, content-length, body', async () => {
    const up = await upstream((s) => void s.write(ok('{}')));
    await client(up).request(request({ headers: { 'x-request-id': 'r1', authorization: 'Bearer own' }, body: [Buffer.from('{"a"'), Buffer.from(':1}')] }));
    const r = up.requests[0];
    assert.equal(r?.line, 'POST /v1/chat/completions HTTP/1.1');
    assert.equal(r?.headers['host'], new URL(up.url).host);
    assert.equal(r?.headers['authorization'], 'Bearer own');
    assert.equal(r?.headers['x-request-id'], 'r1');
    assert.equal(r?.headers['content-length'], '7');
    assert.equal(r?.body.toString(), '{"a":1}');
  });

  test('an sse answer split at every byte boundary arrives whole, with extensions and trailers', async () => {
    const raw = Buffer.from(SSE);
    let cut = 1;
    const up = await upstream(async (s) => {
      const at = cut++;
      s.write(raw.subarray(0, at));
      await pause();
      s.write(raw.subarray(at));
    });
    const t = client(up, { maxSockets: 1 });
    for (let i = 1; i < raw.length; i++) assert.deepEqual(await events(await t.request(request({ mode: 'sse' }))), ['{"n":1}', '{"n":2}', '[DONE]'], `cut at ${i}`);
    assert.equal(up.connections, 1, 'every answer was complete, so one socket served them all');
  });

  test('a buffered answer written one byte at a time', async () => {
    const up = await upstream(async (s) => {
      for (const b of Buffer.from(ok('{"hello":"world"}', 'X-A: 1\r\n'))) {
        s.write(Buffer.from([b]));
        await pause(0);
      }
    });
    const res = await client(up).request(request());
    assert.equal(res.headers['x-a'], '1');
    assert.equal(bodyOf(res), '{"hello":"world"}');
  });

  test('100 Continue and 103 Early Hints before the final answer are skipped', async () => {
    const up = await upstream((s) => void s.write(`HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n${ok('{"ok":1}')}`));
    const res = await client(up).request(request());
    assert.equal(res.status, 200);
    assert.equal(res.headers['link'], undefined);
    assert.equal(bodyOf(res), '{"ok":1}');
  });

  test('Connection: close answers are read whole and their socket is not reused', async () => {
    const up = await upstream((s) => void s.end(ok('{}', 'Connection: close\r\n')));
    const t = client(up);
    for (let i = 0; i < 3; i++) assert.equal(bodyOf(await t.request(request())), '{}');
    assert.equal(up.connections, 3);
  });

  test('content-length answers reuse the socket; close-delimited ones end at EOF and do not', async () => {
    const up = await upstream((s, r) => void (r.headers['x-close'] ? s.end('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end') : s.write(ok('{}'))));
    const t = client(up);
    for (let i = 0; i < 3; i++) await t.request(request());
    assert.equal(up.connections, 1);
    assert.equal(bodyOf(await t.request(request({ headers: { 'x-close': '1' } }))), 'until the end');
    await t.request(request());
    assert.equal(up.connections, 2);
  });

  test('HEAD: no body is read whatever Content-Length says, and the socket is reused', async () => {
    const up = await upstream((s) => void s.write('HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n'));
    const t = client(up);
    const res = await t.request(request({ method: 'HEAD', body: null }));
    assert.equal(bodyOf(res), '');
    up.handle((s) => void s.write(ok('{}')));
    await t.request(request());
    assert.equal(up.connections, 1);
    assert.equal(up.requests[0]?.line, 'HEAD /v1/chat/completions HTTP/1.1');
  });

  test('a socket closed mid-body fails a buffered answer', async () => {
    const up = await upstream((s) => void s.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"partial":'));
    assert.deepEqual((await failure(client(up).request(request()))).upstream, { status: 0, reason: 'upstream closed the connection' });
  });

  test('a socket closed mid-body throws from an sse iterator after the events received', async () => {
    const up = await upstream((s) => void s.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nf\r\ndata: {"n":1}\n\n\r\n7\r\ndata'));
    const res = await client(up).request(request({ mode: 'sse' }));
    if (res.kind !== 'sse') return assert.fail('sse expected');
    assert.deepEqual(await res.events.next(), { done: false, value: { data: '{"n":1}' } });
    assert.deepEqual((await failure(res.events.next())).upstream, { status: 0, reason: 'upstream closed the connection' });
  });

  test('a malformed answer fails the attempt as an invalid response', async () => {
    const up = await upstream((s) => void s.end('HTTP/1.1 OK 200\r\n\r\n'));
    assert.match((await failure(client(up).request(request()))).upstream?.reason ?? '', /^invalid response: bad status line/);
  });

  test('pool: at most maxSockets sockets, the rest queue in order and reuse them', async () => {
    const held: Socket[] = [];
    const up = await upstream((s) => void held.push(s));
    const t = client(up, { maxSockets: 2 });
    const calls = Array.from({ length: 6 }, (_, i) => t.request(request({ headers: { 'x-n': String(i) } })));
    while (up.requests.length < 2) await pause(2);
    await pause(20);
    assert.equal(up.requests.length, 2, 'two in flight, four queued');
    up.handle((s) => void s.write(ok('{}')));
    for (const s of held) s.write(ok('{}'));
    await Promise.all(calls);
    assert.equal(up.connections, 2);
    assert.deepEqual(up.requests.map((r) => r.headers['x-n']), ['0', '1', '2', '3', '4', '5']);
  });

  test('pool: a queued request that is aborted leaves the queue without taking a socket', async () => {
    const held: Socket[] = [];
    const up = await upstream((s) => void held.push(s));
    const t = client(up, { maxSockets: 1 });
    const first = t.request(request());
    const ac = new AbortController();
    const queued = t.request(request({ signal: ac.signal }));
    const third = t.request(request({ headers: { 'x-n': '3' } }));
    while (held.length < 1) await pause(2);
    ac.abort();
    assert.equal((await failure(queued)).code, 'cancelled');
    up.handle((s) => void s.write(ok('{}')));
    held[0]?.write(ok('{}'));
    await Promise.all([first, third]);
    assert.deepEqual(up.requests.map((r) => r.headers['x-n']), [undefined, '3']);
  });

  test('an idle keep-alive socket the server closes as the request is written: one transparent retry on a new socket', async () => {
    const up = await upstream((s, r) => void (r.onConnection === 1 ? s.destroy() : s.write(ok(`{"c":${r.connection}}`))));
    const t = client(up);
    assert.equal(bodyOf(await t.request(request())), '{"c":0}');
    assert.equal(bodyOf(await t.request(request())), '{"c":1}', 'the second request, retried on a new socket');
    assert.equal(up.connections, 2);
    assert.equal(up.requests.length, 3);
  });

  test('what a request head is checked for is checked on every request, not only the first (names, paths and methods are remembered once valid)', async () => {
    const up = await upstream((s) => void s.write(ok('{}')));
    const t = client(up);
    const reason = async (over: Partial<TransportRequest>): Promise<string> => (await failure(t.request(request(over)))).upstream?.reason ?? '';
    for (let round = 0; round < 2; round++) {
      await t.request(request({ headers: { 'x-team': 'a' } })); // a valid name, path and method: now remembered
      assert.match(await reason({ headers: { 'x-team': 'a\r\nx-injected: 1' } }), /^invalid request: Invalid character in header content \["x-team"\]/);
      assert.match(await reason({ headers: { 'bad name': 'v' } }), /^invalid request: Header name must be a valid HTTP token/);
      assert.match(await reason({ path: '/chat/completions x' }), /^invalid request: Request path contains unescaped characters/);
      assert.match(await reason({ method: 'GET /x' }), /^invalid request: Method must be a valid HTTP token/);
    }
    assert.equal(up.requests.length, 2, 'only the two valid requests reached the upstream');
    assert.ok(up.requests.every((r) => r.line === 'POST /v1/chat/completions HTTP/1.1' && r.headers['x-team'] === 'a' && r.headers['x-injected'] === undefined));
  });

  test('the retry on a new socket sends the same request again: line, headers and body, small or past the merge size', async () => {
    for (const size of [16, 100_000]) {
      const up = await upstream((s, r) => void (r.onConnection === 1 ? s.destroy() : s.write(ok('{}'))));
      const t = client(up);
      await t.request(request());
      const body = Buffer.alloc(size, 'x');
      await t.request(request({ body, headers: { 'x-n': String(size) } }));
      assert.equal(up.requests.length, 3);
      const [, lost, retried] = up.requests;
      assert.equal(retried?.line, lost?.line);
      assert.deepEqual(retried?.headers, lost?.headers);
      assert.equal(retried?.headers['x-n'], String(size));
      assert.ok(retried?.body.equals(body), `a ${size}-byte body arrives whole on the retry`);
    }
  });

  test('no retry on a new socket, nor once the answer started, nor twice', async () => {
    const fresh = await upstream((s) => void s.destroy());
    assert.equal((await failure(client(fresh).request(request()))).upstream?.reason, 'connection reset');
    assert.equal(fresh.requests.length, 1);
    const started = await upstream((s, r) => void (r.onConnection === 0 && r.connection === 0 ? s.write(ok('{}')) : s.end('HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nab')));
    const t = client(started);
    await t.request(request());
    assert.equal((await failure(t.request(request()))).upstream?.reason, 'upstream closed the connection');
    assert.equal(started.requests.length, 2);
    const twice = await upstream((s, r) => void (r.connection === 0 && r.onConnection === 0 ? s.write(ok('{}')) : s.destroy()));
    const t2 = client(twice);
    await t2.request(request());
    assert.equal((await failure(t2.request(request()))).upstream?.reason, 'connection reset');
    assert.equal(twice.requests.length, 3, 'first, the reused attempt, one retry');
  });

  test('a reused socket reset after the server had the request for a while: no replay (the work may have been done), a failure', async () => {
    const up = await upstream(async (s, r) => {
      if (r.onConnection === 0) return void s.write(ok('{}'));
      await pause(300); // the server works on it, then dies: not the keep-alive race
      s.destroy();
    });
    const t = client(up);
    await t.request(request());
    assert.equal((await failure(t.request(request()))).upstream?.reason, 'connection reset');
    assert.equal(up.requests.length, 2, 'the request was not sent a second time');
  });

  test('a server that ends an idle socket: it leaves the pool, the next request connects anew', async () => {
    const up = await upstream(async (s) => {
      s.write(ok('{}'));
      await pause(5);
      s.end();
    });
    const t = client(up);
    await t.request(request());
    await pause(40);
    await t.request(request());
    assert.equal(up.connections, 2);
    assert.equal(up.requests.length, 2, 'no retry was needed');
  });

  test('release() after [DONE] reads the rest of the body so the socket is reused', async () => {
    const up = await upstream(async (s) => {
      s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\ne\r\ndata: [DONE]\n\n\r\n');
      await pause(10);
      s.write('6\r\n: tail\r\n0\r\n\r\n');
    });
    const t = client(up);
    for (let i = 0; i < 3; i++) {
      const res = await t.request(request({ mode: 'sse' }));
      if (res.kind !== 'sse') return assert.fail('sse expected');
      assert.deepEqual(await res.events.next(), { done: false, value: { data: '[DONE]' } });
      res.release?.();
      await pause(30);
    }
    assert.equal(up.connections, 1);
  });
});
