// The head of an HTTP/1.1 response (RFC 9112 §4-§6): status line, header fields, and how the body is framed.
// Header objects follow node:http's IncomingMessage rules so the rest of the mesh (retry-after, rate-limit
// headers, content type) sees exactly what it saw with node:http.
import type { IncomingHttpHeaders } from 'node:http';

export interface ResponseHead {
  status: number;
  /** Reason phrase as sent (may be empty). */
  reason: string;
  /** Lower-case names; duplicates joined as node:http does. */
  headers: IncomingHttpHeaders;
  /** The connection may carry another request once this answer is complete. */
  keepAlive: boolean;
  /**
   * How the body ends: `none` (no body), `length` (Content-Length bytes), `chunked`, or `close`
   * (everything until the server closes: the socket is never reused).
   */
  framing: 'none' | 'length' | 'chunked' | 'close';
  /** Body bytes for `length`. */
  length: number;
}

/** A malformed answer: the exchange fails with `invalid response: <message>`. */
export class ParseError extends Error {
  override name = 'ParseError' as const;
}

// node:http keeps the first of these when they repeat (lib/_http_incoming.js matchKnownFields).
const FIRST_WINS = new Set(['content-type', 'content-length', 'user-agent', 'referer', 'host', 'authorization',
  'proxy-authorization', 'if-modified-since', 'if-unmodified-since', 'from', 'location', 'max-forwards',
  'retry-after', 'etag', 'last-modified', 'server', 'age', 'expires']);
const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: ([^\r\n]*))?$/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

// Header names as sent → their lower-case form, for names already seen to be valid tokens: an upstream sends
// the same dozen or twenty names on every answer, and each was checked and lower-cased again (issue 16).
const KNOWN_NAMES = new Map<string, string>();
const MAX_KNOWN_NAMES = 512;

function lowerName(name: string, line: string): string {
  const known = KNOWN_NAMES.get(name);
  if (known !== undefined) return known;
  if (!TOKEN.test(name)) throw new ParseError(`bad header line "${line.slice(0, 60)}"`);
  const lower = name.toLowerCase();
  if (KNOWN_NAMES.size < MAX_KNOWN_NAMES) KNOWN_NAMES.set(name, lower);
  return lower;
}

function addHeader(headers: IncomingHttpHeaders, name: string, value: string): void {
  if (name === '__proto__') return; // never a prototype change through a header name
  const h = headers as Record<string, string | string[] | undefined>;
  const prev = h[name];
  if (prev === undefined) h[name] = name === 'set-cookie' ? [value] : value;
  else if (name === 'set-cookie') (prev as string[]).push(value);
  // Two different lengths: which one frames the body decides where the next answer on this socket starts,
  // so keeping the first (as for other FIRST_WINS names) would hand the rest of this answer to the next
  // request (response smuggling). A malformed answer, as llhttp has it (RFC 9112 §6.3 item 5).
  else if (name === 'content-length' && prev !== value) throw new ParseError('conflicting content-length headers');
  else if (!FIRST_WINS.has(name)) h[name] = `${prev as string}${name === 'cookie' ? '; ' : ', '}${value}`;
}

/** Splits `text` (the head without its final empty line, latin1) into status and headers. */
export function parseHead(text: string, noBody: boolean): ResponseHead {
  const lines = text.split('\n');
  const first = lines[0] ?? '';
  const statusLine = first.endsWith('\r') ? first.slice(0, -1) : first;
  const m = STATUS_LINE.exec(statusLine);
  if (m === null) throw new ParseError(`bad status line "${statusLine.slice(0, 60)}"`);
  const minor = m[1];
  const status = Number(m[2]);
  const headers: IncomingHttpHeaders = {};
  let lastName = '';
  for (let i = 1; i < lines.length; i++) {
    let line = lines[i] as string;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line === '') continue;
    const first = line.charCodeAt(0);
    if (first === 32 || first === 9) { // obs-fold (RFC 9112 §5.2): a continuation of the previous value
      if (lastName === '') throw new ParseError('header continuation without a header');
      const h = headers as Record<string, string>;
      h[lastName] = `${h[lastName] ?? ''} ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    lastName = lowerName(colon > 0 ? line.slice(0, colon) : '', line);
    addHeader(headers, lastName, line.slice(colon + 1).trim());
  }
  return frame(status, m[3] ?? '', headers, minor === '1', noBody);
}

function hasToken(value: string | string[] | undefined, token: string): boolean {
  if (value === undefined) return false;
  if (value === 'keep-alive' || value === 'close') return value === token; // nearly every answer: no split
  const text = Array.isArray(value) ? value.join(',') : value;
  return text.split(',').some((t) => t.trim().toLowerCase() === token);
}

/** RFC 9112 §6.3: message body length, in the order the RFC gives. */
function frame(status: number, reason: string, headers: IncomingHttpHeaders, http11: boolean, noBody: boolean): ResponseHead {
  const connection = headers.connection;
  let keepAlive = http11 ? !hasToken(connection, 'close') : hasToken(connection, 'keep-alive');
  const head: ResponseHead = { status, reason, headers, keepAlive, framing: 'none', length: 0 };
  if (noBody || status < 200 || status === 204 || status === 304) return head;
  const te = headers['transfer-encoding'];
  const cl = headers['content-length'];
  if (te !== undefined) {
    const codings = te.split(',');
    const chunked = (codings[codings.length - 1] ?? '').trim().toLowerCase() === 'chunked';
    // Both framings at once is how request smuggling starts: use Transfer-Encoding, never reuse the socket.
    if (cl !== undefined) keepAlive = false;
    head.framing = chunked ? 'chunked' : 'close';
  } else if (cl !== undefined) {
    if (!/^\d{1,15}$/.test(cl)) throw new ParseError(`bad content-length "${cl.slice(0, 30)}"`);
    head.length = Number(cl);
    head.framing = head.length === 0 ? 'none' : 'length';
  } else {
    head.framing = 'close';
  }
  if (head.framing === 'close') keepAlive = false;
  head.keepAlive = keepAlive;
  return head;
}
