// MeshError → Anthropic's error answer (https://docs.anthropic.com/en/api/errors):
// `{"type":"error","error":{"type","message"},"request_id"}` with Anthropic's types and statuses, so the
// Anthropic SDKs raise their own classes (chosen by status: 400 BadRequest … 429 RateLimit, ≥500 InternalServer).
import { toMeshError, type MeshError } from '../../errors.ts';
import type { StreamErrorType } from './stream.ts';

export type AnthropicErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'request_too_large'
  | 'rate_limit_error'
  | 'timeout_error'
  | 'api_error'
  | 'overloaded_error';

export interface AnthropicErrorBody {
  type: 'error';
  error: { type: AnthropicErrorType; message: string };
  request_id?: string;
}

export interface AnthropicErrorAnswer {
  status: number;
  body: AnthropicErrorBody;
  /** The MeshError's headers (Retry-After, x-should-retry, Allow): the caller sends them unchanged. */
  headers: Record<string, string>;
}

/**
 * Codes whose Anthropic meaning differs from what their status alone says. `no_available_models` (every pool
 * member cooling down or out of quota) and `server_draining` are capacity, which Anthropic reports as 529
 * `overloaded_error`: both SDKs retry it like any ≥500, and Claude Code shows it as "Overloaded" (and may switch
 * to its fallback model) instead of a generic server error.
 */
const BY_CODE: Readonly<Record<string, { status?: number; type: AnthropicErrorType }>> = {
  no_available_models: { status: 529, type: 'overloaded_error' },
  server_draining: { status: 529, type: 'overloaded_error' },
  body_too_large: { type: 'request_too_large' },
  timeout: { type: 'timeout_error' },
};

/** Anthropic's type for a status; "we may also use this error type for other 4XX status codes" (errors doc). */
export function typeForStatus(status: number): AnthropicErrorType {
  switch (status) {
    case 401: return 'authentication_error';
    case 403: return 'permission_error';
    case 404: return 'not_found_error';
    case 413: return 'request_too_large';
    case 429: return 'rate_limit_error';
    case 504: return 'timeout_error';
    case 529: return 'overloaded_error';
    default: return status < 500 ? 'invalid_request_error' : 'api_error';
  }
}

/**
 * The Anthropic answer for any thrown value (unknown errors become a 500 without details, as toMeshError does).
 * Statuses are kept (a 502 stays 502: the SDKs retry every ≥500 alike) except where the table above says.
 */
export function toAnthropicError(thrown: unknown, requestId?: string): AnthropicErrorAnswer {
  const err: MeshError = toMeshError(thrown);
  const status = err.status >= 400 && err.status <= 599 ? err.status : 500;
  const mapped = BY_CODE[err.code];
  const finalStatus = mapped?.status ?? status;
  const body: AnthropicErrorBody = { type: 'error', error: { type: mapped?.type ?? typeForStatus(finalStatus), message: err.message } };
  if (requestId !== undefined) body.request_id = requestId;
  return { status: finalStatus, body, headers: { ...err.headers } };
}

/** A failure after the stream started, as ChatToMessagesStream.fail() arguments: capacity → overloaded_error. */
export function streamFailure(thrown: unknown): { message: string; type: StreamErrorType } {
  const { body } = toAnthropicError(thrown);
  return { message: body.error.message, type: body.error.type === 'overloaded_error' ? 'overloaded_error' : 'api_error' };
}

