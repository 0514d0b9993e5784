// Bounded request bodies (style principle 6): JSON for most endpoints, a raw byte stream for multipart.
//
// Content type: the OpenAI API takes JSON only, and so do we: `application/json` or any `+json` type
// (parameters such as charset are fine). Anything else, including a missing Content-Type, is a 415. Besides
// catching `curl -d` without `-H 'Content-Type: application/json'` with a clear message, this keeps browsers
// from sending cross-site "simple" POSTs (text/plain, forms, untyped blobs go without a CORS preflight) to
// a proxy on localhost that has no auth configured.
//
// Size: a Content-Length over the limit is refused before a byte is read; a chunked body is counted as it
// arrives and refused the moment it passes the limit. Either way the 413 carries `Connection: close`, the
// rest of the upload is read and dropped for a bounded while so the client can read the 413 (linger.ts),
// then the socket closes.
import type { IncomingMessage } from 'node:http';
import { MeshError } from '../errors.ts';
import type { RequestContext } from './context.ts';
import { findJsonError, lineColumn, MAX_JSON_DEPTH, nestingBeyond } from '../lib/json-syntax.ts';

const JSON_TYPE = /^application\/(?:[\w.+-]*\+)?json\s*(?:;|$)/i;

/** Extra headers on every body error: the client must not replay it as is, and the socket is done. */
function bodyErrorHeaders(): Record<string, string> {
  return { 'x-should-retry': 'false', connection: 'close' };
}

/** 413 in the real API's wording (openai-wire §1). */
export function tooLarge(limit: number, read?: number): MeshError {
  const detail = read === undefined ? '' : ` (${read} bytes read)`;
  return new MeshError('body_too_large', `Maximum content size limit (${limit}) exceeded${detail}`, {
    headers: bodyErrorHeaders(),
  });
}

// The last Content-Type that passed: a client sends the same one every time, compared faster than matched.
let lastJsonType = 'application/json';

/** Throws 415 unless the request says it carries JSON. */
export function requireJsonType(contentType: string | undefined): void {
  if (contentType === lastJsonType) return;
  if (contentType !== undefined && JSON_TYPE.test(contentType)) {
    lastJsonType = contentType;
    return;
  }
  const got = contentType === undefined ? 'no Content-Type header' : `Content-Type '${contentType.slice(0, 100)}'`;
  throw new MeshError(
    'unsupported_media_type',
    `Unsupported request body: got ${got}. This endpoint expects a JSON body sent with ` +
      `'Content-Type: application/json' (with curl: -H 'Content-Type: application/json').`,
    { headers: { 'x-should-retry': 'false' } },
  );
}

/**
 * Throws 415 for a Content-Encoding other than identity (RFC 9110 §15.5.16). Not decoded: read as it is, a
 * gzip body was "invalid JSON" at byte 0, and a `br` label on plain JSON was taken silently.
 */
function checkCoding(req: IncomingMessage): void {
  const coding = req.headers['content-encoding'];
  if (coding === undefined || coding.trim().toLowerCase() === 'identity') return;
  throw new MeshError('unsupported_media_type', `Unsupported request body: Content-Encoding '${coding.slice(0, 50)}' is not accepted; send the body uncompressed.`, {
    headers: { 'x-should-retry': 'false', 'accept-encoding': 'identity' },
  });
}

/** Throws 413 when the declared Content-Length already exceeds the limit (nothing is read). */
function checkDeclaredLength(req: IncomingMessage, limit: number): void {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) throw tooLarge(limit);
}

/** RFC 9110 §10.1.1: the client waits for 100 Continue; send it only once we have decided to read. */
function sendContinue(ctx: RequestContext): void {
  const expect = ctx.req.headers.expect;
  if (expect !== undefined && expect.toLowerCase() === '100-continue' && !ctx.res.headersSent) ctx.res.writeContinue();
}

/**
 * The whole body as one Buffer, at most `limit` bytes.
 * @throws MeshError 413 `body_too_large` (with Connection: close), 499 `cancelled` if the client goes away
 */
