// A 2xx JSON answer that is an error envelope: OpenRouter and other gateways answer 200 with `{"error":{…}}`
// when the model behind them failed, an Anthropic gateway with `{"type":"error","error":{…}}`. Either is a failed
// attempt, to be refused before the answer is committed so that the router counts it against the model and
// fails over. Relayed, a chat client would get a "success" without choices, and the Messages and Responses
// translations could only turn it into a 502 after the commit (no failover, the model counted as a success).
//
// Hot path (every buffered chat answer), so the check is graded like json-answer.ts: an answer whose top-level
// `usage` the JSON check already parsed is an answer (no envelope carries usage), ~5 ns; a usage-less one is
// searched for the token `"error"` (~0.3 µs for 0.5 kB) and parsed only when it has one. Spacing and key order
// do not matter. Envelopes are small: a body above FULL_PARSE_MAX (not parsed by the check) is never one.
import { FULL_PARSE_MAX, parsedUsageOf } from './json-answer.ts';
import { upstreamError } from './http/upstream-failure.ts';
import type { MeshError } from '../errors.ts';
import { isRecord } from '../lib/is-record.ts';

type Json = Record<string, unknown>;

const ERROR_TOKEN = Buffer.from('"error"');

/**
 * The parsed body when a (checked, complete JSON object) 2xx answer may be an error envelope: its top level
 * has an `error` object, or `type: "error"`. Null for every ordinary answer.
 */
export function errorEnvelope(body: Buffer): Json | null {
  if (body.length > FULL_PARSE_MAX || parsedUsageOf(body) !== undefined || !body.includes(ERROR_TOKEN)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return null;
  }
  if (!isRecord(parsed)) return null;
  return isRecord(parsed['error']) || parsed['type'] === 'error' ? parsed : null;
}

/**
 * The failure for a 2xx chat answer that is `{"error":{message, code}}` (the same test as the Messages and
 * Responses translations apply to it), or null. A numeric `code` 400–599 is the attempt's status (a 400 stays
 * the request's fault, a 502 counts against the model); without one the status is 0, like a broken answer.
 */
export function chatErrorAnswer(providerId: string, status: number, body: Buffer): MeshError | null {
  const envelope = errorEnvelope(body);
  const error = envelope?.['error'];
  if (!isRecord(error)) return null;
  const code = typeof error['code'] === 'number' && error['code'] >= 400 && error['code'] <= 599 ? error['code'] : 0;
  const message = typeof error['message'] === 'string' && error['message'] !== '' ? error['message'].slice(0, 200) : 'no message';
  return upstreamError(providerId, `${status} error answer: ${code === 0 ? '' : `${code} `}${message}`, code);
}
