// Request validation shared by the endpoint adapters: 400s that name the offending `param`
// (openai-wire §1: type invalid_request_error, param set, code null or specific).
import { MeshError } from '../../errors.ts';
import { MAX_OUTPUT_TOKENS } from '../../protocols/needs.ts';
import type { RequestContext } from '../context.ts';

export function requireString(body: Record<string, unknown>, param: string): string {
  const value = body[param];
  if (value === undefined || value === null) throw new MeshError('missing_param', `Missing required parameter: '${param}'.`, { param });
  if (typeof value !== 'string' || value.length === 0) {
    throw new MeshError('invalid_param', `Invalid type for '${param}': expected a non-empty string.`, { param });
  }
  return value;
}

export function optionalNumber(body: Record<string, unknown>, param: string, min: number, max: number): number | undefined {
  const value = body[param];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new MeshError('invalid_param', `Invalid value for '${param}': expected a number from ${min} to ${max}.`, { param });
  }
  return value;
}

/** `max_tokens` and kin: absent (undefined or null), or a whole number from 1 to MAX_OUTPUT_TOKENS. */
export function optionalTokenCount(body: Record<string, unknown>, param: string): number | undefined {
  const value = body[param];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_OUTPUT_TOKENS) return value;
  throw new MeshError('invalid_param', `Invalid value for '${param}': expected an integer from 1 to ${MAX_OUTPUT_TOKENS}.`, { param });
}

export function optionalEnum<T extends string>(body: Record<string, unknown>, param: string, values: readonly T[]): T | undefined {
  const value = body[param];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || !(values as readonly string[]).includes(value)) {
    throw new MeshError('invalid_param', `Invalid value for '${param}': expected one of ${values.join(', ')}.`, { param });
  }
  return value as T;
}

export { isRecord } from '../../lib/is-record.ts';

/** Session key for session-stickiness: the `x-session-id` header, else the body's `user`. */
export function sessionOf(ctx: RequestContext, body: Record<string, unknown>): string | null {
  const header = ctx.req.headers['x-session-id'];
  if (typeof header === 'string' && header.length > 0) return header;
  const user = body['user'];
  return typeof user === 'string' && user.length > 0 ? user : null;
}