export function readBuffer(ctx: RequestContext, limit: number): Promise<Buffer> {
  const req = ctx.req;
  checkDeclaredLength(req, limit);
  checkCoding(req);
  sendContinue(ctx);
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      total += chunk.length;
      if (total > limit) {
        cleanup();
        req.pause(); // stop pulling the upload; the 413 goes out with Connection: close
        reject(tooLarge(limit, total));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, total));
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(new MeshError('cancelled', 'The client closed the connection while sending the request body.', { cause: err }));
    };
    const onClose = (): void => {
      if (!req.complete) onError(new Error('request body incomplete'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

/**
 * Reads, bounds and parses a JSON object body.
 * @param limit bytes; default `proxy.limits.max_body` of the request's mesh
 * @throws MeshError 415 `unsupported_media_type`, 413 `body_too_large`, 400 `invalid_json` (says where it
 *   failed; also for nesting deeper than MAX_JSON_DEPTH), 400 `invalid_request` (valid JSON that is not an object)
 */
export async function readJson(ctx: RequestContext, limit: number = ctx.mesh.config.proxy.limits.max_body): Promise<Record<string, unknown>> {
  requireJsonType(ctx.req.headers['content-type']);
  const raw = await readBuffer(ctx, limit);
  let text = raw.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a UTF-8 BOM some Windows tools prepend
  if (!/\S/.test(text)) { // stops at the first non-space: no copy of the body
    throw new MeshError('invalid_json', 'We could not parse the JSON body of your request: the body is empty. Send a JSON object.', {
      headers: { 'x-should-retry': 'false' },
    });
  }
  const deep = nestingBeyond(text, MAX_JSON_DEPTH);
  if (deep !== -1) {
    // Refused before parsing: such input only exists to make recursive code throw (issue 11.1).
    const at = lineColumn(text, deep);
    throw new MeshError('invalid_json', `The JSON body of your request nests deeper than ${MAX_JSON_DEPTH} levels (at line ${at.line} column ${at.column}).`, {
      headers: { 'x-should-retry': 'false' },
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    // Our own locator first: V8's message has no position in Node 20 and quotes the body.
    const found = findJsonError(text);
    const reason = found === null
      ? (err instanceof Error ? err.message : String(err))
      : `${found.reason} at line ${found.line} column ${found.column}`;
    throw new MeshError('invalid_json', `We could not parse the JSON body of your request: ${reason}. Send a JSON object.`, {
      headers: { 'x-should-retry': 'false' },
    });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    throw new MeshError('invalid_request', `The request body must be a JSON object, got ${kind}.`, {
      headers: { 'x-should-retry': 'false' },
    });
  }
  return value as Record<string, unknown>;
}

/**
 * The raw body as a bounded stream of chunks, for `multipart/form-data` (transcriptions) and any other
 * endpoint that must not buffer blindly. Checks Content-Length up front, sends `100 Continue` if the client
 * waits for it, then yields chunks as they arrive. The content type is the caller's business.
 *
 *   const form = await parseMultipart(readRaw(ctx, ctx.mesh.config.proxy.limits.max_upload), contentType);
 *
 * Stopping early (break/throw in the consumer) leaves the request unread rather than destroying the socket,
 * so the error response can still be sent (sendError adds Connection: close when the body was not consumed).
 * @throws MeshError 413 `body_too_large` as soon as more than `limit` bytes arrived
 */
export async function* readRaw(ctx: RequestContext, limit: number): AsyncGenerator<Buffer, void, undefined> {
  const req = ctx.req;
  checkDeclaredLength(req, limit);
  checkCoding(req);
  sendContinue(ctx);
  let total = 0;
  // destroyOnReturn: false — the default async iterator destroys the request (and with it the socket)
  // when the consumer stops early, which would make the 413 unsendable.
  const chunks = req.iterator({ destroyOnReturn: false }) as AsyncIterableIterator<Buffer>;
  try {
    for await (const chunk of chunks) {
      total += chunk.length;
      if (total > limit) throw tooLarge(limit, total);
      yield chunk;
    }
  } catch (err) {
    if (err instanceof MeshError) throw err;
    throw new MeshError('cancelled', 'The client closed the connection while sending the request body.', { cause: err });
  } finally {
    if (!req.complete) req.pause();
  }
  if (!req.complete) throw new MeshError('cancelled', 'The client closed the connection while sending the request body.');
}
