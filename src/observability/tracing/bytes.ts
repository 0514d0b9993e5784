// Appending JSON pieces straight into a growable Buffer: what spans are written with (issue 17 point 3).
// Writing bytes rather than building strings leaves no per-span garbage on the JS heap: every string a span
// used to be made of was short-lived, but at thousands of requests a second it made the young generation
// fill faster, and each scavenge copies everything the requests in flight hold. Short ASCII strings are
// copied a character at a time (cheaper than a call into Buffer.write for a few dozen bytes); anything
// needing an escape or wider than ASCII goes through JSON.stringify and Buffer.write, which are exact.

/** A Buffer being filled: bytes [0, len) are written. */
export interface ByteTarget {
  buf: Buffer;
  len: number;
}

export function byteTarget(size = 4096): ByteTarget {
  return { buf: Buffer.allocUnsafe(size), len: 0 };
}

/** Room for `n` more bytes (doubling, the written part copied over). */
export function ensure(t: ByteTarget, n: number): void {
  if (t.len + n <= t.buf.length) return;
  const bigger = Buffer.allocUnsafe(Math.max(t.len + n, t.buf.length * 2));
  t.buf.copy(bigger, 0, 0, t.len);
  t.buf = bigger;
}

/** Bytes as they are (cached pieces of JSON). */
export function putBytes(t: ByteTarget, b: Buffer): void {
  ensure(t, b.length);
  t.buf.set(b, t.len);
  t.len += b.length;
}

/** A string known to be ASCII needing no escapes (constants of this module's callers, digits, hex ids). */
export function putAscii(t: ByteTarget, s: string): void {
  const n = s.length;
  ensure(t, n);
  const buf = t.buf;
  let at = t.len;
  for (let i = 0; i < n; i++) buf[at++] = s.charCodeAt(i);
  t.len = at;
}

export function putByte(t: ByteTarget, b: number): void {
  ensure(t, 1);
  t.buf[t.len++] = b;
}

/** Any string as a JSON string literal, quotes included: the same text JSON.stringify gives, in UTF-8. */
export function putJsonString(t: ByteTarget, s: string): void {
  const n = s.length;
  ensure(t, n + 2);
  const buf = t.buf;
  const start = t.len;
  let at = start;
  buf[at++] = 0x22;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    // Control characters, '"', '\', DEL and anything past ASCII: the exact path.
    if (c < 0x20 || c === 0x22 || c === 0x5c || c >= 0x7f) {
      t.len = start;
      const json = JSON.stringify(s);
      ensure(t, json.length * 3); // UTF-8 takes at most 3 bytes per UTF-16 unit
      t.len += t.buf.write(json, t.len, 'utf8');
      return;
    }
    buf[at++] = c;
  }
  buf[at++] = 0x22;
  t.len = at;
}

/** A non-negative safe integer's decimal digits, left-padded with zeros to `width`. */
export function putDigits(t: ByteTarget, value: number, width = 1): void {
  let digits = 1;
  for (let v = value; v >= 10; v = Math.floor(v / 10)) digits++;
  const n = Math.max(width, digits);
  ensure(t, n);
  const buf = t.buf;
  let v = value;
  for (let i = t.len + n - 1; i >= t.len; i--) {
    buf[i] = 0x30 + (v % 10);
    v = Math.floor(v / 10);
  }
  t.len += n;
}

/** An integer as JSON digits (with its sign); JSON has no NaN or Infinity, so a non-finite value is 0. */
export function putInteger(t: ByteTarget, value: number): void {
  const v = Number.isFinite(value) ? Math.trunc(value) : 0;
  if (v < 0) putByte(t, 0x2d);
  const abs = Math.abs(v);
  if (abs <= Number.MAX_SAFE_INTEGER) putDigits(t, abs);
  else putAscii(t, String(abs)); // exponent notation past 1e21 is still what JSON.stringify writes
}

/** Any finite double the way JSON.stringify writes it; non-finite values as 0. */
export function putDouble(t: ByteTarget, value: number): void {
  putAscii(t, Number.isFinite(value) ? String(value) : '0');
}

/** The bytes written, as text (tests and the Span-object path). */
export function textOf(t: ByteTarget): string {
  return t.buf.toString('utf8', 0, t.len);
}
