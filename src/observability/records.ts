// The records of the three streams of DESIGN §7. Builders run in the event listener, so they only copy
// references into a small object (O(1)); serialisation and redaction happen later, off the request path.
//
// Every record carries `kind` (routing | request | statistics; routing records also a `type`), so the three
// streams can share one console or one file and still be told apart with `jq 'select(.kind == "request")'`.
import type { LogLevel } from '../config/types.ts';
import { failoversOf, type MeshEvent, type RequestEvent } from '../mesh/events.ts';
import type { Scope, StatsSnapshot, StatValues } from './stats.ts';

export type StreamName = 'routing' | 'logging' | 'statistics';
export type LogRecord = Record<string, unknown>;

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function ms(n: number): number {
  return Math.round(n * 10) / 10;
}

/**
 * The routing stream: one `decision` per request (pool, candidates, chosen model/provider, attempts with
 * their errors, rotation count, latency), plus every transition and rotation as it happens.
 */
export function routingRecord(e: MeshEvent): LogRecord {
  const ts = iso(e.at);
  switch (e.type) {
    case 'request':
      return {
        kind: 'routing', type: 'decision', ts, request_id: e.requestId, endpoint: e.endpoint, requested: e.requested,
        pool: e.pool, client: e.client ?? null, candidates: e.candidates, excluded: e.excluded, model: e.model, provider: e.provider,
        attempts: e.attempts, rotations: failoversOf(e.attempts), outcome: e.outcome, status: e.status, error: e.error,
        latency_ms: ms(e.latency_ms),
      };
    case 'rotation':
      return { kind: 'routing', type: 'rotation', ts, request_id: e.requestId, pool: e.pool, from: e.from, to: e.to, reason: e.reason };
    case 'model_standby':
      return {
        kind: 'routing', type: 'model_standby', ts, model: e.model, provider: e.provider, pool: e.pool, reason: e.reason,
        until: e.until === null ? null : iso(e.until),
      };
    case 'model_active':
      return { kind: 'routing', type: 'model_active', ts, model: e.model, provider: e.provider, reason: e.reason };
    case 'provider_standby':
      return { kind: 'routing', type: 'provider_standby', ts, provider: e.provider, reason: e.reason, until: e.until === null ? null : iso(e.until) };
    case 'provider_active':
      return { kind: 'routing', type: 'provider_active', ts, provider: e.provider, reason: e.reason };
    case 'quota_reset':
      return { kind: 'routing', type: 'quota_reset', ts, model: e.model, window: e.window };
  }
}

/**
 * True for routing records and for request records below `full`: every key in them is one of this module's
 * own names, none of them credential-named, so the deep copy that blanks credential-named keys (redactDeep)
 * can be skipped and only the serialised line is redacted, where every secret is matched in its
 * JSON-escaped spelling too (config/redact.ts). That copy was most of a log line's cost: ~6.7 µs of ~7 µs a
 * request record (issue 16). A `full` record carries the client's and the upstream's JSON: deep as before.
 */
export function hasOwnKeysOnly(record: LogRecord): boolean {
  return record['kind'] === 'routing' || (record['kind'] === 'request' && !('request_body' in record));
}

/** Number of times the request moved on to another model. */

/**
 * The request log at `level`:
 * - metadata: request id, time, endpoint, requested name, pool, model, provider, client (name), status, outcome, latency, ttfb, stream;
 * - summary: + tokens, cost, attempts (with reasons), candidates, excluded, error;
 * - full: + request_body and response_body (the router attaches them when EventBus.wantsBodies is set).
 */
export function requestRecord(e: RequestEvent, level: LogLevel): LogRecord {
  const record: LogRecord = {
    kind: 'request', ts: iso(e.at), request_id: e.requestId, endpoint: e.endpoint, requested: e.requested,
    pool: e.pool, model: e.model, provider: e.provider, client: e.client ?? null, status: e.status, outcome: e.outcome,
    latency_ms: ms(e.latency_ms), ttfb_ms: ms(e.ttfb_ms), stream: e.stream,
  };
  if (level === 'metadata') return record;
  record['tokens_in'] = e.tokens_in;
  record['tokens_out'] = e.tokens_out;
  record['cost'] = e.cost;
  record['attempts'] = e.attempts;
  record['candidates'] = e.candidates;
  record['excluded'] = e.excluded;
  record['error'] = e.error;
  if (level === 'summary') return record;
  record['request_body'] = e.request_body ?? null;
  record['response_body'] = e.response_body ?? null;
  return record;
}

/** The statistics stream: one record per model, provider and pool at each flush. */
export function statisticsRecords(snapshot: StatsSnapshot, uptimeMs: number): LogRecord[] {
  const ts = iso(snapshot.at);
  const out: LogRecord[] = [];
  const add = (scope: Scope, entries: Record<string, StatValues>): void => {
    for (const [id, values] of Object.entries(entries)) {
      out.push({ kind: 'statistics', ts, scope, id, uptime_ms: uptimeMs, ...values });
    }
  };
  add('model', snapshot.models);
  add('provider', snapshot.providers);
  add('pool', snapshot.pools);
  return out;
}
