// A raw node:net upstream for the h1 conformance tests: it reads each request (head + content-length body)
// and lets the test write whatever bytes it wants back, byte-exact, on the same socket.
import { once } from 'node:events';
import net from 'node:net';
import type { AddressInfo, Socket } from 'node:net';

export interface RawRequest {
  /** `POST /v1/chat/completions HTTP/1.1` */
  line: string;
  headers: Record<string, string>;
  body: Buffer;
  /** 0-based number of this connection (in accept order) and of this request on it. */
  connection: number;
  onConnection: number;
}

export type RawHandler = (socket: Socket, req: RawRequest) => void | Promise<void>;

export interface RawUpstream {
  url: string;
  requests: RawRequest[];
  readonly connections: number;
  /** The handler for every following request. */
  handle(fn: RawHandler): void;
  close(): Promise<void>;
}

/** Resolves after `ms` (lets the peer read what was written as its own chunk). */
export const pause = (ms = 1): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function startRawUpstream(initial: RawHandler): Promise<RawUpstream> {
  let handler = initial;
  let connections = 0;
  const requests: RawRequest[] = [];
  const sockets = new Set<Socket>();
  const server = net.createServer((socket) => {
    const connection = connections++;
    let onConnection = 0;
    let buf = Buffer.alloc(0);
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const lines = buf.toString('latin1', 0, end).split('\r\n');
        const headers: Record<string, string> = {};
        for (const l of lines.slice(1)) {
          const i = l.indexOf(':');
          headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
        }
        const length = Number(headers['content-length'] ?? 0);
        if (buf.length < end + 4 + length) return;
        const req: RawRequest = { line: lines[0] ?? '', headers, body: buf.subarray(end + 4, end + 4 + length), connection, onConnection: onConnection++ };
        buf = buf.subarray(end + 4 + length);
        requests.push(req);
        Promise.resolve(handler(socket, req)).catch(() => socket.destroy());
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    requests,
    get connections() { return connections; },
    handle(fn) { handler = fn; },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
