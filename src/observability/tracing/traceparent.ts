// W3C Trace Context `traceparent` (https://www.w3.org/TR/trace-context/#traceparent-header):
//   version "-" trace-id "-" parent-id "-" trace-flags, lowercase hex of 2, 32, 16 and 2 digits.
// Rules kept here: version ff is invalid; version 00 is exactly 55 characters; a higher version may append
// fields after a "-" (read the first four, forward compatible); an all-zero trace-id or parent-id is invalid;
// bit 0 of the flags is `sampled`. An invalid header is treated as absent (a new trace starts).
//
// Sampling is parent-based (OpenTelemetry ParentBased(TraceIdRatioBased)): a valid incoming traceparent's
// sampled flag decides; without one, the trace id decides against the ratio, so every instance that sees
// the same trace id makes the same choice.
import { randomFillSync } from 'node:crypto';

export interface TraceParent {
  version: number;
  traceId: string;
  /** The caller's span id: the parent of our server span. */
  parentId: string;
  flags: number;
}

/** The trace of one request: our server span, its parent, and one span id per upstream attempt. */
export interface TraceContext {
  traceId: string;
  /** Our server (request) span. */
  spanId: string;
  /** The caller's span, null when this request starts the trace. */
  parentSpanId: string | null;
  sampled: boolean;
  /** Span ids of upstream attempts, allocated by attemptTraceparent() in attempt order. */
  attemptSpanIds: string[];
  /** A request event carried it (RequestTrace.recorded). */
  recorded: boolean;
}

const HEX = /^[0-9a-f]+$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

/** Parses one traceparent value; null when absent or invalid (a repeated header arrives joined and fails). */
export function parseTraceparent(header: string | readonly string[] | undefined): TraceParent | null {
  if (typeof header !== 'string') return null;
  const value = header.trim();
  if (value.length < 55) return null;
  const version = value.slice(0, 2);
  if (!HEX.test(version) || version === 'ff') return null;
  if (version === '00' ? value.length !== 55 : value.length > 55 && value[55] !== '-') return null;
  if (value[2] !== '-' || value[35] !== '-' || value[52] !== '-') return null;
  const traceId = value.slice(3, 35);
  const parentId = value.slice(36, 52);
  const flags = value.slice(53, 55);
  if (!HEX.test(traceId) || !HEX.test(parentId) || !HEX.test(flags)) return null;
  if (traceId === ZERO_TRACE || parentId === ZERO_SPAN) return null;
  return { version: Number.parseInt(version, 16), traceId, parentId, flags: Number.parseInt(flags, 16) };
}

/** `00-<traceId>-<spanId>-01|00`: what we send upstream (always version 00, only the sampled flag). */
export function formatTraceparent(traceId: string, spanId: string, sampled: boolean): string {
  return `00-${traceId}-${spanId}-${sampled ? '01' : '00'}`;
}

// Random ids come from a pool: 32 kB of randomFillSync output, ids cut off it as hex (one system call per
// ~680 requests instead of several per request: the CPU budget of issue 17 is 10% at ratio 1.0). Each id is
// its own flat string (Buffer#toString over its bytes), never a slice of one long hex string: a slice keeps
// its parent alive, so every in-flight request used to hold a 64 kB string through the young generation's
// scavenges, and those strings were promoted and left to full GCs (with tracing on at 12k requests/s, 117 kB
// promoted per scavenge before, 6 kB after: the same as with tracing off).
const POOL_BYTES = 32 * 1024;
const pool = Buffer.alloc(POOL_BYTES);
let offset = POOL_BYTES;

function randomHex(bytes: number, zero: string): string {
  for (;;) {
    if (offset + bytes > POOL_BYTES) {
      randomFillSync(pool);
      offset = 0;
    }
    const hex = pool.toString('hex', offset, offset + bytes);
    offset += bytes;
    if (hex !== zero) return hex; // all zero is invalid (and 2^-64 likely)
  }
}

export function newTraceId(): string {
  return randomHex(16, ZERO_TRACE);
}

export function newSpanId(): string {
  return randomHex(8, ZERO_SPAN);
}

/**
 * TraceIdRatioBased: the trace id's first 52 bits (random in W3C level 2 ids, and in ours) as a fraction of
 * 2^52, compared with the ratio. Ratio 1 samples all, 0 none.
 */
export function ratioSampled(traceId: string, ratio: number): boolean {
  if (ratio >= 1) return true;
  if (!(ratio > 0)) return false;
  const head = Number.parseInt(traceId.slice(0, 13), 16);
  return head / 2 ** 52 < ratio;
}

/** ParentBased: a valid parent's sampled flag wins; otherwise the ratio decides on the trace id. */
export function shouldSample(parent: TraceParent | null, traceId: string, ratio: number): boolean {
  if (parent !== null) return (parent.flags & 1) === 1;
  return ratioSampled(traceId, ratio);
}

/** The trace context of a new request: continues a valid incoming traceparent, else starts a trace. */
export function startTrace(header: string | readonly string[] | undefined, ratio: number): TraceContext {
  const parent = parseTraceparent(header);
  const traceId = parent?.traceId ?? newTraceId();
  return {
    traceId,
    spanId: newSpanId(),
    parentSpanId: parent?.parentId ?? null,
    sampled: shouldSample(parent, traceId, ratio),
    attemptSpanIds: [],
    recorded: false,
  };
}

/**
 * The traceparent for upstream attempt `index` (0-based): a fresh span id for that attempt's CLIENT span,
 * remembered so the span built later has the id the upstream saw as its parent. An unsampled trace is still
 * propagated, with flag 00, so the upstream does not start a sampled trace of its own.
 */
export function attemptTraceparent(trace: TraceContext, index: number): string {
  while (trace.attemptSpanIds.length <= index) trace.attemptSpanIds.push(newSpanId());
  return formatTraceparent(trace.traceId, trace.attemptSpanIds[index] as string, trace.sampled);
}

/** The W3C limit a tracestate may be held to (Trace Context §3.3.1.5): longer ones are not forwarded. */
const MAX_TRACESTATE = 512;

/**
 * The client's `tracestate` to send upstream with our traceparent (Trace Context §3.3: a participant that
 * continues a trace propagates the vendors' state it does not change), or undefined: none, the trace was not
 * continued (an invalid traceparent invalidates its tracestate too), or not a printable value within 512.
 * Repeated headers arrive joined with commas, which is how tracestate lists combine.
 */
export function forwardedTracestate(trace: TraceContext, header: string | readonly string[] | undefined): string | undefined {
  if (trace.parentSpanId === null || header === undefined) return undefined;
  const value = (typeof header === 'string' ? header : header.join(',')).trim();
  return value !== '' && value.length <= MAX_TRACESTATE && /^[\x20-\x7e]+$/.test(value) ? value : undefined;
}

/** The traceparent of our server span (for a `traceparent` response header or logs). */
export function serverTraceparent(trace: TraceContext): string {
  return formatTraceparent(trace.traceId, trace.spanId, trace.sampled);
}
