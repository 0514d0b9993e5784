// How an upstream attempt fails (provider.ts `call`, errors.ts `UpstreamFailure`): one MeshError shape with a
// short reason the router can aggregate (`503 overloaded; connection refused`), and the delay the upstream
// asked for. Reading follows the SDKs (reference/openai-wire.md §1).
import { STATUS_CODES, type IncomingHttpHeaders } from 'node:http';
import { MeshError } from '../../errors.ts';

/** The one failure shape of an attempt (provider.ts `call`): status 0 for transport failures. */
export function upstreamError(id: string, reason: string, status = 0, extra: { retryAfterMs?: number; timeout?: boolean; headers?: IncomingHttpHeaders } = {}): MeshError {
  return new MeshError('upstream_error', `Upstream ${id} failed: ${reason}`, { upstream: { status, reason, ...extra } });
}

/** Short reason for a socket-level error (node errno codes). */
export function transportReason(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ECONNREFUSED': return 'connection refused';
    case 'ECONNRESET': case 'EPIPE': return 'connection reset';
    case 'ENOTFOUND': case 'EAI_AGAIN': case 'EAI_NONAME': return 'host not found';
    case 'ETIMEDOUT': return 'connection timed out';
    case 'EHOSTUNREACH': case 'ENETUNREACH': return 'host unreachable';
    default:
      // Certificate problems (DEPTH_ZERO_SELF_SIGNED_CERT, CERT_HAS_EXPIRED, ERR_TLS_CERT_ALTNAME_INVALID …),
      // with OpenSSL's words for the operator when they say more than the code (`self-signed certificate`).
      if (err.code !== undefined && /CERT|SSL|TLS/.test(err.code)) {
        return err.message === '' || err.message === err.code ? `tls error: ${err.code}` : `tls error: ${err.code} (${err.message})`;
      }
      return `transport error: ${err.code ?? err.message}`;
  }
}

/** The message of an error body: OpenAI/Anthropic `error.message`, Ollama `error`, or `message`/`detail`. */
function bodyMessage(value: unknown): string | undefined {
  if (Array.isArray(value)) return bodyMessage(value[0]); // Gemini wraps its error in a list
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const error = v['error'];
  if (typeof error === 'string') return error;
  if (typeof error === 'object' && error !== null) return bodyMessage(error);
  for (const key of ['message', 'detail']) if (typeof v[key] === 'string') return v[key] as string;
  return undefined;
}

/** `"<status> <message>"` for a non-2xx answer (message cut to ~200 chars), else `"<status> <statusText>"`. */
export function errorReason(status: number, statusText: string, body: Buffer): string {
  let message: string | undefined;
  try {
    message = bodyMessage(JSON.parse(body.toString('utf8')))?.replace(/\s+/g, ' ').trim();
  } catch {
    message = undefined; // not JSON: fall back to the status text
  }
  if (message === undefined || message === '') return `${status} ${statusText}`.trim();
  return `${status} ${message.length > 200 ? `${message.slice(0, 200)}…` : message}`;
}

/** Delay asked for by the upstream (wire §1 SDK retries): `retry-after-ms` first, then `retry-after` (seconds or HTTP date). */
export function retryAfterMs(headers: IncomingHttpHeaders, now = Date.now()): number | undefined {
  const ms = Number.parseFloat(String(headers['retry-after-ms']));
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const value = headers['retry-after']?.trim();
  if (value === undefined || value === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  // Only an HTTP-date (RFC 9110 §5.6.7, IMF-fixdate): V8's Date.parse takes nearly anything ("-1" is a day
  // in 2001, "abc 2030" a wait of years).
  if (!HTTP_DATE.test(value)) return undefined;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

const HTTP_DATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;

/**
 * The failure for a non-2xx answer (both HTTP clients): its status, the reason from its body (else the status
 * text sent, else the standard one), its Retry-After and headers.
 */
export function errorAnswer(id: string, status: number, statusText: string, headers: IncomingHttpHeaders, body: Buffer): MeshError {
  const retryAfter = retryAfterMs(headers);
  const reason = errorReason(status, statusText || STATUS_CODES[status] || '', body);
  return upstreamError(id, reason, status, retryAfter === undefined ? { headers } : { retryAfterMs: retryAfter, headers });
}
