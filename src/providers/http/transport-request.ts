// What both HTTP clients (exchange.ts on node:http, h1/exchange.ts our own) share: the request a transport is
// asked to make, how its answer is read (the mode asked for, or another one the answer's 2xx Content-Type
// calls for), the Content-Type assumed when none is sent, the body bounds, and how a buffered 2xx settles.
import type { CancelSignal } from '../../lib/cancel.ts';
import type { ProviderResponse, ResponseMode } from '../provider.ts';

export interface TransportRequest {
  /** @default 'POST' */
  method?: string;
  /** Appended to the base URL's path, e.g. `/chat/completions`. */
  path: string;
  /** Per-request headers; they win over the static ones. */
  headers?: Readonly<Record<string, string>>;
  body?: Buffer | readonly Buffer[];
  mode: ResponseMode;
  signal: CancelSignal;
  /**
   * A complete buffered 2xx answer the caller refuses (issue 11.3: not the JSON it must be): the exchange
   * rejects with the error returned instead of resolving. Checked here rather than after another await in
   * the caller: one promise and one microtask hop fewer per request (issue 16).
   */
  check?: ((body: Buffer, status: number) => Error | null) | undefined;
  /**
   * For `sse`: a 2xx that is not an event stream is a buffered answer (whisper-1 ignores stream=true), not "no
   * events". `'json'`: only a 2xx JSON answer is (a chat model answering whole); anything else is still read as
   * events, so a stream sent without its Content-Type keeps working.
   */
  unstreamed?: boolean | 'json';
  /** For `bytes`: a 2xx JSON answer is buffered, so `check` can refuse an error envelope before the commit. */
  bufferJson?: boolean;
  /**
   * Told when the request has been handed to the OS in full (once per write of it: a replay writes it again).
   * A caller that reuses the body's Buffer waits for this: an answer can come before the body was all written.
   */
  written?: () => void;
}

/** Settles `call` with a complete buffered 2xx answer, or rejects it with what `r.check` refuses it for (a check that throws: that error). */
export function settleBuffered(call: Settle, r: TransportRequest, answer: Extract<ProviderResponse, { kind: 'buffer' }>): void {
  let refused: unknown = null;
  try {
    refused = r.check?.(answer.body, answer.status) ?? null;
  } catch (err) {
    refused = err;
  }
  if (refused === null) call.resolve(answer);
  else call.reject(refused);
}

/** Bytes of a non-2xx body kept for its error message (wire §1 bodies are well under this). */
export const ERROR_BODY_LIMIT = 64 * 1024;
/** Largest buffered 2xx body (n=10 base64 images stay far below it). */
export const MAX_BODY = 256 * 1024 * 1024;

export type Settle = { resolve: (r: ProviderResponse) => void; reject: (e: unknown) => void };

const EVENT_STREAM = /^\s*text\/event-stream\s*(?:;|$)/i;
const JSON_TYPE = /^\s*application\/(?:[\w.+-]*\+)?json\s*(?:;|$)/i;

/** The Content-Type of an answer that names none, by the mode it is read in. */
export const DEFAULT_TYPES: Readonly<Record<ResponseMode, string>> = { buffer: 'application/json', sse: 'text/event-stream', bytes: 'application/octet-stream' };

/**
 * The mode an answer is read in: `sse` becomes `buffer` for a 2xx that is not an event stream (unstreamed; a JSON one for `'json'`),
 * `bytes` becomes `buffer` for a 2xx JSON answer (bufferJson); otherwise the request's mode.
 */
export function answerMode(r: TransportRequest, ok: boolean, contentType: string | undefined): ResponseMode {
  if (!ok) return r.mode;
  if (r.mode === 'sse' && r.unstreamed === true) return contentType !== undefined && EVENT_STREAM.test(contentType) ? 'sse' : 'buffer';
  if (r.mode === 'sse' && r.unstreamed === 'json') return contentType !== undefined && JSON_TYPE.test(contentType) ? 'buffer' : 'sse';
  if (r.mode === 'bytes' && r.bufferJson === true && contentType !== undefined && JSON_TYPE.test(contentType)) return 'buffer';
  return r.mode;
}
