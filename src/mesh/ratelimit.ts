// Rate-limit readings for the rate-limit-aware and load-balanced strategies (DESIGN §6).
// Upstreams report their limits in response headers (OpenAI, Groq, Together… use these names):
//   x-ratelimit-limit-requests: 60          x-ratelimit-limit-tokens: 150000
//   x-ratelimit-remaining-requests: 59      x-ratelimit-remaining-tokens: 149984
//   x-ratelimit-reset-requests: 1s          x-ratelimit-reset-tokens: 6m0s
// Reset values are Go-style durations (`12ms`, `1s`, `1m30s`, `6m0s`, `2h`, `17.28s`); a bare number is
// seconds and an HTTP/ISO date is taken as absolute. Durations become absolute times at reading.
// Without headers, `rate_limit.max_rpm` counts requests locally over the last minute.
import type { RateReading, StateStore } from './state.ts';
import type { AttemptOutcome } from './types.ts';

type Headers = Readonly<Record<string, string | string[] | undefined>>;

/** A reading without a reset time is trusted this long (limits are per minute at most providers). */
const READING_TTL_MS = 60_000;

const UNIT_MS: Readonly<Record<string, number>> = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1, us: 0.001, 'µs': 0.001, ns: 0.000_001 };
const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|us|µs|ns|h|m|s))+$/;
const PART = /(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)/g;

/** `1m30s` → 90000; a bare number is seconds; null when unreadable. */
export function parseResetDuration(value: string): number | null {
  const text = value.trim();
  if (text === '') return null;
  if (/^\d+(?:\.\d+)?$/.test(text)) return Number(text) * 1000;
  if (!DURATION.test(text)) return null;
  let ms = 0;
  for (const m of text.matchAll(PART)) ms += Number(m[1]) * (UNIT_MS[m[2] as string] ?? 0);
  return ms;
}

/** A reset header as an absolute epoch-ms time: a duration from `now`, or a date. */
export function parseReset(value: string, now: number): number | null {
  const ms = parseResetDuration(value);
  if (ms !== null) return now + ms;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : at;
}

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function count(headers: Headers, name: string): number | null {
  const text = header(headers, name);
  if (text === undefined) return null;
  const n = Number(text.trim());
  return text.trim() !== '' && Number.isFinite(n) && n >= 0 ? n : null;
}

/** The x-ratelimit-* headers of a response as a reading; null when it carries none. */
export function readRateLimit(headers: Headers, now: number): RateReading | null {
  const resetRequests = header(headers, 'x-ratelimit-reset-requests');
  const resetTokens = header(headers, 'x-ratelimit-reset-tokens');
  const reading: RateReading = {
    limit_requests: count(headers, 'x-ratelimit-limit-requests'),
    remaining_requests: count(headers, 'x-ratelimit-remaining-requests'),
    reset_requests_at: resetRequests === undefined ? null : parseReset(resetRequests, now),
    limit_tokens: count(headers, 'x-ratelimit-limit-tokens'),
    remaining_tokens: count(headers, 'x-ratelimit-remaining-tokens'),
    reset_tokens_at: resetTokens === undefined ? null : parseReset(resetTokens, now),
    observed_at: now,
  };
  return reading.remaining_requests === null && reading.remaining_tokens === null && reading.limit_requests === null && reading.limit_tokens === null
    ? null
    : reading;
}

/**
 * Record what an attempt says about the model's limits (the strategies' `observe`): headers of a
 * response, a 429 as "exhausted until the known reset, else for a minute", and one request for local
 * rpm counting when `max_rpm` is set.
 */
export function recordRate(state: StateStore, modelId: string, outcome: AttemptOutcome, maxRpm: number | null): void {
  if (maxRpm !== null) state.noteRequest(modelId);
  const now = state.clock.now();
  const reading = outcome.headers === null ? null : readRateLimit(outcome.headers, now);
  if (reading !== null) {
    state.recordRate(modelId, reading);
  } else if (outcome.status === 429) {
    const prev = state.model(modelId).rate;
    const reset = prev !== null && prev.reset_requests_at !== null && prev.reset_requests_at > now ? prev.reset_requests_at : now + READING_TTL_MS;
    state.recordRate(modelId, {
      limit_requests: prev?.limit_requests ?? null, remaining_requests: 0, reset_requests_at: reset,
      limit_tokens: prev?.limit_tokens ?? null, remaining_tokens: prev?.remaining_tokens ?? null, reset_tokens_at: prev?.reset_tokens_at ?? null,
      observed_at: now,
    });
  }
}

/** remaining/limit of one dimension (1 once its reset has passed); null when unknown. */
function fraction(limit: number | null, remaining: number | null, resetAt: number | null, now: number): number | null {
  if (remaining === null) return null;
  if (resetAt !== null && now >= resetAt) return 1;
  // Without a limit only "nothing left" is informative.
  if (limit === null || limit <= 0) return remaining > 0 ? null : 0;
  return Math.min(1, Math.max(0, remaining / limit));
}

/** A reading still worth trusting: a known reset ahead of us, or recent enough. */
function fresh(r: Readonly<RateReading>, now: number): boolean {
  return r.reset_requests_at !== null || r.reset_tokens_at !== null || now - r.observed_at < READING_TTL_MS;
}

/**
 * Relative headroom 0..1 (remaining / limit, the tighter of requests and tokens, and of the local rpm
 * count); null when nothing is known.
 */
export function relativeHeadroom(state: StateStore, modelId: string, maxRpm: number | null): number | null {
  const now = state.clock.now();
  let h: number | null = null;
  const r = state.model(modelId).rate;
  if (r !== null && fresh(r, now)) {
    const req = fraction(r.limit_requests, r.remaining_requests, r.reset_requests_at, now);
    const tok = fraction(r.limit_tokens, r.remaining_tokens, r.reset_tokens_at, now);
    if (req !== null) h = req;
    if (tok !== null) h = h === null ? tok : Math.min(h, tok);
  }
  if (maxRpm !== null) {
    const local = Math.max(0, 1 - state.requestsLastMinute(modelId) / maxRpm);
    h = h === null ? local : Math.min(h, local);
  }
  return h;
}

/** Absolute headroom: requests left (upstream reading and/or local max_rpm count); null when unknown. */
export function absoluteHeadroom(state: StateStore, modelId: string, maxRpm: number | null): number | null {
  const now = state.clock.now();
  let h: number | null = null;
  const r = state.model(modelId).rate;
  if (r !== null && fresh(r, now) && r.remaining_requests !== null) {
    h = r.reset_requests_at !== null && now >= r.reset_requests_at ? r.limit_requests : r.remaining_requests;
  }
  if (maxRpm !== null) {
    const local = Math.max(0, maxRpm - state.requestsLastMinute(modelId));
    h = h === null ? local : Math.min(h, local);
  }
  return h;
}
