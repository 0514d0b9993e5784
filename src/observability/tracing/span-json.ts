// OTLP JSON of spans, written as UTF-8 straight into the Buffer of the request body it goes out in (the
// exporter's batch): what the exporter sends. Same JSON as JSON.stringify(exportRequest(...)) (otlp.ts),
// without building those objects or any string per span. Issue 17 point 3 allows tracing at most +10% CPU
// per request, and generic JSON.stringify of the deep attribute arrays alone cost about 4 µs per span, so:
// - attribute key prefixes (`{"key":"gen_ai.request.model","value":{`) are encoded once;
// - runs of attributes that repeat request after request (operation, models, pool, provider, outcome,
//   status) are kept as one piece of bytes, found by walking a small trie keyed by (key, value): most spans
//   are then a few copies rather than ~80 small writes. The trie is bounded (MAX_RUNS); a key with too many
//   values (request ids, token counts) is not cached;
// - what varies (ids, times, counts, request ids) is written byte by byte (bytes.ts).
import { BOOL, extend, INT, keyText, newRoot, putAttribute, putDoubleAttribute, STR, UNCACHED, valueText, type Run, type Scalar } from './attribute-runs.ts';
import { byteTarget, ensure, putAscii, putByte, putBytes, putDigits, putJsonString, textOf, type ByteTarget } from './bytes.ts';
import { SPAN_KIND_SERVER, type AttributeSink, type AttributeValue, type Span, type SpanHead, type SpanSink } from './spans.ts';

export const SCOPE_NAME = 'modelmesh';
/** What closes the body after the last span. */
export const REQUEST_SUFFIX = ']}]}]}';

export interface OtlpResource {
  serviceName: string;
  /** Extra resource attributes (service.version, deployment.environment.name, …). */
  attributes?: Readonly<Record<string, string>>;
}

// The seconds part of the last timestamp, as bytes: four timestamps a request, most in the same second as the
// one before. Kept in a Buffer of its own, refilled from the digits written on a miss (a request that takes
// seconds, as model calls do, starts and ends in different seconds: no allocation for that either).
let lastSecond = -1;
const lastSecondBytes = Buffer.alloc(16);
let lastSecondLength = 0;

/** Epoch ms (fractional) → ns as a decimal string, exact to the microsecond (no float past 2^53). */
export function unixNano(ms: number): string {
  const t = byteTarget(32);
  putUnixNano(t, ms);
  return textOf(t);
}

/** unixNano() written as digits (no quotes). */
function putUnixNano(t: ByteTarget, ms: number): void {
  if (!Number.isFinite(ms) || ms <= 0) return putByte(t, 0x30);
  // Epoch µs stay below 2^53 until the year 2255, so they are an exact integer; the product's rounding
  // error (under a quarter µs) is undone by Math.round. Seconds and µs apart are small integers, cheaper to
  // write than the 16-digit whole (no BigInt either).
  const micros = Math.round(ms * 1000);
  const second = Math.floor(micros / 1e6);
  const fraction = micros - second * 1e6;
  if (second === 0) putDigits(t, fraction);
  else {
    if (second === lastSecond) {
      ensure(t, lastSecondLength);
      for (let i = 0; i < lastSecondLength; i++) t.buf[t.len + i] = lastSecondBytes[i] as number;
      t.len += lastSecondLength;
    } else {
      const at = t.len;
      putDigits(t, second);
      lastSecondLength = t.len - at;
      const fits = lastSecondLength <= lastSecondBytes.length; // 10 digits until the year 2286
      if (fits) t.buf.copy(lastSecondBytes, 0, at, t.len);
      lastSecond = fits ? second : -1;
    }
    // Six digits of µs: below 1e6, so 32-bit integer arithmetic is exact.
    ensure(t, 6);
    const buf = t.buf;
    const at = t.len;
    let v = fraction;
    for (let i = at + 5; i >= at; i--) {
      const q = (v / 10) | 0;
      buf[i] = 0x30 + v - q * 10;
      v = q;
    }
    t.len = at + 6;
  }
  putAscii(t, '000');
}

/** The body up to the first span: `{"resourceSpans":[{"resource":…,"scopeSpans":[{"scope":…,"spans":[`. */
export function resourcePrefix(resource: OtlpResource, scopeVersion?: string): string {
  const attributes: Record<string, AttributeValue> = { ...resource.attributes, 'service.name': resource.serviceName };
  let list = '';
  for (const key in attributes) {
    const v = attributes[key] as AttributeValue;
    const value = typeof v === 'string' ? valueText(v, STR) : typeof v === 'boolean' ? valueText(v, BOOL)
      : 'int' in v ? valueText(v.int, INT) : `"doubleValue":${Number.isFinite(v.double) ? v.double : 0}}}`;
    list += (list === '' ? '' : ',') + keyText(key) + value;
  }
  const name = JSON.stringify(SCOPE_NAME);
  const scope = scopeVersion === undefined ? `{"name":${name}}` : `{"name":${name},"version":${JSON.stringify(scopeVersion)}}`;
  return `{"resourceSpans":[{"resource":{"attributes":[${list}]},"scopeSpans":[{"scope":${scope},"spans":[`;
}

const SERVER_ROOT = newRoot();
const CLIENT_ROOT = newRoot();
const CLOSE_OK = Buffer.from('],"status":{"code":1}}');
// An unset status without a message is the default: left out (as the protobuf JSON mapping allows).
const CLOSE_UNSET = Buffer.from(']}');

