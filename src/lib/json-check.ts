// Is a byte range one complete JSON text (RFC 8259)? A scan over the bytes that builds nothing: the check of
// every buffered 2xx answer (providers/json-answer.ts, issue 11.3) without JSON.parse's string conversion and
// object tree, which cost a 540-byte chat answer about 1.4 µs and its garbage (issue 16). It can also say
// where one member of the top-level object is, so that only that member is parsed (an answer's `usage`).
//
// Accepts exactly what JSON.parse(buf.toString('utf8', start, end)) accepts, with two differences that cannot
// arise there: bytes past ASCII inside strings are not checked as UTF-8 (toString would turn bad sequences
// into U+FFFD, which JSON.parse accepts too), and nesting deeper than MAX_DEPTH returns null (too deep to
// say here: the caller falls back to JSON.parse).

/** Containers open at once, at most; a deeper text is left to JSON.parse. */
export const MAX_DEPTH = 512;

const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const QUOTE = 0x22;
const PLUS = 0x2b;
const COMMA = 0x2c;
const MINUS = 0x2d;
const DOT = 0x2e;
const SLASH = 0x2f;
const ZERO = 0x30;
const NINE = 0x39;
const COLON = 0x3a;
const OPEN_ARRAY = 0x5b;
const BACKSLASH = 0x5c;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

const isSpace = (c: number): boolean => c === SPACE || c === LF || c === CR || c === TAB;
const isDigit = (c: number): boolean => c >= ZERO && c <= NINE;
const isHex = (c: number): boolean => isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);

// Each container on the stack: 1 object, 2 array.
const stack = new Uint8Array(MAX_DEPTH);

/**
 * Where the value of the top-level object's member named by isJsonText's `member` is, in the text it last
 * accepted (read it only after a `true`): [start, end) of the buffer; start -1 when there is none. The last
 * such member wins, as in JSON.parse.
 */
export const found = { start: -1, end: -1 };

/**
 * true: `buf[start, end)` is one JSON text; false: it is not; null: nested too deep to tell here.
 * `member`: the UTF-8 bytes of a key of the top-level object, quotes included (`"usage"`), to find (`found`).
 */
export function isJsonText(buf: Buffer, start: number, end: number, member?: Uint8Array): boolean | null {
  let i = start;
  let depth = 0;
  found.start = -1;
  // The start of the wanted member's value while it is being read.
  let memberAt = -1;
  for (;;) {
    // A value is expected at i (after skipping space).
    while (i < end && isSpace(buf[i] as number)) i++;
    if (i >= end) return false;
    const c = buf[i] as number;
    if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (depth === MAX_DEPTH) return null;
      stack[depth++] = c === OPEN_OBJECT ? 1 : 2;
      i++;
      while (i < end && isSpace(buf[i] as number)) i++;
      if (i >= end) return false;
      const close = c === OPEN_OBJECT ? CLOSE_OBJECT : CLOSE_ARRAY;
      if (buf[i] === close) {
        depth--;
        i++;
      } else {
        if (c === OPEN_OBJECT) {
          const at = i;
          if ((i = key(buf, i, end)) < 0) return false;
          if (depth === 1 && member !== undefined && isKey(buf, at, member)) memberAt = i;
        }
        continue; // the first member's value
      }
    } else if (c === QUOTE) {
      if ((i = string(buf, i, end)) < 0) return false;
    } else if (c === MINUS || isDigit(c)) {
      if ((i = number(buf, i, end)) < 0) return false;
    } else if ((i = literal(buf, i, end)) < 0) return false;
    // After a value: a comma and the next member, the container's close, or the end of the text.
    for (;;) {
      if (memberAt >= 0 && depth === 1) {
        found.start = memberAt;
        found.end = i;
        memberAt = -1;
      }
      while (i < end && isSpace(buf[i] as number)) i++;
      if (depth === 0) return i === end;
      if (i >= end) return false;
      const inObject = stack[depth - 1] === 1;
      const d = buf[i] as number;
      if (d === COMMA) {
        i++;
        if (inObject) {
          const at = i;
          if ((i = key(buf, i, end)) < 0) return false;
          if (depth === 1 && member !== undefined && isKey(buf, at, member)) memberAt = i;
        }
        break; // the next value
      }
      if (d !== (inObject ? CLOSE_OBJECT : CLOSE_ARRAY)) return false;
      depth--;
      i++;
    }
  }
}

