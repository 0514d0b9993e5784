import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { once } from 'node:events';
import { test } from 'node:test';
import { RedisClient, type RedisClientOptions } from '../../../src/storage/redis/client.ts';
import { RedisError, RedisReplyError } from '../../../src/storage/redis/errors.ts';
import { RedisScript } from '../../../src/storage/redis/script.ts';
import { freePort } from '../../helpers/ports.ts';
import { selfSignedCertificate } from '../../helpers/certificate.ts';
import { RedisServer, skipWithoutRedis } from '../../helpers/redis-server.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const skip = skipWithoutRedis();

function client(t: { after(fn: () => Promise<void>): void }, options: RedisClientOptions): RedisClient {
  const c = new RedisClient(options);
  t.after(() => c.close());
  return c;
}

async function redis(t: { after(fn: () => Promise<void>): void }, options: Parameters<typeof RedisServer.start>[0] = {}): Promise<RedisServer> {
  const server = await RedisServer.start(options);
  t.after(() => server.close());
  return server;
}

function rejectsWith(code: string, pattern?: RegExp): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof RedisError, String(error));
    assert.equal(error.code, code, error.message);
    if (pattern !== undefined) assert.match(error.message, pattern);
    return true;
  };
}

test('1,000 pipelined commands on one connection get their own replies, in order', skip, async (t) => {
  const server = await redis(t);
  const c = client(t, { url: server.url() });
  await c.connect();
  const replies = await Promise.all(Array.from({ length: 1000 }, (_, i) => c.send(['INCRBY', 'n', i])));
  assert.deepEqual(replies, Array.from({ length: 1000 }, (_, i) => (i * (i + 1)) / 2));
  const echoes = await Promise.all(Array.from({ length: 1000 }, (_, i) => c.send(['ECHO', `v${i}`])));
  assert.deepEqual(echoes, Array.from({ length: 1000 }, (_, i) => `v${i}`));
  assert.equal(await c.send(['CLIENT', 'LIST']).then((list) => String(list).trim().split('\n').length), 1);
});

test('requirepass: the right password connects; a wrong or missing one is a clear REDIS_AUTH error without the password', skip, async (t) => {
  const server = await redis(t, { password: 'right-pässword' });
  const ok = client(t, { url: server.url() });
  await ok.connect();
  assert.equal(await ok.send(['PING']), 'PONG');

  const wrong = client(t, { url: server.url(0, 'wrong-secret-value'), reconnectMaxDelayMs: 100 });
  const downs: Error[] = [];
  wrong.on('down', (error) => downs.push(error));
  await assert.rejects(wrong.connect(), (error: unknown) => {
    rejectsWith('REDIS_AUTH', /authentication to redis:\/\/:\[REDACTED\]@127\.0\.0\.1:\d+\/0 failed: WRONGPASS/)(error);
    assert.doesNotMatch(String((error as Error).message), /wrong-secret-value/);
    return true;
  });
  assert.equal(downs.length, 1);
  assert.doesNotMatch(JSON.stringify(downs.map((e) => e.message)), /wrong-secret-value/);

  const none = client(t, { url: server.url(0, null) });
  await assert.rejects(none.connect(), rejectsWith('REDIS_AUTH', /requires a password and the URL gives none/));
});

test('ACL user and password (AUTH user password) and SELECT of the URL db, redone on reconnect', skip, async (t) => {
  const server = await redis(t);
  const admin = client(t, { url: server.url() });
  await admin.send(['ACL', 'SETUSER', 'app', 'on', '>app-secret', '~*', '&*', '+@all']);
  const app = client(t, { url: `redis://app:app-secret@127.0.0.1:${server.port}/5` });
  await app.send(['SET', 'where', 'db5']);
  assert.equal(await app.send(['ACL', 'WHOAMI']), 'app');
  assert.equal(await admin.send(['GET', 'where']), null);
  assert.equal(await admin.send(['SELECT', 5]), 'OK');
  assert.equal(await admin.send(['GET', 'where']), 'db5');
  await admin.send(['CLIENT', 'KILL', 'USER', 'app']);
  // After the kill the client reconnects by itself, authenticated as app, on db 5 again.
  assert.equal(await app.send(['GET', 'where'], { timeoutMs: 2000 }).catch(() => app.send(['GET', 'where'])), 'db5');
  assert.equal(await app.send(['ACL', 'WHOAMI']), 'app');
  const wrongUser = client(t, { url: `redis://app:nope@127.0.0.1:${server.port}` });
  await assert.rejects(wrongUser.connect(), rejectsWith('REDIS_AUTH', /WRONGPASS/));
});

test('evalScript uses EVALSHA and falls back to EVAL after SCRIPT FLUSH (NOSCRIPT); other errors reject typed', skip, async (t) => {
  const server = await redis(t);
  const c = client(t, { url: server.url() });
  const script = new RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1])");
  assert.equal(await c.evalScript(script, ['k'], [2]), 2);
  assert.deepEqual(await c.send(['SCRIPT', 'EXISTS', script.sha1]), [1]);
  await c.send(['SCRIPT', 'FLUSH']);
  assert.equal(await c.evalScript(script, ['k'], [3]), 5);
  assert.deepEqual(await c.send(['SCRIPT', 'EXISTS', script.sha1]), [1]);
  await c.send(['SET', 's', 'text']);
  await assert.rejects(c.evalScript(script, ['s'], [1]), (error: unknown) => error instanceof RedisReplyError && error.replyCode === 'ERR');
  await assert.rejects(c.send(['NOSUCHCOMMAND', 'secret-arg']), (error: unknown) => {
    assert.ok(error instanceof RedisReplyError);
    assert.match(error.message, /^NOSUCHCOMMAND: ERR unknown command/);
    return true;
  });
  assert.equal(await c.send(['PING']), 'PONG');
});

