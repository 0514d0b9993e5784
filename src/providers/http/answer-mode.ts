// How an upstream answer is read, shared by both HTTP clients (exchange.ts, h1/exchange.ts): the mode asked for,
// or another one the answer's 2xx Content-Type calls for (TransportRequest.unstreamed / bufferJson), and the
// Content-Type assumed when the upstream sends none.
import type { ResponseMode } from '../provider.ts';

const EVENT_STREAM = /^\s*text\/event-stream\s*(?:;|$)/i;
const JSON_TYPE = /^\s*application\/(?:[\w.+-]*\+)?json\s*(?:;|$)/i;

/** The Content-Type of an answer that names none, by the mode it is read in. */
export const DEFAULT_TYPES: Readonly<Record<ResponseMode, string>> = { buffer: 'application/json', sse: 'text/event-stream', bytes: 'application/octet-stream' };

/** What answerMode reads of a request (structurally TransportRequest's fields). */
export interface ModeRequest {
  mode: ResponseMode;
  unstreamed?: boolean;
  bufferJson?: boolean;
}

/**
 * The mode an answer is read in: `sse` becomes `buffer` for a 2xx that is not an event stream (unstreamed),
 * `bytes` becomes `buffer` for a 2xx JSON answer (bufferJson); otherwise the request's mode.
 */
export function answerMode(r: ModeRequest, ok: boolean, contentType: string | undefined): ResponseMode {
  if (!ok) return r.mode;
  if (r.mode === 'sse' && r.unstreamed === true) return contentType !== undefined && EVENT_STREAM.test(contentType) ? 'sse' : 'buffer';
  if (r.mode === 'bytes' && r.bufferJson === true && contentType !== undefined && JSON_TYPE.test(contentType)) return 'buffer';
  return r.mode;
}
