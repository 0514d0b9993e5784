// THE scripted fake upstream shared by every test: a node:http server on 127.0.0.1 (ephemeral port) that
// records each request and answers with the behaviour the test set. No network beyond loopback (DESIGN §10).
//
//   const up = await startFakeUpstream();
//   t.after(() => up.close());
//   up.handle(json(200, { ok: true }));            // every following request
//   up.sequence(json(503, err), sse([chunk]));     // one per request, the last repeats
//   ... point a provider at up.url (http://127.0.0.1:PORT/v1) ...
//   assert.equal(up.requests[0]?.path, '/v1/chat/completions');
//
// Responders: json, text, sse, bytes, hang, destroy. Also closedPort() (connection refused), and
// providerConfig() (a complete ProviderConfig pointing at a fake, for provider-level tests).
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { ProviderConfig, ProviderTimeouts } from '../../src/config/types.ts';
import { closeServer, listen } from './listen.ts';

/** One request as the upstream received it (body fully read before the behaviour runs). */
export interface RecordedRequest {
  method: string;
  /** Path with query, e.g. `/v1/chat/completions`. */
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
}

/** How the upstream answers one request. May be async; a rejection destroys the socket. */
export type Behaviour = (req: IncomingMessage, res: ServerResponse, recorded: RecordedRequest) => void | Promise<void>;

export interface FakeUpstream {
  /** Base URL including `/v1`, e.g. `http://127.0.0.1:41234/v1`. */
  url: string;
  port: number;
  /** Every request received so far, in arrival order. */
  requests: RecordedRequest[];
  /** Sets the behaviour for all following requests (default: `json(200, { ok: true })`). */
  handle(fn: Behaviour): void;
  /** One behaviour per following request, in order; the last one repeats. */
  sequence(...fns: Behaviour[]): void;
  /** Client sockets accepted so far (keep-alive reuse checks). */
  readonly connections: number;
  /** Client sockets closed so far. */
  readonly socketsClosed: number;
  /** Resolves at the next client socket close. */
  onSocketClose(): Promise<void>;
  /** Drops every connection (hanging ones too) and stops listening. Idempotent. */
  close(): Promise<void>;
}

/** Starts a fake upstream; always `t.after(() => up.close())`. */
export async function startFakeUpstream(): Promise<FakeUpstream> {
  let behaviours: Behaviour[] = [json(200, { ok: true })];
  let next = 0;
  let connections = 0;
  let socketsClosed = 0;
  let waiters: (() => void)[] = [];
  const requests: RecordedRequest[] = [];

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      let parsed: unknown;
      try {
        parsed = body.length === 0 ? undefined : JSON.parse(body.toString('utf8'));
      } catch {
        parsed = undefined;
      }
      const recorded: RecordedRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, json: parsed };
      requests.push(recorded);
      const fn = behaviours[Math.min(next, behaviours.length - 1)] as Behaviour;
      next++;
      Promise.resolve()
        .then(() => fn(req, res, recorded))
        .catch(() => res.destroy());
    });
  });
  server.on('connection', (socket: Socket) => {
    connections++;
    socket.on('close', () => {
      socketsClosed++;
      const ready = waiters;
      waiters = [];
      for (const w of ready) w();
    });
  });
  const base = await listen(server);
  return {
    url: `${base}/v1`,
    port: (server.address() as AddressInfo).port,
    requests,
    handle(fn) {
      behaviours = [fn];
      next = 0;
    },
    sequence(...fns) {
      if (fns.length === 0) throw new Error('sequence() needs at least one behaviour');
      behaviours = fns;
      next = 0;
    },
    get connections() {
      return connections;
    },
    get socketsClosed() {
      return socketsClosed;
    },
    onSocketClose: () => new Promise<void>((resolve) => waiters.push(resolve)),
    close: () => closeServer(server),
  };
}

/** Stops a timer when the client goes away, so no behaviour keeps writing to a dead socket. */
function onGone(res: ServerResponse, stop: () => void): void {
  res.on('close', stop);
}

