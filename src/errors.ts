// The error class of ModelMesh's HTTP answers, and the one catalogue of their codes (config problems are
// ConfigError, src/config/errors.ts: they never reach a client).
// Wire shape: https://platform.openai.com/docs/guides/error-codes — every error body is
// {"error":{"message","type","param","code"}} with all four keys present (null when absent).

/** code -> HTTP status and OpenAI `type`. The code itself is sent as `error.code`. */
export const CATALOGUE = {
  invalid_json: { status: 400, type: 'invalid_request_error' },
  invalid_request: { status: 400, type: 'invalid_request_error' },
  missing_param: { status: 400, type: 'invalid_request_error' },
  invalid_param: { status: 400, type: 'invalid_request_error' },
  invalid_multipart: { status: 400, type: 'invalid_request_error' },
  unsupported_media_type: { status: 415, type: 'invalid_request_error' },
  body_too_large: { status: 413, type: 'invalid_request_error' },
  invalid_api_key: { status: 401, type: 'invalid_request_error' },
  not_found: { status: 404, type: 'invalid_request_error' },
  method_not_allowed: { status: 405, type: 'invalid_request_error' },
  model_not_found: { status: 404, type: 'invalid_request_error' },
  // OpenAI's code for an unknown previous_response_id on POST /v1/responses (a 400, param previous_response_id).
  previous_response_not_found: { status: 400, type: 'invalid_request_error' },
  no_eligible_models: { status: 400, type: 'invalid_request_error' },
  no_available_models: { status: 503, type: 'server_error' },
  upstream_error: { status: 502, type: 'server_error' },
  rate_limit_exceeded: { status: 429, type: 'rate_limit_error' },
  insufficient_quota: { status: 429, type: 'insufficient_quota' },
  timeout: { status: 504, type: 'server_error' },
  cancelled: { status: 499, type: 'server_error' },
  server_draining: { status: 503, type: 'server_error' },
  internal_error: { status: 500, type: 'server_error' },
} as const satisfies Record<string, { status: number; type: string }>;

export type ErrorCode = keyof typeof CATALOGUE;

/** What an upstream attempt failure carries so the router can classify it (DESIGN §4.4). */
export interface UpstreamFailure {
  /** HTTP status from the upstream; 0 for a transport failure (refused, reset, timeout). */
  status: number;
  /** Short reason for the aggregated message: `503 overloaded`, `connection refused`, `first byte timeout`. */
  reason: string;
  /** Delay the upstream asked for (Retry-After / retry-after-ms), in ms. */
  retryAfterMs?: number;
  /** True when the failure is a timeout (counts as retryable). */
  timeout?: boolean;
  /** Response headers of a non-2xx answer (x-ratelimit-* on a 429 feed the rate-limit strategies). */
  headers?: Readonly<Record<string, string | string[] | undefined>>;
}

export interface MeshErrorOptions {
  status?: number;
  type?: string;
  param?: string | null;
  /** Extra response headers (Retry-After, Allow, x-should-retry). */
  headers?: Record<string, string>;
  cause?: unknown;
  upstream?: UpstreamFailure;
}

export class MeshError extends Error {
  override readonly name = 'MeshError';
  readonly code: ErrorCode;
  readonly status: number;
  readonly type: string;
  readonly param: string | null;
  readonly headers: Record<string, string>;
  readonly upstream: UpstreamFailure | undefined;

  constructor(code: ErrorCode, message: string, options: MeshErrorOptions = {}) {
    // Expected errors (upstream failures, bad requests) carry no stack: it is never shown, and capturing one
    // costs microseconds on failover paths. Only internal errors keep it, to find the bug.
    const limit = Error.stackTraceLimit;
    if (code !== 'internal_error') Error.stackTraceLimit = 0;
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    Error.stackTraceLimit = limit;
    const entry = CATALOGUE[code];
    this.code = code;
    this.status = options.status ?? entry.status;
    this.type = options.type ?? entry.type;
    this.param = options.param ?? null;
    this.headers = options.headers ?? {};
    this.upstream = options.upstream;
  }

  toJSON(): { error: { message: string; type: string; param: string | null; code: string | null } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** Any thrown value as a MeshError; unknown errors become a 500 without their details. */
export function toMeshError(err: unknown): MeshError {
  if (err instanceof MeshError) return err;
  return new MeshError('internal_error', 'The proxy had an internal error processing your request.', { cause: err });
}

/** HTTP status for an error (fastify's rule: only 4xx/5xx are statuses we send). */
export function toHttpStatus(err: MeshError): number {
  return err.status >= 400 && err.status <= 599 ? err.status : 500;
}
