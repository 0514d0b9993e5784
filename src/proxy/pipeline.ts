// The request pipeline (style principle 2): plain function calls in order, one try/catch at the top.
//   request id -> base headers (x-request-id, CORS) -> path -> route match (404/405) -> CORS preflight
//   -> draining (503) -> auth (401) -> handler -> sendError on anything thrown
// Everything derived from config (route table, CORS header sets, token digests) is built once in
// rebuild(); a request only reads the current snapshot.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { authenticate } from '../clients/authenticate.ts';
import { ConnectionKeys } from '../clients/connection-keys.ts';
import { MeshError } from '../errors.ts';
import type { ModelMesh } from '../mesh/mesh.ts';
import type { MeshLease, MeshView } from '../mesh/view.ts';
import { UNKNOWN_CLIENT } from '../observability/client-stats.ts';
import { UNMATCHED_ROUTE } from '../observability/http-responses.ts';
import { startTrace } from '../observability/tracing/traceparent.ts';
import { BearerAuth, bearerToken, createAuth, presentedKey } from './auth.ts';
import { createCors, type Cors } from './cors.ts';
import { Context } from './request-context.ts';
import { sendError } from './respond.ts';
import { buildRouteTable } from './route-list.ts';
import { isMatch, type ErrorShape, type RouteTable } from './route-table.ts';
import type { ServerView } from './server-view.ts';
import { clipEcho } from '../lib/clip.ts';
import { tagResponse } from './client-error.ts';

/** A client's x-request-id is echoed only if it is short and plain (no header or log injection). */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Generated ids: a random per-process prefix (unique across restarts) and a counter (cheap per request). */
const ID_PREFIX = `req_${randomBytes(8).toString('hex')}`;
let idCounter = 0;

function requestIdFor(header: string | string[] | undefined): string {
  if (typeof header === 'string' && SAFE_REQUEST_ID.test(header)) return header;
  return ID_PREFIX + (++idCounter).toString(36).padStart(8, '0');
}

/** The path of a request target: query dropped; absolute-form (`GET http://host/p`, RFC 9112 §3.2.2) reduced. */
function pathOf(url: string): string {
  let path = url;
  if (path.charCodeAt(0) !== 47 /* / */) {
    try {
      path = new URL(url).pathname;
    } catch {
      return url; // not a URL: matches nothing, 404
    }
  }
  const q = path.indexOf('?');
  if (q !== -1) path = path.slice(0, q);
  // `/v1/models/` is `/v1/models`: a trailing slash from a hand-written base URL should not 404.
  while (path.length > 1 && path.charCodeAt(path.length - 1) === 47) path = path.slice(0, -1);
  return path;
}

interface Snapshot {
  table: RouteTable;
  cors: Cors | null;
  auth: BearerAuth | null;
  admin: BearerAuth | null;
  /** observability.tracing.sample_ratio when tracing is on, else null (no trace context at all). */
  traceRatio: number | null;
}

export class Pipeline {
  readonly #mesh: ModelMesh;
  readonly #server: ServerView;
  readonly #keys = new ConnectionKeys();
  #current: Snapshot;
  /** Requests received, whatever their outcome (ServerStatus.total_requests). */
  totalRequests = 0;
  /** Handlers still running, and who waits for that count to reach 0 (settled()). */
  #active = 0;
  #onSettled: (() => void)[] = [];

  constructor(mesh: ModelMesh, server: ServerView) {
    this.#mesh = mesh;
    this.#server = server;
    this.#current = this.#build();
  }

  /** Re-derives routes, CORS and tokens from mesh.config (call after mesh.reload). */
  rebuild(): void {
    this.#current = this.#build();
  }

