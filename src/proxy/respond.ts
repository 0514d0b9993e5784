// Writing responses: JSON bodies and OpenAI-shaped errors (openai-wire §1, DESIGN §5).
// Every response carries ctx.baseHeaders (x-request-id, CORS). Errors also get:
// - `x-should-retry: false` on 4xx the SDKs must not replay (the SDK rule: it decides outright);
// - the MeshError's own headers (Retry-After on 429/503, Allow on 405, WWW-Authenticate on 401);
// - `Connection: close` when the request body was not read to its end, so the socket cannot be reused
//   with half a body still on the wire.
import type { IncomingMessage } from 'node:http';
import { MeshError, toHttpStatus } from '../errors.ts';
import { toAnthropicError } from '../protocols/messages/errors.ts';
import type { RequestContext } from './context.ts';
import type { ErrorShape } from './route-table.ts';
import { endLingering } from './linger.ts';
import { headerList } from './header-list.ts';

const NO_HEADERS: Readonly<Record<string, string>> = {};

/** 4xx statuses the SDKs retry by default (openai-wire §1, "SDK retries"): left to the client. */
const RETRYABLE_4XX = new Set([408, 409, 429]);

/** Headers an error response adds to ctx.baseHeaders. The error's own headers win over the defaults. */
export function errorHeaders(err: MeshError): Record<string, string> {
  const status = toHttpStatus(err);
  const headers: Record<string, string> = {};
  if (status >= 400 && status < 500 && !RETRYABLE_4XX.has(status)) headers['x-should-retry'] = 'false';
  for (const [name, value] of Object.entries(err.headers)) headers[name.toLowerCase()] = value;
  return headers;
}

/** Below this, an unread body is drained by node:http and the connection kept; above, it is closed. */
const DRAIN_UNREAD_MAX = 64 * 1024;

/**
 * True when part of the request body is still on the wire and too big (or of unknown size) to drain.
 * A GET has no body; note that `req.complete` is still false while the 'request' event runs, even then.
 */
function unreadBody(req: IncomingMessage): boolean {
  if (req.complete) return false;
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const length = Number(req.headers['content-length'] ?? 0);
  return !(length <= DRAIN_UNREAD_MAX);
}

/**
 * Sends `body` as JSON with Content-Type and Content-Length, ctx.baseHeaders merged under `headers`.
 * HEAD requests get the headers only (node:http drops the body for HEAD).
 */
export function sendJson(ctx: RequestContext, status: number, body: unknown, headers?: Readonly<Record<string, string>>, linger = false): void {
  const text = JSON.stringify(body);
  const res = ctx.res;
  res.writeHead(status, headerList(ctx.baseHeaders, headers ?? NO_HEADERS, ['content-type', 'application/json', 'content-length', String(Buffer.byteLength(text))]));
  if (linger) endLingering(ctx.req, res, text);
  else res.end(text);
}

/**
 * Sends any thrown value as an OpenAI error. A MeshError keeps its status, headers and message; anything
 * else is logged (with the request id, redacted) and becomes a generic 500 — never a stack or a secret in
 * the response. If the response has already started, the socket is destroyed instead (the client then
 * sees a truncated body rather than a well-formed success).
 */
export function sendError(ctx: RequestContext, err: unknown, shape: ErrorShape = 'openai'): void {
  const res = ctx.res;
  const known = err instanceof MeshError;
  logError(ctx, err, known);
  if (res.headersSent || res.writableEnded) {
    if (!res.writableEnded) res.destroy();
    return;
  }
  if (res.destroyed) return; // client gone: nobody to answer
  const meshErr = known ? err : new MeshError('internal_error', 'The proxy had an internal error processing your request.');
  const headers = errorHeaders(meshErr);
  // A big or unbounded rest: answer, then read and drop it for a while before closing (linger.ts).
  const linger = unreadBody(ctx.req);
  if (linger) headers['connection'] = 'close';
  else if (!ctx.req.complete) ctx.req.resume(); // a small rest: drain it so the socket can serve the next request
  // Messages may quote an upstream's error text: secret values never leave the proxy.
  if (shape === 'anthropic') {
    // Anthropic's body and statuses (529 overloaded_error …), so the Anthropic SDKs raise their own classes.
    const answer = toAnthropicError(meshErr, ctx.requestId);
    answer.body.error.message = ctx.mesh.redact(answer.body.error.message);
    sendJson(ctx, answer.status, answer.body, headers, linger);
    return;
  }
  const body = meshErr.toJSON();
  body.error.message = ctx.mesh.redact(body.error.message);
  sendJson(ctx, toHttpStatus(meshErr), body, headers, linger);
}

function logError(ctx: RequestContext, err: unknown, known: boolean): void {
  // Routing failures (502/503/504) are recorded by the router's observability; only our own faults log here.
  if (known && (err as MeshError).code !== 'internal_error') return;
  const cause = known ? (err as MeshError).cause : err;
  const e = cause instanceof Error ? cause : new Error(String(cause));
  const redact = (text: string): string => ctx.mesh.redact(text);
  const fields = {
    request_id: ctx.requestId,
    method: ctx.req.method,
    path: redact((ctx.req.url ?? '').split('?')[0] ?? ''),
    error: { name: e.name, message: redact(e.message) },
  };
  ctx.logger.error('unhandled error', fields);
  // The stack helps whoever debugs the box, but stays out of the default (info) log (see log.ts).
  ctx.logger.debug('unhandled error stack', { request_id: ctx.requestId, stack: redact(e.stack ?? '') });
}
