// TransportRequest.check under both HTTP clients: a complete 2xx buffered answer the caller refuses rejects
// with the caller's error (a check that throws: with what it threw); an accepted one resolves; the socket
// is reused either way (the answer was complete HTTP).
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { test } from 'node:test';
import { createTransport } from '../../../src/providers/http/client.ts';
import type { TransportRequest } from '../../../src/providers/http/transport.ts';
import { closeServer, listen } from '../../helpers/listen.ts';

const TIMEOUTS = { connect: 5_000, first_byte: 5_000, idle: 5_000, total: 10_000 };

for (const kind of ['modelmesh', 'node'] as const) {
  test(`check refuses or accepts a buffered 2xx answer (http_client ${kind})`, async (t) => {
    const ports = new Set<number>();
    const server: Server = createServer((req, res) => {
      ports.add(req.socket.remotePort ?? 0);
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(req.url === '/v1/html' ? '<html>oops</html>' : '{"ok":true}');
    });
    const base = await listen(server);
    t.after(() => closeServer(server));
    const transport = createTransport(kind, { id: 'p', baseUrl: `${base}/v1`, headers: {}, timeouts: TIMEOUTS, maxSockets: 1 });
    t.after(() => transport.close());
    const seen: string[] = [];
    const request = (path: string, check: TransportRequest['check']): Promise<unknown> =>
      transport.request({ path, body: Buffer.from('{}'), mode: 'buffer', signal: new AbortController().signal, check });
    const refuse: TransportRequest['check'] = (body, status) => {
      seen.push(`${status} ${body.toString()}`);
      return body[0] === 0x7b ? null : new Error('not JSON');
    };
    await assert.rejects(request('/html', refuse), /^Error: not JSON$/);
    const ok = (await request('/json', refuse)) as { kind: string; body: Buffer };
    assert.equal(ok.kind, 'buffer');
    assert.equal(ok.body.toString(), '{"ok":true}');
    await assert.rejects(request('/json', () => {
      throw new TypeError('a broken check');
    }), /^TypeError: a broken check$/);
    assert.deepEqual(seen, ['200 <html>oops</html>', '200 {"ok":true}']);
    assert.equal(ports.size, 1, 'one keep-alive socket for all three');
  });
}
