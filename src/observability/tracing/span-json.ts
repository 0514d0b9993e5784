// OTLP JSON text of spans, written by appending strings: what the exporter sends. Same JSON as
// JSON.stringify(exportRequest(...)) (otlp.ts), without building those objects. Issue 17 point 3 allows
// tracing at most +10% CPU per request, and generic JSON.stringify of the deep attribute arrays alone cost
// about 4 µs per span, so:
// - attribute key prefixes (`{"key":"gen_ai.request.model","value":{`) are computed once;
// - strings needing no escapes are copied as they are;
// - runs of attributes that repeat request after request (operation, models, pool, provider, outcome,
//   status) are kept as one flat piece of text, found by walking a small trie keyed by (key, value): most
//   spans are then a few pieces rather than ~80 small ones, and turning them into bytes is cheap too.
//   The trie is bounded (MAX_RUNS); a key with too many values (request ids, token counts) is not cached.
import type { AttributeSink, AttributeValue, Span, SpanHead, SpanSink } from './spans.ts';

export const SCOPE_NAME = 'modelmesh';
/** What closes the body after the last span. */
export const REQUEST_SUFFIX = ']}]}]}';

export interface OtlpResource {
  serviceName: string;
  /** Extra resource attributes (service.version, deployment.environment.name, …). */
  attributes?: Readonly<Record<string, string>>;
}

// The seconds part of the last timestamp, as text: four timestamps a span, nearly all in the same second.
let lastSecond = -1;
let lastSecondText = '';

/** Epoch ms (fractional) → ns as a decimal string, exact to the microsecond (no float past 2^53). */
export function unixNano(ms: number): string {
  if (!Number.isFinite(ms) || ms <= 0) return '0';
  // Epoch µs stay below 2^53 until the year 2255, so they are an exact integer; the product's rounding
  // error (under a quarter µs) is undone by Math.round. Seconds and µs apart are small integers, whose
  // conversion is several times cheaper than that of the 16-digit whole (no BigInt either).
  const micros = Math.round(ms * 1000);
  const second = Math.floor(micros / 1e6);
  const fraction = micros - second * 1e6;
  if (second === 0) return `${fraction}000`;
  if (second !== lastSecond) {
    lastSecond = second;
    lastSecondText = String(second);
  }
  return `${lastSecondText}${String(fraction + 1e6).slice(1)}000`;
}

/** Strings without quotes, backslashes, control characters or surrogates are their own JSON body. */
const PLAIN = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/;

function jsonString(s: string): string {
  return PLAIN.test(s) ? `"${s}"` : JSON.stringify(s);
}

// Names are a small fixed set (plus the operator's resource attributes); the bound only guards against a
// caller inventing names without end.
const KEY_PREFIX = new Map<string, string>();
const MAX_KEYS = 512;

function keyPrefix(key: string): string {
  let prefix = KEY_PREFIX.get(key);
  if (prefix === undefined) {
    prefix = `{"key":${jsonString(key)},"value":{`;
    if (KEY_PREFIX.size < MAX_KEYS) KEY_PREFIX.set(key, prefix);
  }
  return prefix;
}

const STR = 0;
const INT = 1;
const BOOL = 2;
type Scalar = string | number | boolean;

function valueJson(value: Scalar, kind: number): string {
  if (kind === STR) return `"stringValue":${jsonString(value as string)}}}`;
  if (kind === BOOL) return value === true ? '"boolValue":true}}' : '"boolValue":false}}';
  // JSON has no NaN or Infinity; a non-finite number is sent as 0 rather than breaking the batch.
  return `"intValue":"${Number.isFinite(value) ? Math.trunc(value as number) : 0}"}}`;
}

const doubleJson = (v: number): string => `"doubleValue":${Number.isFinite(v) ? v : 0}}}`;

function attributeJson(key: string, v: AttributeValue): string {
  if (typeof v === 'string') return keyPrefix(key) + valueJson(v, STR);
  if (typeof v === 'boolean') return keyPrefix(key) + valueJson(v, BOOL);
  return keyPrefix(key) + ('int' in v ? valueJson(v.int, INT) : doubleJson(v.double));
}

/** The body up to the first span: `{"resourceSpans":[{"resource":…,"scopeSpans":[{"scope":…,"spans":[`. */
export function resourcePrefix(resource: OtlpResource, scopeVersion?: string): string {
  const attributes: Record<string, AttributeValue> = { ...resource.attributes, 'service.name': resource.serviceName };
  let list = '';
  for (const key in attributes) list += (list === '' ? '' : ',') + attributeJson(key, attributes[key] as AttributeValue);
  const scope = scopeVersion === undefined ? `{"name":${jsonString(SCOPE_NAME)}}` : `{"name":${jsonString(SCOPE_NAME)},"version":${jsonString(scopeVersion)}}`;
  return `{"resourceSpans":[{"resource":{"attributes":[${list}]},"scopeSpans":[{"scope":${scope},"spans":[`;
}

