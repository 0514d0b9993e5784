// CORS for `proxy.cors` (Fetch standard §3.2, https://fetch.spec.whatwg.org/#http-cors-protocol).
// Header sets are built once per config; a request only looks its origin up in a Map.
// - Allowed origin: every response carries Access-Control-Allow-Origin (the origin, or `*` when configured
//   `*`) and Access-Control-Expose-Headers, so browser code can read x-request-id and x-modelmesh-*.
// - Origin not listed: no CORS headers at all (the browser blocks the response); its preflight gets a 403
//   in OpenAI shape, which shows up readably in the browser's network panel.
// - Specific origin list: `Vary: Origin` on every response, since the answer depends on the Origin header.
import { MeshError } from '../errors.ts';

/** Request headers the OpenAI SDKs send (openai-wire §8), offered when a preflight names none. */
export const DEFAULT_ALLOW_HEADERS = [
  'authorization', 'content-type', 'accept', 'x-request-id', 'x-session-id', 'openai-organization', 'openai-project',
  'openai-beta', 'x-stainless-lang', 'x-stainless-package-version', 'x-stainless-os', 'x-stainless-arch',
  'x-stainless-runtime', 'x-stainless-runtime-version', 'x-stainless-retry-count', 'x-stainless-timeout',
  'x-stainless-helper-method', 'x-stainless-async', 'x-stainless-read-timeout',
].join(', ');

/** Response headers browser code may read (the SDK reads x-request-id and the retry hints). */
export const EXPOSE_HEADERS = [
  'x-request-id', 'x-modelmesh-pool', 'x-modelmesh-model', 'x-modelmesh-provider', 'x-modelmesh-attempts',
  'retry-after', 'retry-after-ms', 'x-should-retry',
].join(', ');

/** A requested-headers list we can echo safely: header names (RFC 9110 tokens), commas and spaces. */
const HEADER_LIST = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+(?:[ \t]*,[ \t]*[!#$%&'*+.^_`|~0-9A-Za-z-]+)*[ \t]*$/;
const MAX_ECHO = 2048;

export interface CorsConfig {
  enabled: boolean;
  origins: readonly string[];
  /** Seconds. */
  max_age: number;
}

export interface Preflight {
  status: number;
  headers: Record<string, string>;
}

export class Cors {
  readonly #wildcard: boolean;
  readonly #maxAge: string;
  /** Headers for actual (non-preflight) responses, per allowed origin; `*` when wildcard. */
  readonly #byOrigin = new Map<string, Readonly<Record<string, string>>>();
  readonly #wildcardHeaders: Readonly<Record<string, string>>;
  /** Headers for responses to requests without an Origin or with a refused one. */
  readonly #otherHeaders: Readonly<Record<string, string>> | null;

  constructor(config: CorsConfig) {
    this.#wildcard = config.origins.includes('*');
    this.#maxAge = String(config.max_age);
    this.#wildcardHeaders = Object.freeze({ 'access-control-allow-origin': '*', 'access-control-expose-headers': EXPOSE_HEADERS });
    for (const origin of config.origins) {
      if (origin === '*') continue;
      // Origins compare as serialised by the browser: scheme://host[:port], no trailing slash.
      const key = origin.replace(/\/+$/, '').toLowerCase();
      this.#byOrigin.set(key, Object.freeze({
        'access-control-allow-origin': key, 'access-control-expose-headers': EXPOSE_HEADERS, vary: 'Origin',
      }));
    }
    this.#otherHeaders = this.#wildcard ? null : Object.freeze({ vary: 'Origin' });
  }

  /** Headers for a normal response to a request with this Origin (null: add none). */
  headers(origin: string | undefined): Readonly<Record<string, string>> | null {
    if (origin === undefined) return this.#otherHeaders;
    if (this.#wildcard) return this.#wildcardHeaders;
    return this.#byOrigin.get(origin.toLowerCase()) ?? this.#otherHeaders;
  }

  /** True when the origin may read responses. */
  allows(origin: string): boolean {
    return this.#wildcard || this.#byOrigin.has(origin.toLowerCase());
  }

  /**
   * The answer to a preflight (`OPTIONS` with Origin and Access-Control-Request-Method) for a known path.
   * @param allowed the methods of the matched path (the route table's Allow list)
   * @throws MeshError 403 when the origin is not allowed
   */
  preflight(origin: string, allowed: readonly string[], requestHeaders: string | undefined): Preflight {
    if (!this.allows(origin)) {
      throw new MeshError('invalid_request', 'This origin is not allowed to call the proxy (proxy.cors.origins).', {
        status: 403,
        headers: this.#wildcard ? {} : { vary: 'Origin' },
      });
    }
    // Echo what the browser asked for (it lists exactly the headers the page sets); `*` would not cover
    // Authorization (Fetch §3.2.5), so the echo is what makes bearer auth work cross-origin.
    const echo = requestHeaders !== undefined && requestHeaders.length <= MAX_ECHO && HEADER_LIST.test(requestHeaders);
    return {
      status: 204,
      headers: {
        'access-control-allow-origin': this.#wildcard ? '*' : origin.toLowerCase(),
        'access-control-allow-methods': allowed.join(', '),
        'access-control-allow-headers': echo ? requestHeaders : DEFAULT_ALLOW_HEADERS,
        'access-control-max-age': this.#maxAge,
        vary: 'Origin, Access-Control-Request-Headers',
        'content-length': '0',
      },
    };
  }
}

/** The CORS policy for `proxy.cors`, or null when CORS is off (then no CORS header is ever sent). */
export function createCors(config: CorsConfig): Cors | null {
  return config.enabled ? new Cors(config) : null;
}
