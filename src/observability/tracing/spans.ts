// The spans of one request (issue 17): a SERVER span for the client's request and one CLIENT span per
// upstream attempt, its child. Attributes follow the OpenTelemetry GenAI semantic conventions
// (https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-spans/): gen_ai.operation.name,
// gen_ai.request.model, gen_ai.response.model, gen_ai.usage.input_tokens / output_tokens, and the provider
// under both gen_ai.provider.name (current) and gen_ai.system (its name before semconv 1.37, still what
// many backends read). ModelMesh's own attributes are under `modelmesh.`.
//
// Built from the routing decision record (RequestEvent) once the request is over, so nothing here runs
// while the request is being answered. Prompt and completion text only with `captureContent`.
import { failoversOf, type AttemptRecord, type RequestEvent } from '../../mesh/events.ts';
import { newSpanId, type TraceContext } from './traceparent.ts';

export const SPAN_KIND_SERVER = 2;
export const SPAN_KIND_CLIENT = 3;
export const STATUS_UNSET = 0;
export const STATUS_OK = 1;
export const STATUS_ERROR = 2;

/** Integers and doubles are told apart here, because OTLP JSON encodes them differently. */
export type AttributeValue = string | boolean | { int: number } | { double: number };

/** A span without its attributes: what a SpanSink is told before the attributes follow. */
export interface SpanHead {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  name: string;
  kind: typeof SPAN_KIND_SERVER | typeof SPAN_KIND_CLIENT;
  /** Epoch ms (fractional allowed). */
  startMs: number;
  endMs: number;
  status: { code: typeof STATUS_UNSET | typeof STATUS_OK | typeof STATUS_ERROR; message?: string };
}

export interface Span extends SpanHead {
  attributes: Record<string, AttributeValue>;
}

/**
 * Where the attributes of the open span go. The span-shape rules below are written once against this, and
 * run either into Span objects (buildRequestSpans) or straight into OTLP JSON text (SpanJsonWriter, the
 * exporter's path: no intermediate objects per span, issue 17 point 3).
 */
export interface AttributeSink {
  str(key: string, value: string): void;
  /** Rounded to an integer. */
  int(key: string, value: number): void;
  bool(key: string, value: boolean): void;
  double(key: string, value: number): void;
}

/** Receives the spans of a request in order; each open() starts a span whose attributes follow. */
export interface SpanSink {
  open(head: SpanHead): AttributeSink;
}

export interface SpanBuildOptions {
  /** The client (application) name from proxy auth, when clients are configured. */
  client?: string | null;
  /** Opt-in (observability.tracing.capture_content): prompt and answer JSON as span attributes. */
  captureContent?: boolean;
  /** The secret redactor for captured content (a prompt may quote a key, as the request log knows). */
  redact?: (text: string) => string;
  /** Provider id → connector id (`openai.llm.v1`), for gen_ai.provider.name; default: the id itself. */
  connectorOf?: (providerId: string) => string | undefined;
}

/** error.type of an answer that failed after its 2xx status was sent (a stream cut mid-way). */
export const INTERRUPTED = 'interrupted';

/** Longest captured content attribute; collectors reject or truncate huge attributes anyway. */
export const MAX_CONTENT_CHARS = 16_384;

// Well-known gen_ai.provider.name values of the semconv registry, by connector.
const PROVIDER_NAMES: Readonly<Record<string, string>> = {
  'openai.llm.v1': 'openai',
  'anthropic.claude.v1': 'anthropic',
  'google.gemini.v1': 'gcp.gemini',
  'mistral.api.v1': 'mistral_ai',
  'groq.api.v1': 'groq',
  'deepseek.api.v1': 'deepseek',
  'xai.grok.v1': 'x_ai',
};

/** gen_ai.provider.name for a connector: the registry value when there is one, else the connector's first part. */
export function genAiProviderName(connector: string): string {
  return PROVIDER_NAMES[connector] ?? connector.split('.')[0] ?? connector;
}

// gen_ai.operation.name, from the semconv registry where it has a value: the Responses API and Anthropic Messages
// are chat (modelmesh.endpoint tells the protocols apart), legacy completions text_completion. The others have
// none yet, so the endpoint name is used.
const OPERATIONS: Readonly<Record<string, string>> = {
  chat: 'chat', responses: 'chat', messages: 'chat', completions: 'text_completion', embeddings: 'embeddings', images: 'image_generation',
};

