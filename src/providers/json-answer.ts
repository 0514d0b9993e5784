// Is a buffered 2xx answer of a JSON endpoint a complete JSON object? (issue 11.3) An upstream behind a
// broken gateway answers `200 application/json` with an HTML error page or a body cut short; relayed as is,
// the client gets a success it cannot parse and the router never learns that the upstream is failing.
//
// Hot path, so the check is graded by size (measured on Node 20, one core, see the README's reliability
// section): the first and last non-space bytes must be `{` and `}` (~0.1 µs whatever the size), which
// catches HTML, plain text and almost every truncation; bodies up to FULL_PARSE_MAX are also checked in full
// as JSON by a byte scan that builds nothing (lib/json-check.ts: a 540-byte chat answer ~0.8 µs, where
// JSON.parse took ~1.4 µs and left its object tree behind), and only their `usage` object is parsed. A
// multi-megabyte embeddings or images answer is only checked at its ends: parsing it costs ~5 ms per MB, and
// a cut at a random byte ends on `}` about once in tens of thousands.
import type { MeshError } from '../errors.ts';
import { found, isJsonText } from '../lib/json-check.ts';
import { upstreamError } from './http/upstream-failure.ts';

/** Bodies up to this size are checked in full (well under a millisecond). */
export const FULL_PARSE_MAX = 256 * 1024;

/**
 * The top-level `usage` of each answer this check parsed, for the usage read that follows it (issue 16: the
 * answer parsed once, not parsed here and scanned again in proxy/endpoints/usage-scan.ts). Kept on the body
 * Buffer itself under a symbol, gone with it: a WeakMap entry per answer cost ~0.5 µs (set, and the GC's
 * ephemeron work), the property ~30 ns.
 */
const USAGE = Symbol('modelmesh.parsedUsage');
const USAGE_KEY = Buffer.from('"usage"');
type WithUsage = Buffer & { [USAGE]?: unknown };

/** The `usage` object at the top level of `body` when jsonObjectProblem parsed it and found one, else undefined. */
export function parsedUsageOf(body: Buffer): unknown {
  return (body as WithUsage)[USAGE];
}

const isSpace = (byte: number | undefined): boolean => byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;

/** Why `body` is not a complete JSON object, or null when it is one (see the file comment for the depth of the check). */
export function jsonObjectProblem(body: Buffer): string | null {
  let first = 0;
  while (isSpace(body[first])) first++;
  // A UTF-8 byte order mark is not JSON text, but JSON.parse after toString() would not see it either.
  if (body[first] === 0xef && body[first + 1] === 0xbb && body[first + 2] === 0xbf) first += 3;
  while (isSpace(body[first])) first++;
  if (first >= body.length) return 'empty body';
  let last = body.length - 1;
  while (isSpace(body[last])) last--;
  if (body[first] !== 0x7b /* { */) return `not a JSON object (starts with ${preview(body, first)})`;
  if (body[last] !== 0x7d /* } */) return 'truncated JSON (does not end with })';
  if (body.length > FULL_PARSE_MAX) return null;
  const valid = isJsonText(body, first, last + 1, USAGE_KEY);
  if (valid === false) return 'invalid JSON';
  if (valid === null) return fullParse(body, first); // nested deeper than the scan goes
  // Only the usage object is parsed: the rest of the answer is relayed as it came.
  if (found.start >= 0 && body[skipSpace(body, found.start)] === 0x7b) {
    (body as WithUsage)[USAGE] = JSON.parse(body.toString('utf8', found.start, found.end)) as unknown;
  }
  return null;
}

function fullParse(body: Buffer, first: number): string | null {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8', first));
    const usage = (parsed as { usage?: unknown }).usage;
    if (typeof usage === 'object' && usage !== null) (body as WithUsage)[USAGE] = usage;
    return null;
  } catch {
    return 'invalid JSON';
  }
}

function skipSpace(body: Buffer, i: number): number {
  while (isSpace(body[i])) i++;
  return i;
}

/** The upstream failure for a broken 2xx JSON answer (status 0: retried and counted like a transport failure), or null. */
export function brokenJsonAnswer(providerId: string, status: number, body: Buffer): MeshError | null {
  const problem = jsonObjectProblem(body);
  return problem === null ? null : upstreamError(providerId, `${status} answer is ${problem}`);
}

function preview(body: Buffer, at: number): string {
  const text = body.toString('latin1', at, at + 16).replace(/[^\x20-\x7e]/g, '?');
  return JSON.stringify(text);
}
