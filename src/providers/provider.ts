// The provider connector contract (DESIGN §8): a normalised call in, an OpenAI-shaped answer out.
// Generic code (router, endpoints) never branches on a provider name; each connector owns its quirks.
import type { IncomingHttpHeaders } from 'node:http';
import type { ModelConfig, ProviderConfig } from '../config/types.ts';
import type { SseEvent } from '../lib/sse.ts';
import type { FormData } from '../lib/multipart.ts';
import type { CancelSignal } from '../lib/cancel.ts';

/** The OpenAI endpoints a call can be for (DESIGN §4 table). */
export type Endpoint = 'chat' | 'embeddings' | 'speech' | 'transcriptions' | 'translations' | 'images'
  | 'completions' | 'moderations' | 'image-edits' | 'responses' | 'messages';

/** Endpoints whose body is another protocol's (Responses, Anthropic Messages): native or translated to chat per attempt. */
export type { NativeProtocol } from '../config/types.ts';

/**
 * How the caller wants the 2xx answer:
 * - `buffer`: the whole body, read up front (synchronous JSON or text answers);
 * - `sse`: Server-Sent Events, resolved once the FIRST event has arrived (failover before the first byte);
 * - `bytes`: a binary stream (speech audio), resolved once the FIRST chunk has arrived.
 */
export type ResponseMode = 'buffer' | 'sse' | 'bytes';

export interface ProviderCall {
  endpoint: Endpoint;
  model: ModelConfig;
  /** The client's JSON body, normalised by the endpoint adapter; the connector rewrites `model` to `model.name`. */
  body: Record<string, unknown>;
  /** The client's multipart form (transcriptions, translations); `model` is rewritten the same way. */
  form: FormData | null;
  mode: ResponseMode;
  /** Aborted when the client disconnects or the request deadline passes: the upstream socket is destroyed at once. */
  signal: CancelSignal;
  requestId: string;
  /** Extra headers of this attempt (`traceparent`, anthropic-version/-beta on a native Messages call), lower-case names; the connector's own win. */
  headers?: Readonly<Record<string, string>>;
  /** The endpoint's own check of a buffered 2xx answer, after the connector's (AnswerCheck). */
  check?: AnswerCheck;
}

/**
 * What an endpoint finds wrong with a buffered 2xx answer (`a vector element is not a number`), or null. A
 * connector that runs it (the OpenAI-compatible one does) makes a refusal a failed attempt before the answer
 * is committed, so the router rotates; the endpoint still checks what reaches it from one that does not.
 */
export type AnswerCheck = (body: Buffer) => string | null;

interface ResponseBase {
  status: number;
  headers: IncomingHttpHeaders;
  /** Media type of the answer as the client should see it (`application/json`, `audio/wav`, `text/plain` …). */
  contentType: string;
}

export interface BufferedResponse extends ResponseBase {
  kind: 'buffer';
  body: Buffer;
}

/**
 * Optional on a stream's iterator: an event already received, handed over without a promise (undefined when
 * next() must be awaited). Lets the relay write every event one upstream chunk brought in one write.
 */
export interface ReadyEvents {
  takeReady?(): SseEvent | undefined;
}

export interface SseResponse extends ResponseBase {
  kind: 'sse';
  /** Yields the already-received first event, then the rest; throws MeshError('upstream_error') on a mid-stream failure. */
  events: AsyncIterator<SseEvent> & ReadyEvents;
  /** Stop early: destroys the upstream request. Idempotent. */
  close(): void;
  /**
   * The stream is complete for the consumer ([DONE] seen): let the upstream finish its answer so the
   * keep-alive socket is reused. Connectors without sockets need not provide it (then close() is used).
   */
  release?(): void;
}

export interface BytesResponse extends ResponseBase {
  kind: 'bytes';
  /** Yields the already-received first chunk, then the rest; throws MeshError('upstream_error') on a mid-stream failure. */
  chunks: AsyncIterator<Buffer>;
  close(): void;
  release?(): void;
}

export type ProviderResponse = BufferedResponse | SseResponse | BytesResponse;

export interface Provider {
  readonly id: string;
  readonly config: ProviderConfig;
  /** True for modelmesh.simulated.v1 (shown in /v1/models). */
  readonly simulated: boolean;
  /**
   * Perform one attempt. Resolves with a 2xx answer (primed per `mode`). Rejects with
   * MeshError('upstream_error', …, { upstream: { status, reason, retryAfterMs?, timeout? } }) for a non-2xx
   * answer (status = upstream status, reason like `503 overloaded`) or a transport failure (status 0,
   * reason like `connection refused`, `first byte timeout after 60000ms`), and with MeshError('cancelled')
   * when `signal` aborted.
   */
  call(call: ProviderCall): Promise<ProviderResponse>;
  /**
   * True when this provider serves `endpoint` ('responses', 'messages') natively for `model`: the router then
   * sends it the client's body as is (only `model` rewritten) instead of the translated chat call. Absent: never.
   */
  speaks?(endpoint: Endpoint, model: ModelConfig): boolean;
  /**
   * False for an endpoint this connector cannot carry whatever the model declares (Anthropic has no legacy
   * completions, moderations or image edits): its models are then not eligible, with that reason. Absent: all.
   */
  serves?(endpoint: Endpoint): boolean;
  /** Release sockets (keep-alive agent) and timers. */
  close(): void;
}