test('commands issued while Redis is killed wait in the queue and run after it restarts; down then up once', skip, async (t) => {
  const server = await redis(t);
  const c = client(t, { url: server.url(), commandTimeoutMs: 4000, reconnectMinDelayMs: 20, reconnectMaxDelayMs: 100 });
  const events: string[] = [];
  c.on('up', () => events.push('up'));
  c.on('down', () => events.push('down'));
  await c.connect();
  await server.stop();
  while (c.up) await new Promise((resolve) => setTimeout(resolve, 5));
  const queued = Promise.all(Array.from({ length: 50 }, (_, i) => c.send(['RPUSH', 'list', i])));
  assert.equal(c.pending, 50);
  await new Promise((resolve) => setTimeout(resolve, 300)); // several failed attempts: still one 'down'
  await server.restart();
  assert.deepEqual((await queued).at(-1), 50);
  assert.deepEqual(await c.send(['LRANGE', 'list', 0, 2]), ['0', '1', '2']);
  assert.deepEqual(events, ['up', 'down', 'up']);
});

test('a command timeout rejects it and resets the connection; the next commands run on a new one', skip, async (t) => {
  const server = await redis(t);
  const c = client(t, { url: server.url(), commandTimeoutMs: 200, reconnectMinDelayMs: 10 });
  await c.connect();
  const id = await c.send(['CLIENT', 'ID']);
  const started = Date.now();
  const blocked = c.send(['BLPOP', 'never', 2]);
  const behind = c.send(['PING']);
  await assert.rejects(blocked, rejectsWith('REDIS_TIMEOUT', /^BLPOP: no reply within 200 ms/));
  assert.ok(Date.now() - started < 1000);
  await assert.rejects(behind, rejectsWith('REDIS_CONNECTION', /PING: connection lost before the reply/));
  assert.equal(await c.send(['PING']), 'PONG');
  assert.notEqual(await c.send(['CLIENT', 'ID']), id);
});

test('the queue is bounded: beyond max_pending a command is rejected at once; a queued one times out unsent', async (t) => {
  const port = await freePort();
  const c = client(t, { url: `redis://:pw-123@127.0.0.1:${port}`, maxPending: 3, commandTimeoutMs: 150, connectTimeoutMs: 200 });
  const connectError = await c.connect().then(() => null, (error: unknown) => error);
  rejectsWith('REDIS_CONNECTION', /connecting to redis:\/\/:\[REDACTED\]@127\.0\.0\.1:\d+\/0: connect ECONNREFUSED/)(connectError);
  const first = [c.send(['PING']), c.send(['PING']), c.send(['PING'])];
  await assert.rejects(c.send(['PING']), rejectsWith('REDIS_QUEUE_FULL', /3 Redis commands already waiting \(max_pending 3\)/));
  for (const p of first) await assert.rejects(p, rejectsWith('REDIS_TIMEOUT', /not sent \(Redis unavailable\) within 150 ms/));
  assert.equal(c.pending, 0);
});

test('a server that accepts but never answers fails the connect within the connect timeout', async (t) => {
  const sockets: Socket[] = [];
  const silent = createServer((socket) => void sockets.push(socket));
  silent.listen(0, '127.0.0.1');
  await once(silent, 'listening');
  t.after(() => {
    for (const s of sockets) s.destroy();
    silent.close();
  });
  const c = client(t, { url: `redis://127.0.0.1:${(silent.address() as AddressInfo).port}`, connectTimeoutMs: 150 });
  const started = Date.now();
  await assert.rejects(c.connect(), rejectsWith('REDIS_CONNECTION', /no answer within 150 ms/));
  assert.ok(Date.now() - started < 1000);
});

test('close() waits for replies in flight, then rejects new commands', skip, async (t) => {
  const server = await redis(t);
  const c = new RedisClient({ url: server.url() });
  await c.connect();
  const inflight = c.send(['BLPOP', 'soon', 1]);
  const pusher = client(t, { url: server.url() });
  let pushed: Promise<unknown> = Promise.resolve();
  setTimeout(() => (pushed = pusher.send(['RPUSH', 'soon', 'x'])), 50);
  const closed = c.close();
  await assert.rejects(c.send(['PING']), rejectsWith('REDIS_CLOSED'));
  await closed;
  assert.deepEqual(await inflight, ['soon', 'x']);
  // The pusher's own reply must be in before the server stops at the end of the test.
  assert.equal(await pushed, 1);
  await assert.rejects(c.connect(), rejectsWith('REDIS_CLOSED'));
});

test('rediss:// connects over TLS (with the CA given) and fails clearly on an untrusted certificate', skip, async (t) => {
  const dir = tempDir(t, 'modelmesh-tls-');
  const certificate = selfSignedCertificate(dir);
  if (certificate === null) return t.skip('openssl not installed');
  const server = await redis(t, { tls: certificate, password: 'tls-pw' });
  const secure = client(t, { url: server.url(), tls: { ca: certificate.cert } });
  assert.equal(await secure.send(['PING']), 'PONG');
  const untrusted = client(t, { url: server.url() });
  await assert.rejects(untrusted.connect(), (error: unknown) => {
    rejectsWith('REDIS_CONNECTION', /^connecting to rediss:\/\/:\[REDACTED\]@127\.0\.0\.1:\d+\/0: .*self.signed/)(error);
    assert.doesNotMatch((error as Error).message, /tls-pw/);
    return true;
  });
});
