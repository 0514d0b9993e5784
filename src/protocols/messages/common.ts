// Small helpers shared by the Anthropic Messages translation (https://docs.anthropic.com/en/api/messages).
import { randomBytes } from 'node:crypto';
import { MeshError } from '../../errors.ts';

export type Json = Record<string, unknown>;

export { isRecord } from '../../lib/is-record.ts';

/**
 * A 400 worded as Anthropic words its own validation failures (`<path>: <problem>`, e.g.
 * `max_tokens: Field required`). It is a MeshError, so an endpoint that forgets to translate it still answers
 * 400 `invalid_request_error` (the same `type` string in both protocols); errors.ts turns it into Anthropic's body.
 */
export function invalid(path: string, problem: string): MeshError {
  return new MeshError('invalid_request', `${path}: ${problem}`, { param: path });
}

/** An id in Anthropic's style (`msg_…`, `toolu_…`): prefix plus 24 base62-ish characters. */
export function newId(prefix: string): string {
  return `${prefix}${randomBytes(18).toString('base64url').replace(/[-_]/g, 'x')}`;
}

/**
 * Approximate length of `value` as JSON, without serialising it (tool schemas can be tens of kB and this runs
 * on every request): strings and keys by length, plus two characters per key or item for punctuation.
 */
export function jsonChars(value: unknown, depth = 0): number {
  if (typeof value === 'string') return value.length + 2;
  if (typeof value === 'number' || typeof value === 'boolean') return 5;
  if (value === null || typeof value !== 'object' || depth > 64) return 4;
  let n = 2;
  if (Array.isArray(value)) {
    for (const item of value) n += jsonChars(item, depth + 1) + 1;
    return n;
  }
  for (const key in value) n += key.length + 4 + jsonChars((value as Json)[key], depth + 1);
  return n;
}
