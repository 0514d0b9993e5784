// The spans of one request (issue 17): a SERVER span for the client's request and one CLIENT span per
// upstream attempt, its child. Attributes follow the OpenTelemetry GenAI semantic conventions
// (https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-spans/): gen_ai.operation.name,
// gen_ai.request.model, gen_ai.response.model, gen_ai.usage.input_tokens / output_tokens, and the provider
// under both gen_ai.provider.name (current) and gen_ai.system (its name before semconv 1.37, still what
// many backends read). ModelMesh's own attributes are under `modelmesh.`.
//
// Built from the routing decision record (RequestEvent) once the request is over, so nothing here runs
// while the request is being answered. Prompt and completion text only with `captureContent`.
import type { AttemptRecord, RequestEvent } from '../../mesh/events.ts';
import { newSpanId, type TraceContext } from './traceparent.ts';

export const SPAN_KIND_SERVER = 2;
export const SPAN_KIND_CLIENT = 3;
export const STATUS_UNSET = 0;
export const STATUS_OK = 1;
export const STATUS_ERROR = 2;

/** Integers and doubles are told apart here, because OTLP JSON encodes them differently. */
export type AttributeValue = string | boolean | { int: number } | { double: number };

export interface Span {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  name: string;
  kind: typeof SPAN_KIND_SERVER | typeof SPAN_KIND_CLIENT;
  /** Epoch ms (fractional allowed). */
  startMs: number;
  endMs: number;
  attributes: Record<string, AttributeValue>;
  status: { code: typeof STATUS_UNSET | typeof STATUS_OK | typeof STATUS_ERROR; message?: string };
}

export interface SpanBuildOptions {
  /** The client (application) name from proxy auth, when clients are configured. */
  client?: string | null;
  /** Opt-in (observability.tracing.capture_content): prompt and answer JSON as span attributes. */
  captureContent?: boolean;
  /** Provider id → connector id (`openai.llm.v1`), for gen_ai.provider.name; default: the id itself. */
  connectorOf?: (providerId: string) => string | undefined;
}

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

// gen_ai.operation.name: `chat` and `embeddings` are registry values; the others have none yet, so the
// endpoint name is used.
const OPERATIONS: Readonly<Record<string, string>> = { chat: 'chat', embeddings: 'embeddings', images: 'image_generation' };

export function genAiOperation(endpoint: string): string {
  return OPERATIONS[endpoint] ?? endpoint;
}

const int = (n: number): { int: number } => ({ int: Math.round(n) });

/** The server span and one client span per attempt. Attempt times are laid end to end from the request start. */
export function buildRequestSpans(event: RequestEvent, trace: TraceContext, options: SpanBuildOptions = {}): Span[] {
  const operation = genAiOperation(event.endpoint);
  const startMs = event.at - event.latency_ms;
  const server = serverSpan(event, trace, operation, startMs, options);
  const spans: Span[] = [server];
  let cursor = startMs;
  event.attempts.forEach((attempt, i) => {
    // An attempt without a pre-allocated id never sent a traceparent upstream: a fresh id will do.
    const id = trace.attemptSpanIds[i] ?? newSpanId();
    const answered = attempt.outcome === 'success' && i === event.attempts.length - 1;
    spans.push(attemptSpan(event, attempt, i, answered, { traceId: trace.traceId, spanId: id, parent: trace.spanId, operation, startMs: cursor }, options));
    cursor += attempt.latency_ms;
  });
  return spans;
}

function providerAttributes(provider: string, options: SpanBuildOptions): Record<string, AttributeValue> {
  const name = genAiProviderName(options.connectorOf?.(provider) ?? provider);
  return { 'gen_ai.provider.name': name, 'gen_ai.system': name, 'modelmesh.provider': provider };
}