/** A run of attributes as text (comma-separated), and the runs one attribute longer. */
interface Run {
  text: string;
  next: Map<string, Map<Scalar, Run>>;
  // The last step taken from here: nearly always the one the next request takes too, found with two
  // comparisons instead of two hash lookups.
  lastKey: string;
  lastValue: Scalar;
  last: Run | null;
}

const newRun = (text: string): Run => ({ text, next: new Map(), lastKey: '', lastValue: '', last: null });
const ROOT: Run = newRun('');
/** Runs in the trie, and characters of text they hold at most (~4 MB); past either, attributes are
 * written one by one (still correct, a little slower). */
const MAX_RUNS = 2048;
const MAX_TEXT_CHARS = 2_000_000;
/** Runs one key may end; a key past it has too many values to be worth caching (marked -1). */
const MAX_PER_KEY = 128;
/** Longer values (captured content) are never cached. */
const MAX_CACHED_CHARS = 256;
const perKey = new Map<string, number>();
let runCount = 0;
let textChars = 0;

/** A copy of `s` in one piece (not a chain of concatenations). */
const flat = (s: string): string => Buffer.from(s, 'utf8').toString('utf8');

/** The run `run` + this attribute, made if the bounds allow; null when it is not to be cached. */
function extend(run: Run, key: string, value: Scalar, kind: number): Run | null {
  const seen = perKey.get(key) ?? 0;
  if (seen < 0 || runCount >= MAX_RUNS || (kind === STR && (value as string).length > MAX_CACHED_CHARS)) return null;
  if (seen >= MAX_PER_KEY) {
    perKey.set(key, -1);
    return null;
  }
  const fragment = keyPrefix(key) + valueJson(value, kind);
  const text = run === ROOT ? fragment : `${run.text},${fragment}`;
  if (textChars + text.length > MAX_TEXT_CHARS) return null;
  perKey.set(key, seen + 1);
  runCount++;
  textChars += text.length;
  const child = newRun(flat(text));
  let byValue = run.next.get(key);
  if (byValue === undefined) {
    byValue = new Map();
    run.next.set(key, byValue);
  }
  byValue.set(value, child);
  return child;
}

/**
 * Spans as OTLP JSON text, appended as they are written: `{span},{span},…` without the brackets around
 * them (see resourcePrefix() and REQUEST_SUFFIX). take() returns the text so far and starts over.
 */
export class SpanJsonWriter implements SpanSink, AttributeSink {
  #out = '';
  #count = 0;
  /** What closes the open span (its status), '' when none is open. */
  #close = '';
  /** Something was written to the open span's attribute list. */
  #comma = false;
  /** Cached attributes not written yet. */
  #run: Run = ROOT;

  /** Spans written since the last take(). */
  get count(): number {
    return this.#count;
  }

  open(head: SpanHead): AttributeSink {
    this.#flush();
    this.#out += this.#close;
    const parent = head.parentSpanId === null ? '' : `,"parentSpanId":${jsonString(head.parentSpanId)}`;
    this.#out += `${this.#count === 0 ? '' : ','}{"traceId":${jsonString(head.traceId)},"spanId":${jsonString(head.spanId)}${parent},`
      + `"name":${jsonString(head.name)},"kind":${head.kind},"startTimeUnixNano":"${unixNano(head.startMs)}",`
      + `"endTimeUnixNano":"${unixNano(Math.max(head.startMs, head.endMs))}","attributes":[`;
    const { code, message } = head.status;
    this.#close = message === undefined ? `],"status":{"code":${code}}}` : `],"status":{"code":${code},"message":${jsonString(message)}}}`;
    this.#count++;
    this.#comma = false;
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
    this.#write(keyPrefix(key) + doubleJson(value));
  }

  take(): string {
    this.#flush();
    const out = this.#out + this.#close;
    this.#out = '';
    this.#close = '';
    this.#count = 0;
    return out;
  }

  #attribute(key: string, value: Scalar, kind: number): void {
    const run = this.#run;
    if (run.last !== null && run.lastKey === key && run.lastValue === value) {
      this.#run = run.last;
      return;
    }
    const next = run.next.get(key)?.get(value) ?? extend(run, key, value, kind);
    if (next === null) {
      this.#write(keyPrefix(key) + valueJson(value, kind));
      return;
    }
    run.lastKey = key;
    run.lastValue = value;
    run.last = next;
    this.#run = next;
  }

  #write(fragment: string): void {
    this.#flush();
    this.#out += (this.#comma ? ',' : '') + fragment;
    this.#comma = true;
  }

  #flush(): void {
    if (this.#run === ROOT) return;
    this.#out += (this.#comma ? ',' : '') + this.#run.text;
    this.#comma = true;
    this.#run = ROOT;
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