/**
 * Spans as OTLP JSON, appended to a ByteTarget as they are written: `{span},{span},…` without the brackets
 * around them (see resourcePrefix() and REQUEST_SUFFIX). begin(target) points it at the body being filled
 * and end() closes the last span; take() is begin/end on a scratch target of its own, returned as text.
 */
export class SpanJsonWriter implements SpanSink, AttributeSink {
  readonly #scratch = byteTarget();
  #t: ByteTarget = this.#scratch;
  #count = 0;
  /** The open span's status, written when it closes; -1 when none is open. */
  #code = -1;
  #message: string | undefined = undefined;
  /** Something was written to the open span's attribute list. */
  #comma = false;
  /**
   * Where cached runs start in the open span: one trie root per span kind, so that the last-step shortcut
   * of each root keeps pointing the way the next span of that kind goes (server and attempt spans share
   * their first attribute and part right after it).
   */
  #root: Run = SERVER_ROOT;
  /** Cached attributes not written yet (the root: none). */
  #run: Run = SERVER_ROOT;

  /** Spans written since begin(). */
  get count(): number {
    return this.#count;
  }

  /** Writes what follows at the end of `t`. */
  begin(t: ByteTarget): void {
    this.#t = t;
    this.#count = 0;
    this.#code = -1;
    this.#run = this.#root;
  }

  /** Closes the open span; the spans are then complete JSON in the target. Returns how many. */
  end(): number {
    this.#flush();
    this.#closeSpan();
    const n = this.#count;
    this.#t = this.#scratch;
    return n;
  }

  /** Drops what is open without writing anything more (the target already took back what was written). */
  abandon(): void {
    this.#t = this.#scratch;
    this.#scratch.len = 0;
    this.#count = 0;
    this.#code = -1;
    this.#run = this.#root;
  }

  /** The spans written since the last take() (or begin() on the scratch target), as text. */
  take(): string {
    const t = this.#t;
    this.end();
    const text = textOf(t);
    this.#scratch.len = 0;
    this.begin(this.#scratch);
    return text;
  }

  open(head: SpanHead): AttributeSink {
    this.#flush();
    this.#closeSpan();
    const t = this.#t;
    ensure(t, 256);
    putAscii(t, this.#count === 0 ? '{"traceId":' : ',{"traceId":');
    putJsonString(t, head.traceId);
    putAscii(t, ',"spanId":');
    putJsonString(t, head.spanId);
    if (head.parentSpanId !== null) {
      putAscii(t, ',"parentSpanId":');
      putJsonString(t, head.parentSpanId);
    }
    putAscii(t, ',"name":');
    putJsonString(t, head.name);
    putAscii(t, ',"kind":');
    putDigits(t, head.kind);
    putAscii(t, ',"startTimeUnixNano":"');
    putUnixNano(t, head.startMs);
    putAscii(t, '","endTimeUnixNano":"');
    putUnixNano(t, Math.max(head.startMs, head.endMs));
    putAscii(t, '","attributes":[');
    this.#code = head.status.code;
    this.#message = head.status.message;
    this.#count++;
    this.#comma = false;
    this.#root = head.kind === SPAN_KIND_SERVER ? SERVER_ROOT : CLIENT_ROOT;
    this.#run = this.#root;
    return this;
  }

  str(key: string, value: string): void {
    this.#attribute(key, value, STR);
  }

  int(key: string, value: number): void {
    this.#attribute(key, Math.round(value), INT);
  }

  bool(key: string, value: boolean): void {
    this.#attribute(key, value, BOOL);
  }

  double(key: string, value: number): void {
    this.#separate();
    putDoubleAttribute(this.#t, key, value);
  }

  #attribute(key: string, value: Scalar, kind: number): void {
    const run = this.#run;
    if (run.last !== null && run.lastKey === key && run.lastValue === value) {
      this.#run = run.last;
      return;
    }
    const next = UNCACHED.has(key) ? null : run.next.get(key)?.get(value) ?? extend(run, key, value, kind);
    if (next === null) {
      this.#separate();
      putAttribute(this.#t, key, value, kind);
      return;
    }
    run.lastKey = key;
    run.lastValue = value;
    run.last = next;
    this.#run = next;
  }

  /** Writes the pending run and the comma before the next attribute. */
  #separate(): void {
    this.#flush();
    if (this.#comma) putByte(this.#t, 0x2c);
    this.#comma = true;
  }

  #flush(): void {
    if (this.#run === this.#root) return;
    if (this.#comma) putByte(this.#t, 0x2c);
    putBytes(this.#t, this.#run.bytes);
    this.#comma = true;
    this.#run = this.#root;
  }

  #closeSpan(): void {
    const code = this.#code;
    if (code < 0) return;
    this.#code = -1;
    const t = this.#t;
    if (this.#message === undefined && code === 1) return putBytes(t, CLOSE_OK);
    if (this.#message === undefined && code === 0) return putBytes(t, CLOSE_UNSET);
    putAscii(t, '],"status":{"code":');
    putDigits(t, code);
    if (this.#message !== undefined) {
      putAscii(t, ',"message":');
      putJsonString(t, this.#message);
    }
    putAscii(t, '}}');
  }
}

/** A Span object through the writer (its attributes record in order). */
export function writeSpan(w: SpanJsonWriter, span: Span): void {
  const a = w.open(span);
  const attributes = span.attributes;
  for (const key in attributes) {
    const v = attributes[key] as AttributeValue;
    if (typeof v === 'string') a.str(key, v);
    else if (typeof v === 'boolean') a.bool(key, v);
    else if ('int' in v) a.int(key, Math.trunc(v.int));
    else a.double(key, v.double);
  }
}