function serverSpan(event: RequestEvent, trace: TraceContext, operation: string, startMs: number, options: SpanBuildOptions): Span {
  const failovers = event.attempts.filter((a) => a.outcome === 'failure').length;
  const a: Record<string, AttributeValue> = {
    'gen_ai.operation.name': operation,
    'gen_ai.request.model': event.requested,
    'modelmesh.request_id': event.requestId,
    'modelmesh.endpoint': event.endpoint,
    'modelmesh.outcome': event.outcome,
    'modelmesh.stream': event.stream,
    'modelmesh.attempts': int(event.attempts.length),
    'modelmesh.failovers': int(failovers),
    'http.response.status_code': int(event.status),
  };
  if (event.pool !== null) a['modelmesh.pool'] = event.pool;
  if (options.client != null) a['modelmesh.client'] = options.client;
  if (event.model !== null) {
    a['gen_ai.response.model'] = event.model;
    a['gen_ai.usage.input_tokens'] = int(event.tokens_in);
    a['gen_ai.usage.output_tokens'] = int(event.tokens_out);
    a['modelmesh.cost_usd'] = { double: event.cost };
  }
  if (event.provider !== null) Object.assign(a, providerAttributes(event.provider, options));
  if (event.outcome === 'failure') a['error.type'] = String(event.status);
  if (options.captureContent === true) captureContent(event, a);
  return {
    traceId: trace.traceId,
    spanId: trace.spanId,
    parentSpanId: trace.parentSpanId,
    name: `${operation} ${event.requested}`,
    kind: SPAN_KIND_SERVER,
    startMs,
    endMs: event.at,
    attributes: a,
    status: spanStatus(event.outcome, event.error),
  };
}

interface AttemptPlace {
  traceId: string;
  spanId: string;
  parent: string;
  operation: string;
  startMs: number;
}

function attemptSpan(event: RequestEvent, attempt: AttemptRecord, index: number, answered: boolean, at: AttemptPlace, options: SpanBuildOptions): Span {
  const a: Record<string, AttributeValue> = {
    'gen_ai.operation.name': at.operation,
    'gen_ai.request.model': attempt.model,
    ...providerAttributes(attempt.provider, options),
    'modelmesh.attempt': int(index),
    'modelmesh.outcome': attempt.outcome,
  };
  if (event.pool !== null) a['modelmesh.pool'] = event.pool;
  if (attempt.status > 0) a['http.response.status_code'] = int(attempt.status);
  if (attempt.outcome === 'failure') {
    a['modelmesh.failover.reason'] = attempt.reason ?? 'failure';
    a['error.type'] = attempt.status > 0 ? String(attempt.status) : (attempt.reason ?? 'transport');
  }
  if (answered) {
    a['gen_ai.response.model'] = attempt.model;
    a['gen_ai.usage.input_tokens'] = int(event.tokens_in);
    a['gen_ai.usage.output_tokens'] = int(event.tokens_out);
  }
  return {
    traceId: at.traceId,
    spanId: at.spanId,
    parentSpanId: at.parent,
    name: `${at.operation} ${attempt.model}`,
    kind: SPAN_KIND_CLIENT,
    startMs: at.startMs,
    endMs: at.startMs + attempt.latency_ms,
    attributes: a,
    status: spanStatus(attempt.outcome, attempt.reason),
  };
}

function spanStatus(outcome: RequestEvent['outcome'], error: string | null): Span['status'] {
  if (outcome === 'success') return { code: STATUS_OK };
  if (outcome === 'failure') return { code: STATUS_ERROR, message: error ?? 'failure' };
  return { code: STATUS_UNSET }; // cancelled by the client: not an error of ours
}

/** Only with the opt-in, and only what the router attached (EventBus.wantsBodies must be set for it). */
function captureContent(event: RequestEvent, a: Record<string, AttributeValue>): void {
  const body = event.request_body;
  if (body !== undefined) {
    const input = body['messages'] ?? body['input'] ?? body['prompt'];
    if (input !== undefined) a['gen_ai.input.messages'] = clip(JSON.stringify(input));
  }
  if (event.response_body !== undefined) {
    const text = typeof event.response_body === 'string' ? event.response_body : JSON.stringify(event.response_body);
    a['gen_ai.output.messages'] = clip(text);
  }
}

function clip(text: string): string {
  return text.length <= MAX_CONTENT_CHARS ? text : `${text.slice(0, MAX_CONTENT_CHARS)}…`;
}
