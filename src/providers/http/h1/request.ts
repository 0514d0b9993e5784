// Request heads of one provider (RFC 9112 §3): the static part (Host, auth, preset and operator headers) is
// serialised once; a request adds its line, its own headers and Content-Length. Validation matches what
// node:http refuses, so a bad header fails the attempt the same way under either client.

import { decimal } from '../../../lib/decimal.ts';

// node:http _http_common.js: tokens for names and methods; values without CR, LF, NUL or other controls.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
const BAD_PATH = /[^\u0021-\u00ff]/;
/** Targets and header names remembered as valid, at most (a bound, in case names are ever made up per request). */
const MAX_REMEMBERED = 256;
/** Methods whose bodiless requests still state `content-length: 0` (node:http does too). */
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/** Thrown for a request node:http would refuse; the exchange reports `invalid request: <message>`. */
export class InvalidRequest extends Error {
  override name = 'InvalidRequest' as const;
}

function check(name: string, value: string): void {
  if (!TOKEN.test(name)) throw new InvalidRequest(`Header name must be a valid HTTP token ["${name}"]`);
  checkValue(name, value);
}

function checkValue(name: string, value: string): void {
  if (BAD_VALUE.test(value)) throw new InvalidRequest(`Invalid character in header content ["${name}"]`);
}

export class RequestHeads {
  readonly #pairs: readonly (readonly [string, string])[];
  /** `host: …\r\n` + every static header, serialised. */
  readonly #fixed: string;
  readonly #prefix: string;
  readonly #search: string;
  /** Names of the static headers (does a request's own header replace one?). */
  readonly #names: ReadonlySet<string>;
  // What was validated already: request targets by endpoint path, header names and methods. A request would
  // otherwise run the same regular expressions over the same few strings every time (issue 16).
  readonly #targets = new Map<string, string>();
  readonly #goodNames = new Set<string>();
  #goodMethod = '';
  /** A static header node:http would refuse: every request fails with it. */
  readonly #invalid: string | undefined;

  /** `host` is the Host header value; `prefix` the base URL's path without its trailing slash. */
  constructor(host: string, headers: Readonly<Record<string, string>>, prefix: string, search: string) {
    const pairs: [string, string][] = [['host', host]];
    for (const [name, value] of Object.entries(headers)) pairs.push([name, value]);
    let invalid: string | undefined;
    for (const [name, value] of pairs) {
      try {
        check(name, value);
      } catch (err) {
        invalid ??= (err as Error).message;
      }
    }
    this.#pairs = pairs;
    this.#invalid = invalid;
    this.#fixed = pairs.map(([n, v]) => `${n}: ${v}\r\n`).join('');
    this.#prefix = prefix;
    this.#search = search;
    this.#names = new Set(pairs.map(([n]) => n));
  }

  /** The request target for `path`, checked once per path. */
  #target(path: string): string {
    let target = this.#targets.get(path);
    if (target === undefined) {
      target = this.#prefix + path + this.#search;
      if (BAD_PATH.test(target)) throw new InvalidRequest('Request path contains unescaped characters');
      if (this.#targets.size < MAX_REMEMBERED) this.#targets.set(path, target);
    }
    return target;
  }

  /** The serialised head (latin1) of one request; throws InvalidRequest. */
  head(method: string, path: string, extra: Readonly<Record<string, string>> | undefined, bodyLength: number | undefined): string {
    if (this.#invalid !== undefined) throw new InvalidRequest(this.#invalid);
    if (method !== this.#goodMethod) {
      if (!TOKEN.test(method)) throw new InvalidRequest(`Method must be a valid HTTP token ["${method}"]`);
      this.#goodMethod = method;
    }
    let head = `${method} ${this.#target(path)} HTTP/1.1\r\n`;
    if (extra === undefined) head += this.#fixed;
    else {
      let own = '';
      let overrides = false;
      for (const name in extra) {
        const value = extra[name] as string;
        if (!this.#goodNames.has(name)) {
          check(name, value);
          if (this.#goodNames.size < MAX_REMEMBERED) this.#goodNames.add(name);
        } else checkValue(name, value);
        own += `${name}: ${value}\r\n`;
        if (!overrides && this.#names.has(name)) overrides = true;
      }
      // Per-request headers win over static ones of the same name.
      if (!overrides) head += this.#fixed;
      else for (const [n, v] of this.#pairs) if (!Object.hasOwn(extra, n)) head += `${n}: ${v}\r\n`;
      head += own;
    }
    if (bodyLength !== undefined) head += `content-length: ${decimal(bodyLength)}\r\n`;
    else if (BODY_METHODS.has(method)) head += 'content-length: 0\r\n';
    return `${head}connection: keep-alive\r\n\r\n`;
  }
}

/** Bodies up to this size go out in one buffer with the head; a bigger upload is written as is, not copied. */
const MERGE_MAX = 64 * 1024;

/**
 * Head and body as one buffer, so the request is one plain write: a corked head plus body goes through the
 * stream's writev path (an array of chunks, a string chunk encoded in C++) on every request (issue 16).
 */
export function merged(head: string, body: readonly Buffer[]): Buffer | null {
  let size = 0;
  for (const b of body) size += b.length;
  if (size > MERGE_MAX) return null;
  const out = Buffer.allocUnsafe(head.length + size);
  let at = out.write(head, 0, 'latin1');
  for (const b of body) at += b.copy(out, at);
  return out;
}
