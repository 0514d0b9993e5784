// Requests node:http refuses before the pipeline sees them (issue 11.6): parser errors (Content-Length with
// Transfer-Encoding, a bad or repeated Content-Length, broken chunked framing, an unknown method), headers
// over the size limit (431), and the header/request timeouts (408). node:http would answer them with an empty
// body; the server's 'clientError' event lets us send the OpenAI error shape instead, then close.
import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { MeshError } from '../errors.ts';

/** After the error answer, how long a client that keeps the socket open gets before it is destroyed. */
const CLOSE_GRACE_MS = 2_000;

/** The parser's error codes (llhttp `HPE_*`, node `ERR_HTTP_*`) as an OpenAI-shaped error. */
export function clientErrorFor(code: string | undefined): MeshError {
  const plain = { 'x-should-retry': 'false', connection: 'close' };
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return new MeshError('invalid_request', 'Request header fields too large: the request line and headers exceed the size limit.', { status: 431, headers: plain });
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return new MeshError('body_too_large', 'Chunk extensions too large.', { headers: plain });
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      // 408 is retryable for the SDKs: a slow network may well succeed on a second try.
      return new MeshError('invalid_request', 'The request was not received in time (proxy.timeouts.headers / proxy.timeouts.request).', {
        status: 408, headers: { connection: 'close' },
      });
    default:
      return new MeshError('invalid_request', `Malformed HTTP request: ${describe(code)}.`, { headers: plain });
  }
}

function describe(code: string | undefined): string {
  switch (code) {
    case 'HPE_UNEXPECTED_CONTENT_LENGTH': return 'Content-Length together with Transfer-Encoding';
    case 'HPE_INVALID_CONTENT_LENGTH': return 'invalid or repeated Content-Length';
    case 'HPE_INVALID_TRANSFER_ENCODING': return 'unsupported Transfer-Encoding';
    case 'HPE_INVALID_CHUNK_SIZE': case 'HPE_STRICT': case 'HPE_CR_EXPECTED': case 'HPE_LF_EXPECTED': return 'malformed chunked body';
    case 'HPE_INVALID_METHOD': return 'unknown method';
    case 'HPE_INVALID_HEADER_TOKEN': return 'invalid header';
    case 'HPE_INVALID_VERSION': return 'unsupported HTTP version';
    case 'HPE_INVALID_URL': return 'invalid request target';
    default: return code === undefined ? 'unparseable request' : `unparseable request (${code})`;
  }
}

const answered = new WeakSet<Socket>();

/**
 * The headers every answer of a request carries (x-request-id, CORS), kept on its ServerResponse by the
 * pipeline so an error answered here mid-request (its body broke or timed out) carries them too: a browser
 * would otherwise see an opaque CORS failure instead of the 408. A symbol property, not a WeakMap (an
 * entry per request is GC work on every answer).
 */
export const BASE_HEADERS = Symbol('modelmesh.baseHeaders');
type Tagged = ServerResponse & { [BASE_HEADERS]?: Record<string, string> };

/** Remembers `headers` as what every answer on `res` carries (the pipeline, once per request). */
export function tagResponse(res: ServerResponse, headers: Record<string, string>): void {
  (res as Tagged)[BASE_HEADERS] = headers;
}

/**
 * The 'clientError' listener. `onAnswer(status, res)` is told about each error answered on the raw socket
 * (metrics); an answer through an in-flight ServerResponse is counted by the pipeline instead.
 */
export function answerClientError(err: Error & { code?: string }, socket: Socket, onAnswer: (status: number) => void): void {
  // After a parse error node:http keeps feeding the socket's data to the failed parser: one answer only.
  if (answered.has(socket)) return;
  answered.add(socket);
  const res = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage ?? undefined;
  if (err.code === 'ECONNRESET' || !socket.writable || res?.headersSent === true) {
    socket.destroy();
    return;
  }
  const error = clientErrorFor(err.code);
  const text = JSON.stringify(error.toJSON());
  const status = error.status;
  if (res !== undefined) {
    // A request already handed to the pipeline (body framing broke, or its body never finished):
    // answered through its response, so the handler sees it as sent.
    res.writeHead(status, { ...(res as Tagged)[BASE_HEADERS], ...error.headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  } else {
    const head = [`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`, 'content-type: application/json', `content-length: ${Buffer.byteLength(text)}`];
    for (const [name, value] of Object.entries(error.headers)) head.push(`${name}: ${value}`);
    socket.end(`${head.join('\r\n')}\r\n\r\n${text}`);
    onAnswer(status);
  }
  // Half-closed: the client reads the answer and closes; one that does not is cut after the grace.
  setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
}
