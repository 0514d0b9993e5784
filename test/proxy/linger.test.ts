// Issue 11.4: a client that keeps sending a too-large body (as the SDKs do: they do not wait for
// `100 Continue`) reads the 413 JSON instead of a connection reset (bounded lingering close, linger.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { createServer } from 'node:http';
import { endLingering } from '../../src/proxy/linger.ts';
import { closeServer, listen } from '../helpers/listen.ts';
import { rawExchange } from '../helpers/raw-http.ts';
import { simulatedConfig, startProxy } from '../helpers/proxy.ts';

/** Writes `total` bytes in 64 KiB chunks as fast as the socket takes them (backpressure respected). */
function pump(socket: Socket, total: number): Promise<void> {
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  let sent = 0;
  return new Promise((resolve) => {
    const step = (): void => {
      while (sent < total && !socket.destroyed) {
        const n = Math.min(chunk.length, total - sent);
        sent += n;
        if (!socket.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void socket.once('drain', step);
      }
      resolve();
    };
    socket.once('close', resolve);
    step();
  });
}

const MIB = 1024 * 1024;

test('26 MiB to /v1/audio/transcriptions with Content-Length: the uploading client reads the 413 JSON', async (t) => {
  const proxy = await startProxy(simulatedConfig());
  t.after(() => proxy.close());
  const total = 26 * MIB;
  const reply = await rawExchange(proxy.port, async (socket) => {
    socket.write(`POST /v1/audio/transcriptions HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: ${total}\r\n\r\n`);
    await pump(socket, total);
  }, 20_000);
  assert.equal(reply.status, 413, reply.raw.slice(0, 200));
  assert.equal((reply.json as { error: { code: string } }).error.code, 'body_too_large');
  assert.equal(reply.headers['connection'], 'close');
  assert.equal(reply.error, undefined, 'no reset while the client was still sending');
});

test('a chunked JSON body past max_body: the client that keeps sending reads the 413, then the socket closes', async (t) => {
  const proxy = await startProxy(simulatedConfig({ proxy: { limits: { max_body: '1mb' } } }));
  t.after(() => proxy.close());
  const reply = await rawExchange(proxy.port, async (socket) => {
    socket.write('POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n');
    const piece = Buffer.alloc(256 * 1024, 0x20);
    for (let i = 0; i < 16 && !socket.destroyed; i++) {
      const ok = socket.write(Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')]));
      if (!ok) await new Promise((r) => socket.once('drain', r));
    }
    socket.write('0\r\n\r\n');
  }, 20_000);
  assert.equal(reply.status, 413, reply.raw.slice(0, 200));
  assert.equal(reply.error, undefined, 'no reset while the client was still sending');
});

test('endLingering is bounded: by total time, by silence, and by bytes', async (t) => {
  const limits = { totalMs: 800, idleMs: 300, maxBytes: 2 * MIB };
  const server = createServer((req, res) => {
    res.writeHead(413, { 'content-type': 'application/json', 'content-length': 2, connection: 'close' });
    endLingering(req, res, '{}', limits);
  });
  const port = Number(new URL(await listen(server)).port);
  t.after(() => closeServer(server));
  const head = 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n\r\n';
  const trickle = (every: number) => (socket: Socket): void => {
    socket.write(head);
    const timer = setInterval(() => socket.writable && socket.write('x'.repeat(100)), every);
    socket.once('close', () => clearInterval(timer));
  };
  const total = await rawExchange(port, trickle(50), 5_000);
  assert.equal(total.status, 413);
  assert.ok(total.closedAfterMs > 700 && total.closedAfterMs < 2_000, `total bound: ${Math.round(total.closedAfterMs)} ms`);
  const idle = await rawExchange(port, (socket) => void socket.write(head), 5_000);
  assert.ok(idle.closedAfterMs > 250 && idle.closedAfterMs < 700, `idle bound: ${Math.round(idle.closedAfterMs)} ms`);
  const bytes = await rawExchange(port, async (socket) => {
    socket.write(head);
    await pump(socket, 8 * MIB);
  }, 5_000);
  assert.equal(bytes.status, 413);
  assert.ok(bytes.closedAfterMs < 700, `byte bound: ${Math.round(bytes.closedAfterMs)} ms`);
});