  /** Resolves when no handler is running any more, or after `maxMs` at the latest. */
  settled(maxMs: number): Promise<void> {
    if (this.#active === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#onSettled = this.#onSettled.filter((fn) => fn !== done);
        resolve();
      }, maxMs);
      this.#onSettled.push(done);
    });
  }

  get routes(): RouteTable {
    return this.#current.table;
  }

  #build(): Snapshot {
    const proxy = this.#mesh.config.proxy;
    const tracing = this.#mesh.config.observability.tracing;
    return {
      table: buildRouteTable(proxy, this.#server),
      cors: createCors(proxy.cors),
      auth: createAuth(proxy.auth),
      admin: proxy.admin.tokens.length > 0 ? new BearerAuth(proxy.admin.tokens, { admin: true }) : null,
      traceRatio: tracing.enabled ? tracing.sample_ratio : null,
    };
  }

  /** The 'request' (and 'checkContinue') listener. Never rejects: every failure becomes a response. */
  readonly handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    this.totalRequests++;
    const startedAt = performance.now();
    const { table, cors, auth, admin, traceRatio } = this.#current;
    const requestId = requestIdFor(req.headers['x-request-id']);
    const origin = req.headers.origin;
    const corsHeaders = cors === null ? null : cors.headers(origin);
    const baseHeaders: Record<string, string> = corsHeaders === null
      ? { 'x-request-id': requestId }
      : { 'x-request-id': requestId, ...corsHeaders };
    // One generation of the mesh for the whole request: a reload meanwhile changes nothing it sees.
    const view: MeshLease = this.#mesh.view();
    const ctx = new Context(req, res, view, requestId, baseHeaders, startedAt);
    tagResponse(res, baseHeaders);
    // Continued from the client's traceparent (W3C), else a new trace; spans are built after the request.
    if (traceRatio !== null) ctx.trace = startTrace(req.headers['traceparent'], traceRatio);
    let route = UNMATCHED_ROUTE;
    let routeName = '';
    let errorShape: ErrorShape = 'openai';
    this.#active++;
    try {
      if (req.headers.host === undefined && req.httpVersion === '1.1') {
        // RFC 9112 §3.2 (node:http's own check answers with an empty body, so it is off: proxy-server.ts).
        throw new MeshError('invalid_request', 'Missing Host header (required in HTTP/1.1).', { headers: { connection: 'close' } });
      }
      // RFC 9112 §3.2: more than one Host line is a 400 too (node:http keeps the first and drops the rest).
      if (hostLines(req.rawHeaders) > 1) {
        throw new MeshError('invalid_request', 'More than one Host header.', { headers: { connection: 'close' } });
      }
      const expect = req.headers.expect;
      if (expect !== undefined && expect.toLowerCase() !== '100-continue') {
        // RFC 9110 §10.1.1 (reached through 'checkExpectation', proxy-server.ts: node:http's own 417 has no body).
        throw new MeshError('invalid_request', `Unsupported Expect header '${clipEcho(expect)}': only 100-continue is supported.`, {
          status: 417, headers: { connection: 'close' },
        });
      }
      const method = req.method ?? 'GET';
      const path = pathOf(req.url ?? '/');
      // Anthropic clients get Anthropic-shaped errors on their paths even before a route matched (404, 405).
      if (isAnthropicPath(path)) errorShape = 'anthropic';
      const preflight = cors !== null && method === 'OPTIONS' && origin !== undefined && req.headers['access-control-request-method'] !== undefined;
      if (preflight) {
        const allowed = table.allowed(path);
        if (allowed === null) throw notFound(method, path);
        const answer = cors.preflight(origin, allowed, req.headers['access-control-request-headers']);
        res.writeHead(answer.status, { 'x-request-id': requestId, ...answer.headers });
        res.end();
        return;
      }
      const match = table.match(method, path);
      if (match === null) throw notFound(method, path);
      if (!isMatch(match)) {
        const allow = match.allowed.join(', ');
        throw new MeshError('method_not_allowed', `Method ${method} is not allowed for ${clipEcho(path)}. Allowed: ${allow}.`, {
          headers: { allow },
        });
      }
      route = match.route.path;
      routeName = match.route.name;
      errorShape = match.route.errorShape;
      if (this.#server.draining && !match.route.whileDraining) {
        // Load-shedding during drain: this socket closes after the answer, so the client reconnects
        // (through its load balancer) to an instance that is not going away.
        throw new MeshError('server_draining', 'The server is shutting down and does not accept new requests. Retry shortly.', {
          headers: { connection: 'close', 'retry-after': '1' },
        });
      }
      if (match.route.auth === 'proxy') this.#authenticate(ctx, view, auth);
      else if (match.route.auth === 'admin') {
        if (admin === null) throw notFound(method, path);
        admin.verify(req.headers.authorization);
      }
      ctx.params = match.params;
      await match.handler(ctx);
      if (!res.headersSent && !res.writableEnded) {
        throw new Error(`handler ${match.route.name} returned without responding`);
      }
    } catch (err) {
      try {
        sendError(ctx, err, errorShape);
      } catch {
        res.destroy(); // writing the error failed too (socket gone mid-write): nothing left to tell
      }
    } finally {
      if (res.headersSent) this.#mesh.observability.httpResponses.record(route, res.statusCode);
      // A model API request refused before the router (401, a client's limits, validation) still gets its span.
      const trace = ctx.trace;
      if (trace !== null && !trace.recorded && res.statusCode >= 400 && route.startsWith('/v1/')) {
        this.#mesh.observability.tracing.recordRefused({
          trace, at: Date.now(), latencyMs: performance.now() - startedAt, requestId, endpoint: routeName, requested: ctx.requested,
          status: res.statusCode, client: ctx.client?.name ?? null,
        });
      }
      ctx.admission?.release(); // a no-op when the router's finish released it with the usage
      view.release();
      if (--this.#active === 0 && this.#onSettled.length > 0) this.#wake();
    }
  };

  /**
   * Who is calling (issue 12): a configured client or anonymous, else 401. A rate-limited client gets its
   * x-ratelimit-* headers on every answer from here on (after an admission: the admission's own).
   */
  #authenticate(ctx: Context, view: MeshView, auth: BearerAuth | null): void {
    const req = ctx.req;
    const raw = req.headers.authorization;
    try {
      // The Authorization line this connection proved a key with before: that client, nothing parsed.
      const known = raw === undefined ? undefined : this.#keys.byHeader(req.socket, raw, view.clients);
      if (known !== undefined) ctx.client = known;
      else {
        ctx.client = authenticate(presentedKey(req), view.clients, auth, this.#keys, req.socket);
        // presentedKey takes a Bearer token before x-api-key: a client found with one came in this header.
        if (ctx.client !== null && raw !== undefined && bearerToken(raw) !== undefined) this.#keys.carriedBy(req.socket, raw);
      }
    } catch (err) {
      this.#mesh.observability.clients.reject(UNKNOWN_CLIENT, 'unknown_key');
      throw err;
    }
    ctx.limitHeaders();
  }

  #wake(): void {
    const waiting = this.#onSettled;
    this.#onSettled = [];
    for (const fn of waiting) fn();
  }
}

/** `/v1/messages…` or `/messages…` (routes are also served without `/v1`). */
function isAnthropicPath(path: string): boolean {
  return path.startsWith('/v1/messages') || path.startsWith('/messages');
}

/** OpenAI's wording for an unknown URL: `Invalid URL (POST /v1/chat/completion)`. */
function notFound(method: string, path: string): MeshError {
  return new MeshError('not_found', `Invalid URL (${method} ${clipEcho(path)})`, { headers: { 'x-should-retry': 'false' } });
}

/** Host header lines in a raw header list (name, value, name, value …). */
function hostLines(raw: readonly string[]): number {
  let count = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length === 4 && name.toLowerCase() === 'host') count++;
  }
  return count;
}
