// Fake OpenAI-compatible upstream for the benchmark (own process).
//
//   POST .../chat/completions  {"stream":false}  -> precomputed ~600 B chat.completion JSON
//   POST .../chat/completions  {"stream":true}   -> SSE: N chunks (+ usage chunk when
//        stream_options.include_usage) then `data: [DONE]`; first chunk written at once,
//        then one event every `paceMs` (0 = one event per event-loop turn via setImmediate)
//   GET  /ready | /health                         -> 200
//
// Args: --port <n> (default 0) --chunks <n> (default 20) --pace <ms> (default 0).
// When forked, reports {type:'listening', port} over IPC and accepts
// {type:'set', chunks?, paceMs?} to change the stream shape at run time.

import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { UpstreamCommand, UpstreamReply } from './protocol.ts';

function argNumber(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const raw = i >= 0 ? process.argv[i + 1] : undefined;
  const n = raw === undefined ? Number.NaN : Number(raw);
  return Number.isFinite(n) && n >= 0 ? n : fallback;
}

const CREATED = 1694268190;
const MODEL = 'bench-model';

let chunkCount = Math.max(2, Math.floor(argNumber('chunks', 20)));
let paceMs = argNumber('pace', 0);

function line(obj: unknown): Buffer {
  return Buffer.from(`data: ${JSON.stringify(obj)}\n\n`);
}

/** Precomputed SSE events for one stream: [without usage, with usage]. */
function buildStreams(chunks: number): [Buffer[], Buffer[]] {
  const contentChunks = chunks - 2;
  const build = (withUsage: boolean): Buffer[] => {
    const extra = withUsage ? { usage: null } : {};
    const chunk = (delta: Record<string, string>, finish: string | null): Buffer =>
      line({
        id: 'chatcmpl-1',
        object: 'chat.completion.chunk',
        created: CREATED,
        model: MODEL,
        choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
        ...extra,
      });
    const events: Buffer[] = [chunk({ role: 'assistant', content: '' }, null)];
    for (let i = 0; i < contentChunks; i++) {
      events.push(chunk({ content: i === 0 ? 'Hello' : ` word${i}` }, null));
    }
    events.push(chunk({}, 'stop'));
    if (withUsage) {
      events.push(
        line({
          id: 'chatcmpl-1',
          object: 'chat.completion.chunk',
          created: CREATED,
          model: MODEL,
          choices: [],
          usage: { prompt_tokens: 9, completion_tokens: contentChunks, total_tokens: 9 + contentChunks },
        }),
      );
    }
    events.push(Buffer.from('data: [DONE]\n\n'));
    return events;
  };
  return [build(false), build(true)];
}

const SYNC_BODY = Buffer.from(
  JSON.stringify({
    id: 'chatcmpl-bench-0001',
    object: 'chat.completion',
    created: CREATED,
    model: MODEL,
    system_fingerprint: 'fp_bench',
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content:
            'Hello! This is a fixed response from the ModelMesh benchmark fake upstream. ' +
            'It is precomputed once so that the upstream costs as little CPU as possible. ' +
            'The quick brown fox jumps over the lazy dog, again and again and again.',
          refusal: null,
        },
        logprobs: null,
        finish_reason: 'stop',
      },
    ],
    usage: { prompt_tokens: 9, completion_tokens: 52, total_tokens: 61 },
  }),
);
const SYNC_HEADERS = { 'content-type': 'application/json', 'content-length': String(SYNC_BODY.length) };
const SSE_HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' };

let streams = buildStreams(chunkCount);

function sendStream(res: ServerResponse, events: Buffer[]): void {
  res.writeHead(200, SSE_HEADERS);
  const pace = paceMs;
  let next = 0;
  let timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  const step = (): void => {
    timer = undefined;
    if (res.destroyed) return;
    const ev = events[next++];
    if (ev === undefined) return;
    if (next >= events.length) {
      res.end(ev);
      return;
    }
    res.write(ev);
    timer = pace > 0 ? setTimeout(step, pace) : setImmediate(step);
  };
  res.on('close', () => {
    if (timer === undefined) return;
    if (pace > 0) clearTimeout(timer as NodeJS.Timeout);
    else clearImmediate(timer as NodeJS.Immediate);
  });
  step();
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? '/';
  if (req.method === 'GET' && (url === '/ready' || url === '/health')) {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
    res.end('ok');
    return;
  }
  const parts: Buffer[] = [];
  req.on('data', (c: Buffer) => parts.push(c));
  req.on('end', () => {
    if (req.method !== 'POST' || !url.split('?')[0]?.endsWith('/chat/completions')) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":{"message":"not found","type":"invalid_request_error"}}');
      return;
    }
    let body: { stream?: unknown; stream_options?: { include_usage?: unknown } } = {};
    try {
      body = JSON.parse(Buffer.concat(parts).toString('utf8')) as typeof body;
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end('{"error":{"message":"invalid JSON","type":"invalid_request_error"}}');
      return;
    }
    if (body.stream === true) {
      sendStream(res, streams[body.stream_options?.include_usage === true ? 1 : 0]);
    } else {
      res.writeHead(200, SYNC_HEADERS);
      res.end(SYNC_BODY);
    }
  });
}

const server = http.createServer({ keepAlive: true, noDelay: true }, handle);
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;
server.requestTimeout = 0;
server.maxRequestsPerSocket = 0;

function send(msg: UpstreamReply): void {
  if (process.send) process.send(msg);
}

process.on('message', (raw: unknown) => {
  const msg = raw as UpstreamCommand;
  if (msg.type !== 'set') return;
  if (msg.chunks !== undefined) chunkCount = Math.max(2, Math.floor(msg.chunks));
  if (msg.paceMs !== undefined) paceMs = Math.max(0, msg.paceMs);
  streams = buildStreams(chunkCount);
  send({ type: 'set-done', chunks: chunkCount, paceMs });
});
// Never outlive the orchestrator.
process.on('disconnect', () => process.exit(0));

server.listen({ host: '127.0.0.1', port: argNumber('port', 0), backlog: 4096 }, () => {
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  if (process.send) send({ type: 'listening', port });
  else process.stdout.write(`fake upstream listening on 127.0.0.1:${port}\n`);
});
