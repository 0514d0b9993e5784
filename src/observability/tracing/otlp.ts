// OTLP/HTTP JSON encoding of spans (https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding): an
// ExportTraceServiceRequest `{resourceSpans: [{resource, scopeSpans: [{scope, spans}]}]}` in the protobuf
// JSON mapping with the OTLP exceptions: trace and span ids are lowercase hex (not base64), enums are
// integers (kind 2 SERVER, 3 CLIENT; status code 1 OK, 2 ERROR; an unset status, the default, is left out), field names are lowerCamelCase, and 64-bit
// integers (timestamps in ns, intValue) are decimal strings.
//
// Two forms of the same JSON: the OTLP objects here (exportRequest(), the format spelled out as types) and
// the text that is sent, written by appending strings (span-json.ts; encodeTraces()).
import { resourcePrefix, REQUEST_SUFFIX, SCOPE_NAME, SpanJsonWriter, unixNano, writeSpan, type OtlpResource } from './span-json.ts';
import type { AttributeValue, Span } from './spans.ts';

export { SCOPE_NAME, unixNano, type OtlpResource } from './span-json.ts';
export const OTLP_TRACES_PATH = '/v1/traces';

export interface OtlpKeyValue {
  key: string;
  value: { stringValue: string } | { boolValue: boolean } | { intValue: string } | { doubleValue: number };
}

export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: OtlpKeyValue[];
  /** Absent when unset without a message (the default). */
  status?: { code: number; message?: string };
}

export interface ExportTraceServiceRequest {
  resourceSpans: {
    resource: { attributes: OtlpKeyValue[] };
    scopeSpans: { scope: { name: string; version?: string }; spans: OtlpSpan[] }[];
  }[];
}

function anyValue(v: AttributeValue): OtlpKeyValue['value'] {
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if ('int' in v) return { intValue: String(Math.trunc(v.int)) };
  // JSON has no NaN or Infinity; a non-finite double is sent as 0 rather than breaking the batch.
  return { doubleValue: Number.isFinite(v.double) ? v.double : 0 };
}

export function keyValues(attributes: Readonly<Record<string, AttributeValue>>): OtlpKeyValue[] {
  return Object.entries(attributes).map(([key, value]) => ({ key, value: anyValue(value) }));
}

export function otlpSpan(span: Span): OtlpSpan {
  const out: OtlpSpan = {
    traceId: span.traceId,
    spanId: span.spanId,
    name: span.name,
    kind: span.kind,
    startTimeUnixNano: unixNano(span.startMs),
    endTimeUnixNano: unixNano(Math.max(span.startMs, span.endMs)),
    attributes: keyValues(span.attributes),
  };
  if (span.parentSpanId !== null) out.parentSpanId = span.parentSpanId;
  const { code, message } = span.status;
  if (message !== undefined) out.status = { code, message };
  else if (code !== 0) out.status = { code };
  return out;
}

export function exportRequest(spans: readonly Span[], resource: OtlpResource, scopeVersion?: string): ExportTraceServiceRequest {
  const attributes: Record<string, AttributeValue> = { ...resource.attributes, 'service.name': resource.serviceName };
  const scope = scopeVersion === undefined ? { name: SCOPE_NAME } : { name: SCOPE_NAME, version: scopeVersion };
  return { resourceSpans: [{ resource: { attributes: keyValues(attributes) }, scopeSpans: [{ scope, spans: spans.map(otlpSpan) }] }] };
}

/** The request body to POST to `<endpoint>/v1/traces` with `Content-Type: application/json`. */
export function encodeTraces(spans: readonly Span[], resource: OtlpResource, scopeVersion?: string): string {
  const w = new SpanJsonWriter();
  for (const span of spans) writeSpan(w, span);
  return `${resourcePrefix(resource, scopeVersion)}${w.take()}${REQUEST_SUFFIX}`;
}
