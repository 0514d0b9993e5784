// The floor: a bare Node pipe proxy. No parsing, no logic — every request is
// piped to the upstream through ONE keep-alive agent and the response (status,
// headers, body) is piped back. `GET /ready` answers 200 locally so startup can
// be measured the same way as ModelMesh.
//
// This file deliberately contains NO TypeScript-only syntax (no annotations, no
// `import type`), so it is at the same time valid strict TypeScript and plain
// JavaScript. run.ts starts it with plain node
//   node --input-type=module -e "<this file's text>" -- --upstream-port <p> --port <p>
// so the floor pays neither tsx's loader thread (RSS) nor its compile time
// (startup), exactly like ModelMesh's compiled `node dist/server.js`.
//
// Args: --upstream-port <n> (required) --upstream-host <h> (127.0.0.1) --port <n> (0).
// Reports {type:'listening', port} over IPC when one is attached, else prints it.

import http from 'node:http';

const argv = process.argv;
const argValue = (name = '', fallback = '') => {
  const i = argv.indexOf('--' + name);
  const v = i >= 0 ? argv[i + 1] : undefined;
  return v === undefined ? fallback : v;
};

const upstreamHost = argValue('upstream-host', '127.0.0.1');
const upstreamPort = Number(argValue('upstream-port', '0'));
const listenPort = Number(argValue('port', '0'));

const agent = new http.Agent({ keepAlive: true, maxSockets: 1024, maxFreeSockets: 1024 });

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/ready') {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
    res.end('ok');
    return;
  }
  const upReq = http.request(
    { host: upstreamHost, port: upstreamPort, method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, agent },
    (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    },
  );
  upReq.on('error', () => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.writeHead(502, { 'content-type': 'text/plain', 'content-length': '11' });
    res.end('bad gateway');
  });
  res.on('close', () => {
    if (!res.writableFinished) upReq.destroy();
  });
  req.pipe(upReq);
});
server.keepAliveTimeout = 65000;
server.headersTimeout = 66000;
server.requestTimeout = 0;

if (process.send) process.on('disconnect', () => process.exit(0));

server.listen({ host: '127.0.0.1', port: listenPort }, () => {
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  if (process.send) process.send({ type: 'listening', port });
  else process.stdout.write('pipe proxy listening on 127.0.0.1:' + port + '\n');
});