/** Answers `status` with a JSON body (objects are stringified; strings sent as they are). */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): Behaviour {
  return (_req, res) => {
    const payload = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(payload);
  };
}

/** Answers `status` with a text body of the given content type. */
export function text(status: number, body: string, contentType = 'text/plain'): Behaviour {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': contentType });
    res.end(body);
  };
}

export interface SseOptions {
  /** ms between events (the first is written at once). @default 0: all written at once */
  interval?: number;
  /** Destroy the socket after this many events (0: right after the 200 headers). */
  dropAfter?: number;
  /** Send `data: [DONE]` after the events. @default true */
  done?: boolean;
}

/** One SSE block: objects as `data: <json>`; a string ending in "\n\n" is raw SSE text, sent verbatim. */
function sseBlock(e: object | string): string {
  if (typeof e !== 'string') return `data: ${JSON.stringify(e)}\n\n`;
  return e.endsWith('\n\n') ? e : `data: ${e}\n\n`;
}

/** Answers 200 text/event-stream with `events`, then `[DONE]` unless `done: false`, then ends. */
export function sse(events: (object | string)[], options: SseOptions = {}): Behaviour {
  const blocks = events.map(sseBlock);
  if (options.done !== false) blocks.push('data: [DONE]\n\n');
  return (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.flushHeaders();
    stream(res, blocks, options.interval ?? 0, options.dropAfter);
  };
}

/** Answers `status` with a chunked binary body, one write per chunk, `interval` ms apart. */
export function bytes(status: number, chunks: Buffer[], contentType = 'application/octet-stream', options: { interval?: number; dropAfter?: number } = {}): Behaviour {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': contentType });
    res.flushHeaders();
    stream(res, chunks, options.interval ?? 0, options.dropAfter);
  };
}

function stream(res: ServerResponse, items: (string | Buffer)[], interval: number, dropAfter: number | undefined): void {
  let i = 0;
  let timer: NodeJS.Timeout | undefined;
  onGone(res, () => clearTimeout(timer));
  const step = (): void => {
    for (;;) {
      if (dropAfter !== undefined && i >= dropAfter) {
        // On the next turn, so what was written (the headers at least) is on the wire first.
        setImmediate(() => res.socket?.destroy());
        return;
      }
      const item = items[i++];
      if (item === undefined) {
        res.end();
        return;
      }
      res.write(item);
      if (interval > 0) {
        timer = setTimeout(step, interval);
        return;
      }
    }
  };
  step();
}

/** Never answers (reads the request, then nothing): for first-byte and total timeouts. */
export function hang(): Behaviour {
  return () => undefined;
}

/** Destroys the socket at once, before any response byte: the client sees a connection reset. */
export function destroy(): Behaviour {
  return (req) => {
    req.socket.destroy();
  };
}

/** A port with nothing listening on 127.0.0.1: connection refused (the same as ports.ts freePort). */
export { freePort as closedPort } from './ports.ts';

/**
 * A complete ProviderConfig for tests: `connector` (also the id unless `overrides.id`), pointing at `baseUrl`,
 * with generous timeouts; anything in `overrides` replaces the default (shallow, `timeouts` merged).
 */
export function providerConfig(
  connector: string,
  baseUrl: string | null,
  overrides: Partial<Omit<ProviderConfig, 'timeouts'>> & { timeouts?: Partial<ProviderTimeouts> } = {},
): ProviderConfig {
  const { timeouts, ...rest } = overrides;
  return {
    id: connector,
    connector,
    enabled: true,
    skipped: null,
    base_url: baseUrl,
    api_key: 'sk-test',
    headers: {},
    max_sockets: 8,
    http_client: 'modelmesh',
    budget: { daily_limit: null, monthly_limit: null },
    simulated: { latency: 0, failure_rate: 0, chunk_interval: 0, dimensions: 16 },
    ...rest,
    timeouts: { connect: 5_000, first_byte: 10_000, idle: 10_000, total: 30_000, ...timeouts },
  };
}