/** Whether the key starting at or after `at` (space first allowed) is exactly `key`, quotes included (no escapes). */
function isKey(buf: Buffer, at: number, key: Uint8Array): boolean {
  while (isSpace(buf[at] as number)) at++;
  for (let k = 0; k < key.length; k++) if (buf[at + k] !== key[k]) return false;
  return true;
}

/** `"key" :` from i (space first allowed); the index after the colon, or -1. */
function key(buf: Buffer, i: number, end: number): number {
  while (i < end && isSpace(buf[i] as number)) i++;
  if (buf[i] !== QUOTE) return -1;
  i = string(buf, i, end);
  if (i < 0) return -1;
  while (i < end && isSpace(buf[i] as number)) i++;
  return buf[i] === COLON && i < end ? i + 1 : -1;
}

/** The string opening at i; the index after its closing quote, or -1. */
function string(buf: Buffer, i: number, end: number): number {
  i++;
  while (i < end) {
    const c = buf[i] as number;
    if (c === QUOTE) return i + 1;
    if (c < SPACE) return -1; // control characters must be escaped
    if (c === BACKSLASH) {
      const e = buf[i + 1];
      if (e === 0x75 /* u */) {
        if (i + 6 > end || !isHex(buf[i + 2] as number) || !isHex(buf[i + 3] as number) || !isHex(buf[i + 4] as number) || !isHex(buf[i + 5] as number)) return -1;
        i += 6;
        continue;
      }
      // \" \\ \/ \b \f \n \r \t
      if (e !== QUOTE && e !== BACKSLASH && e !== SLASH && e !== 0x62 && e !== 0x66 && e !== 0x6e && e !== 0x72 && e !== 0x74) return -1;
      i += 2;
      continue;
    }
    i++;
  }
  return -1;
}

/** `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?` from i; the index after it, or -1. */
function number(buf: Buffer, i: number, end: number): number {
  if (buf[i] === MINUS) i++;
  if (i >= end) return -1;
  if (buf[i] === ZERO) i++;
  else if (isDigit(buf[i] as number)) while (i < end && isDigit(buf[i] as number)) i++;
  else return -1;
  if (i < end && buf[i] === DOT) {
    i++;
    if (i >= end || !isDigit(buf[i] as number)) return -1;
    while (i < end && isDigit(buf[i] as number)) i++;
  }
  if (i < end && (buf[i] === 0x65 || buf[i] === 0x45)) {
    i++;
    if (i < end && (buf[i] === PLUS || buf[i] === MINUS)) i++;
    if (i >= end || !isDigit(buf[i] as number)) return -1;
    while (i < end && isDigit(buf[i] as number)) i++;
  }
  return i;
}

const TRUE = [0x74, 0x72, 0x75, 0x65];
const FALSE = [0x66, 0x61, 0x6c, 0x73, 0x65];
const NULL = [0x6e, 0x75, 0x6c, 0x6c];

/** true, false or null from i; the index after it, or -1. */
function literal(buf: Buffer, i: number, end: number): number {
  const c = buf[i];
  const word = c === 0x74 ? TRUE : c === 0x66 ? FALSE : c === 0x6e ? NULL : null;
  if (word === null || i + word.length > end) return -1;
  for (let k = 1; k < word.length; k++) if (buf[i + k] !== word[k]) return -1;
  return i + word.length;
}
