// One span attribute as OTLP JSON (`{"key":…,"value":{"stringValue":…}}`), written into a ByteTarget, and
// the trie of attribute runs that repeat request after request (see span-json.ts): found by (key, value),
// each run's bytes ready to copy. Bounded: MAX_RUNS runs, MAX_BYTES bytes, MAX_PER_KEY values per key.
import { putAscii, putBytes, putDouble, putInteger, putJsonString, type ByteTarget } from './bytes.ts';

// Names are a small fixed set (plus the operator's resource attributes); the bound only guards against a
// caller inventing names without end.
const KEY_PREFIX = new Map<string, Buffer>();
const MAX_KEYS = 512;

export const keyText = (key: string): string => `{"key":${JSON.stringify(key)},"value":{`;

function keyPrefix(key: string): Buffer {
  let prefix = KEY_PREFIX.get(key);
  if (prefix === undefined) {
    prefix = Buffer.from(keyText(key), 'utf8');
    if (KEY_PREFIX.size < MAX_KEYS) KEY_PREFIX.set(key, prefix);
  }
  return prefix;
}

export const STR = 0;
export const INT = 1;
export const BOOL = 2;
export type Scalar = string | number | boolean;

/** The value part of an attribute as text (what the trie caches). */
export function valueText(value: Scalar, kind: number): string {
  if (kind === STR) return `"stringValue":${JSON.stringify(value)}}}`;
  if (kind === BOOL) return value === true ? '"boolValue":true}}' : '"boolValue":false}}';
  // JSON has no NaN or Infinity; a non-finite number is sent as 0 rather than breaking the batch.
  return `"intValue":"${Number.isFinite(value) ? Math.trunc(value as number) : 0}"}}`;
}

const TRUE_VALUE = Buffer.from('"boolValue":true}}');
const FALSE_VALUE = Buffer.from('"boolValue":false}}');

/** The same as keyText(key) + valueText(value, kind), written. */
export function putAttribute(t: ByteTarget, key: string, value: Scalar, kind: number): void {
  putBytes(t, keyPrefix(key));
  if (kind === STR) {
    putAscii(t, '"stringValue":');
    putJsonString(t, value as string);
    putAscii(t, '}}');
  } else if (kind === BOOL) {
    putBytes(t, value === true ? TRUE_VALUE : FALSE_VALUE);
  } else {
    putAscii(t, '"intValue":"');
    putInteger(t, value as number);
    putAscii(t, '"}}');
  }
}

export function putDoubleAttribute(t: ByteTarget, key: string, value: number): void {
  putBytes(t, keyPrefix(key));
  putAscii(t, '"doubleValue":');
  putDouble(t, value);
  putAscii(t, '}}');
}

const COMMA = Buffer.from(',');

/** A run of attributes as bytes (comma-separated), and the runs one attribute longer. */
export interface Run {
  bytes: Buffer;
  next: Map<string, Map<Scalar, Run>>;
  // The last step taken from here: nearly always the one the next request takes too, found with two
  // comparisons instead of two hash lookups.
  lastKey: string;
  lastValue: Scalar;
  last: Run | null;
}

const newRun = (bytes: Buffer): Run => ({ bytes, next: new Map(), lastKey: '', lastValue: '', last: null });
/** A trie root: the empty run (nothing cached yet). */
export const newRoot = (): Run => newRun(Buffer.alloc(0));
/** Runs in the trie, and bytes they hold at most (~2 MB); past either, attributes are written one by one
 * (still correct, a little slower). */
const MAX_RUNS = 2048;
const MAX_BYTES = 2_000_000;
/** Runs one key may end; a key past it has too many values to be worth caching (marked -1). */
const MAX_PER_KEY = 128;
/** Longer values (captured content) are never cached. */
const MAX_CACHED_CHARS = 256;
const perKey = new Map<string, number>();
/**
 * Keys past MAX_PER_KEY (request ids, token counts, costs): their attributes are written as they are, without
 * looking through the trie first (each miss there hashed a fresh value string, request after request).
 */
export const UNCACHED = new Set<string>();
let runCount = 0;
let runBytes = 0;

/** The run `run` + this attribute, made if the bounds allow; null when it is not to be cached. */
export function extend(run: Run, key: string, value: Scalar, kind: number): Run | null {
  const seen = perKey.get(key) ?? 0;
  if (seen < 0 || runCount >= MAX_RUNS || (kind === STR && (value as string).length > MAX_CACHED_CHARS)) return null;
  if (seen >= MAX_PER_KEY) {
    perKey.set(key, -1);
    UNCACHED.add(key);
    return null;
  }
  const fragment = Buffer.from(keyText(key) + valueText(value, kind), 'utf8');
  const bytes = run.bytes.length === 0 ? fragment : Buffer.concat([run.bytes, COMMA, fragment]);
  if (runBytes + bytes.length > MAX_BYTES) return null;
  perKey.set(key, seen + 1);
  runCount++;
  runBytes += bytes.length;
  const child = newRun(bytes);
  let byValue = run.next.get(key);
  if (byValue === undefined) {
    byValue = new Map();
    run.next.set(key, byValue);
  }
  byValue.set(value, child);
  return child;
}