export function genAiOperation(endpoint: string): string {
  return OPERATIONS[endpoint] ?? endpoint;
}

/** Span objects, for tests and callers that want to look at spans rather than send them. */
class SpanObjects implements SpanSink, AttributeSink {
  readonly spans: Span[] = [];
  #a: Record<string, AttributeValue> = {};

  open(head: SpanHead): AttributeSink {
    this.#a = {};
    this.spans.push({ ...head, attributes: this.#a });
    return this;
  }

  str(key: string, value: string): void {
    this.#a[key] = value;
  }

  int(key: string, value: number): void {
    this.#a[key] = { int: Math.round(value) };
  }

  bool(key: string, value: boolean): void {
    this.#a[key] = value;
  }

  double(key: string, value: number): void {
    this.#a[key] = { double: value };
  }
}

/** The server span and one client span per attempt. Attempt times are laid end to end from the request start. */
export function buildRequestSpans(event: RequestEvent, trace: TraceContext, options: SpanBuildOptions = {}): Span[] {
  const out = new SpanObjects();
  writeRequestSpans(event, trace, options, out);
  return out.spans;
}

/** buildRequestSpans() into any sink; returns the number of spans written. */
export function writeRequestSpans(event: RequestEvent, trace: TraceContext, options: SpanBuildOptions, sink: SpanSink): number {
  const operation = genAiOperation(event.endpoint);
  const startMs = event.at - event.latency_ms;
  serverSpan(event, trace, operation, startMs, options, sink);
  const attempts = event.attempts;
  let cursor = startMs;
  for (let i = 0; i < attempts.length; i++) {
    const attempt = attempts[i] as AttemptRecord;
    // An attempt without a pre-allocated id never sent a traceparent upstream: a fresh id will do.
    const id = trace.attemptSpanIds[i] ?? newSpanId();
    const answered = attempt.outcome === 'success' && i === attempts.length - 1;
    attemptSpan(event, attempt, i, answered, { traceId: trace.traceId, spanId: id, parent: trace.spanId, operation, startMs: cursor }, options, sink);
    cursor += attempt.latency_ms;
  }
  return 1 + attempts.length;
}

function providerAttributes(provider: string, options: SpanBuildOptions, a: AttributeSink): void {
  const name = genAiProviderName(options.connectorOf?.(provider) ?? provider);
  a.str('gen_ai.provider.name', name);
  a.str('gen_ai.system', name);
  a.str('modelmesh.provider', provider);
}

function serverSpan(event: RequestEvent, trace: TraceContext, operation: string, startMs: number, options: SpanBuildOptions, sink: SpanSink): void {
  const status = serverStatus(event);
  // Failed after the answer was committed (a stream cut mid-way): the client got the upstream's 2xx status,
  // and the spans say so, with error.type naming what happened rather than a status nobody sent.
  const last = event.attempts[event.attempts.length - 1];
  const interrupted = event.outcome === 'failure' && last !== undefined && last.outcome === 'failure' && last.status >= 200 && last.status < 400;
  const a = sink.open({
    traceId: trace.traceId,
    spanId: trace.spanId,
    parentSpanId: trace.parentSpanId,
    name: event.requested === '' ? operation : `${operation} ${event.requested}`,
    kind: SPAN_KIND_SERVER,
    startMs,
    endMs: event.at,
    status,
  });
  a.str('gen_ai.operation.name', operation);
  a.str('gen_ai.request.model', event.requested);
  a.str('modelmesh.endpoint', event.endpoint);
  a.str('modelmesh.outcome', event.outcome);
  a.bool('modelmesh.stream', event.stream);
  a.int('modelmesh.attempts', event.attempts.length);
  a.int('modelmesh.failovers', failoversOf(event.attempts));
  a.int('http.response.status_code', interrupted ? last.status : event.status);
  if (event.pool !== null) a.str('modelmesh.pool', event.pool);
  if (options.client != null) a.str('modelmesh.client', options.client);
  if (event.model !== null) {
    a.str('gen_ai.response.model', event.model);
    a.int('gen_ai.usage.input_tokens', event.tokens_in);
    a.int('gen_ai.usage.output_tokens', event.tokens_out);
  }
  if (event.provider !== null) providerAttributes(event.provider, options, a);
  if (status.code === STATUS_ERROR) a.str('error.type', interrupted ? INTERRUPTED : String(event.status));
  // Last, the values that differ on every request (the JSON writer caches runs of repeating ones).
  if (event.model !== null) a.double('modelmesh.cost_usd', event.cost);
  a.str('modelmesh.request_id', event.requestId);
  if (options.captureContent === true) captureContent(event, a, options.redact ?? same);
}

interface AttemptPlace {
  traceId: string;
  spanId: string;
  parent: string;
  operation: string;
  startMs: number;
}

function attemptSpan(event: RequestEvent, attempt: AttemptRecord, index: number, answered: boolean, at: AttemptPlace, options: SpanBuildOptions, sink: SpanSink): void {
  const a = sink.open({
    traceId: at.traceId,
    spanId: at.spanId,
    parentSpanId: at.parent,
    name: `${at.operation} ${attempt.model}`,
    kind: SPAN_KIND_CLIENT,
    startMs: at.startMs,
    endMs: at.startMs + attempt.latency_ms,
    status: attempt.outcome === 'failure' ? errorStatus(attempt.reason) : UNSET_STATUS,
  });
  a.str('gen_ai.operation.name', at.operation);
  a.str('gen_ai.request.model', attempt.model);
  providerAttributes(attempt.provider, options, a);
  a.int('modelmesh.attempt', index);
  a.str('modelmesh.outcome', attempt.outcome);
  // No modelmesh.pool here: the parent (server) span has it, and each attempt span would repeat ~60 bytes
  // of it (issue 17 point 3: the bytes written and sent are most of the tracing CPU).
  if (attempt.status > 0) a.int('http.response.status_code', attempt.status);
  if (attempt.outcome === 'failure') {
    a.str('modelmesh.failover.reason', attempt.reason ?? 'failure');
    a.str('error.type', attempt.status >= 400 ? String(attempt.status) : attempt.status > 0 ? INTERRUPTED : (attempt.reason ?? 'transport'));
  }
  if (answered) {
    a.str('gen_ai.response.model', attempt.model);
    a.int('gen_ai.usage.input_tokens', event.tokens_in);
    a.int('gen_ai.usage.output_tokens', event.tokens_out);
  }
}

// Span status follows the HTTP semantic conventions (https://opentelemetry.io/docs/specs/semconv/http/http-spans/#status):
// left unset on success, never Ok (that is for the application's own code to say); Error on a failed attempt
// (a CLIENT span: any failure, a 4xx included); on the request (SERVER) span, Error only for what is ours to
// answer for: a 5xx, or no answer at all. A 4xx is the caller's (a bad request the upstreams refused) and
// leaves it unset, without error.type, as the conventions require; its attempt spans still show Error.
// Cancelled by the client is not an error of ours either. Unset is also what costs nothing on the wire.
const UNSET_STATUS: SpanHead['status'] = Object.freeze({ code: STATUS_UNSET }); // shared: one object less per span

function errorStatus(message: string | null): SpanHead['status'] {
  return { code: STATUS_ERROR, message: message ?? 'failure' };
}

function serverStatus(event: RequestEvent): SpanHead['status'] {
  if (event.outcome !== 'failure' || (event.status >= 400 && event.status < 500)) return UNSET_STATUS;
  return errorStatus(event.error);
}

/** Only with the opt-in, and only what the router attached (EventBus.wantsBodies must be set for it). */
function captureContent(event: RequestEvent, a: AttributeSink, redact: (text: string) => string): void {
  const body = event.request_body;
  if (body !== undefined) {
    const input = body['messages'] ?? body['input'] ?? body['prompt'];
    // Redacted before it is clipped: a clip could cut a secret in two, and half of it would no longer match.
    if (input !== undefined) a.str('gen_ai.input.messages', clip(redact(JSON.stringify(input))));
  }
  if (event.response_body !== undefined) {
    const text = typeof event.response_body === 'string' ? event.response_body : JSON.stringify(event.response_body);
    a.str('gen_ai.output.messages', clip(redact(text)));
  }
}

const same = (text: string): string => text;

function clip(text: string): string {
  return text.length <= MAX_CONTENT_CHARS ? text : `${text.slice(0, MAX_CONTENT_CHARS)}…`;
}
