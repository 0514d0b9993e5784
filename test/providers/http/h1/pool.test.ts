import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import type { Connection } from '../../../../src/providers/http/h1/connection.ts';
import { Pool } from '../../../../src/providers/http/h1/pool.ts';

test('pool: LIFO reuse of idle sockets, eviction after the idle timeout, close() ends busy ones too', async (t) => {
  let accepted = 0;
  const server = net.createServer((s) => {
    accepted++;
    s.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const endpoint = { host: '127.0.0.1', port: (server.address() as AddressInfo).port, secure: false, servername: undefined };
  const pool = new Pool({ endpoint, maxSockets: 3, idleTimeout: 60 });
  const take = (): Promise<Connection> => new Promise((granted) => pool.acquire({ granted }));
  const [a, b] = [await take(), await take()];
  pool.release(a, true);
  pool.release(b, true);
  assert.equal(await take(), b, 'the most recently released socket first');
  pool.release(b, true);
  assert.equal(pool.idle, 2);
  const started = Date.now();
  while (pool.open > 0 && Date.now() - started < 2_000) await new Promise((r) => setTimeout(r, 10));
  assert.equal(pool.open, 0, 'idle sockets are closed after the idle timeout');
  assert.ok(Date.now() - started >= 40);
  const busy = await take();
  await once(busy.socket, 'connect');
  const gone = once(busy.socket, 'close');
  pool.close();
  await gone;
  assert.equal(pool.open, 0);
  while (accepted < 3) await new Promise((r) => setTimeout(r, 5)); // accept may trail the client's connect
  assert.equal(accepted, 3);
  busy.destroy();
});
