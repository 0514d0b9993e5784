// Per-client limits (issue 12): rpm and tpm per fixed UTC minute, spend per UTC day and month (windows.ts),
// requests in flight. Windowed counts go through WindowCounters, the seam a shared backend implements; requests
// in flight and the estimates they hold are per process. Admission is decided on estimates (prompt plus
// max_tokens, and an optional cost estimate) plus what requests in flight have reserved; the counters then
// record what the upstream reported, at release. A request admitted below a budget may finish above it: a
// budget can be overshot by the requests in flight when it is crossed, never by a request admitted after.
import type { Clock } from '../lib/clock.ts';
import type { WindowCounters } from '../lib/window-counters.ts';
import type { MeshError } from '../errors.ts';
import { limitError } from './limit-errors.ts';
import type { LimitReason } from './limit-errors.ts';
import type { Client } from './registry.ts';
import { dayWindow, formatReset, minuteWindow, monthWindow } from './windows.ts';
import type { Window } from './windows.ts';
import { emptyTotals, readSnapshot } from './usage-snapshot.ts';
import type { ClientTotals, UsageSnapshot } from './usage-snapshot.ts';

export type { LimitReason } from './limit-errors.ts';

export interface AdmitRequest {
  /** Prompt tokens plus max_tokens (or the model's output limit): what the request may use at most. */
  estimatedTokens: number;
  /** USD the request is expected to cost, when the caller can tell; 0 when not given. */
  estimatedCost?: number;
}

/** What the upstream reported; all zero (or no argument) for a request that consumed nothing. */
export interface ActualUsage {
  tokensIn: number;
  tokensOut: number;
  cost: number;
}

export interface Admitted {
  ok: true;
  /** x-ratelimit-* as of this admission (this request counted); {} for a client without rpm/tpm. */
  headers: Record<string, string>;
  /** Call exactly once when the request is over (finished, failed or cancelled); later calls do nothing. */
  release(actual?: ActualUsage): void;
}

export interface Rejected {
  ok: false;
  reason: LimitReason;
  /** Seconds until the limit frees up (the `retry-after` sent); 0 when waiting cannot help (a request over tpm). */
  retryAfterSeconds: number;
  /** retry-after and x-ratelimit-* (already on `error.headers`). */
  headers: Record<string, string>;
  /** The 429 to answer with. */
  error: MeshError;
}

export type Admission = Admitted | Rejected;

export interface ClientUsage {
  requests_minute: number;
  tokens_minute: number;
  concurrent: number;
  spend_daily: number;
  spend_monthly: number;
  requests_total: number;
  tokens_in: number;
  tokens_out: number;
  cost_total: number;
  rejections: { rpm: number; tpm: number; concurrency: number; budget: number };
}

interface State {
  /** `client:<name>:` — counter keys are `<prefix><counter>:<window start>`. */
  prefix: string;
  concurrent: number;
  reservedTokens: number;
  reservedCost: number;
  totals: ClientTotals;
}

export class ClientLimiter {
  readonly #counters: WindowCounters;
  readonly #clock: Clock;
  readonly #states = new Map<string, State>();

  constructor(counters: WindowCounters, clock: Clock) {
    this.#counters = counters;
    this.#clock = clock;
  }

  /** Admits a request of `client` or says which limit refuses it. Call after the key and the allow-list. */
  admit(client: Client, request: AdmitRequest): Admission {
    const now = this.#clock.now();
    const s = this.#state(client.name);
    const estTokens = Math.max(0, request.estimatedTokens);
    const estCost = Math.max(0, request.estimatedCost ?? 0);
    const minute = minuteWindow(now);
    const refusal = this.#check(client, s, now, minute, estTokens, estCost);
    if (refusal !== undefined) return refusal;

    this.#counters.add(`${s.prefix}rpm:${minute.start}`, 1, minute.end);
    s.concurrent++;
    s.reservedTokens += estTokens;
    s.reservedCost += estCost;
    s.totals.requests_total++;
    let released = false;
    const release = (actual?: ActualUsage): void => {
      if (released) return;
      released = true;
      this.#release(s, estTokens, estCost, actual);
    };
    return { ok: true, headers: this.headersFor(client), release };
  }

  /** The x-ratelimit-* headers for any answer to `client` (OpenAI's names); {} without rpm and tpm. */
  headersFor(client: Client): Record<string, string> {
    if (!client.rateLimited) return {};
    const now = this.#clock.now();
    const minute = minuteWindow(now);
    const s = this.#state(client.name);
    const { rpm, tpm } = client.config;
    const reset = formatReset(minute.end - now);
    const headers: Record<string, string> = {};
    if (rpm !== null) headers['x-ratelimit-limit-requests'] = String(rpm);
    if (tpm !== null) headers['x-ratelimit-limit-tokens'] = String(tpm);
    if (rpm !== null) {
      headers['x-ratelimit-remaining-requests'] = String(Math.max(0, rpm - this.#counters.get(`${s.prefix}rpm:${minute.start}`)));
    }
    if (tpm !== null) {
      const used = this.#counters.get(`${s.prefix}tpm:${minute.start}`) + s.reservedTokens;
      headers['x-ratelimit-remaining-tokens'] = String(Math.max(0, Math.floor(tpm - used)));
    }
    if (rpm !== null) headers['x-ratelimit-reset-requests'] = reset;
    if (tpm !== null) headers['x-ratelimit-reset-tokens'] = reset;
    return headers;
  }

  /** Current windows and totals of a client, for the admin API (a client never seen reads as zeros). */
  usage(client: Client | string): ClientUsage {
    const name = typeof client === 'string' ? client : client.name;
    const now = this.#clock.now();
    const s = this.#states.get(name);
    const prefix = s?.prefix ?? `client:${name}:`;
    const minute = minuteWindow(now).start;
    const t = s?.totals ?? emptyTotals();
    return {
      requests_minute: this.#counters.get(`${prefix}rpm:${minute}`),
      tokens_minute: this.#counters.get(`${prefix}tpm:${minute}`),
      concurrent: s?.concurrent ?? 0,
      spend_daily: this.#counters.get(`${prefix}spend_d:${dayWindow(now).start}`),
      spend_monthly: this.#counters.get(`${prefix}spend_m:${monthWindow(now).start}`),
      requests_total: t.requests_total,
      tokens_in: t.tokens_in,
      tokens_out: t.tokens_out,
      cost_total: t.cost_total,
      rejections: { ...t.rejections },
    };
  }

  /** What must survive a restart: totals and the current day's and month's spend (plain data, JSON-safe). */
  snapshot(): UsageSnapshot {
    const now = this.#clock.now();
    const day = dayWindow(now).start;
    const month = monthWindow(now).start;
    const clients: UsageSnapshot['clients'] = {};
    for (const [name, s] of this.#states) {
      clients[name] = {
        ...s.totals,
        rejections: { ...s.totals.rejections },
        spend: {
          day_start: day,
          daily: this.#counters.get(`${s.prefix}spend_d:${day}`),
          month_start: month,
          monthly: this.#counters.get(`${s.prefix}spend_m:${month}`),
        },
      };
    }
    return { version: 1, taken_at: now, clients };
  }

  /**
   * Adds a snapshot's totals, and its spend where its day / month is still the current one (a snapshot of
   * yesterday frees today's budget). Call once, at start, before traffic. Malformed entries are skipped.
   */
  restore(snapshot: unknown): void {
    const now = this.#clock.now();
    const day = dayWindow(now);
    const month = monthWindow(now);
    for (const [name, saved] of readSnapshot(snapshot)) {
      const s = this.#state(name);
      const t = s.totals;
      t.requests_total += saved.requests_total;
      t.tokens_in += saved.tokens_in;
      t.tokens_out += saved.tokens_out;
      t.cost_total += saved.cost_total;
      for (const key of ['rpm', 'tpm', 'concurrency', 'budget'] as const) t.rejections[key] += saved.rejections[key];
      if (saved.spend.day_start === day.start && saved.spend.daily > 0) {
        this.#counters.add(`${s.prefix}spend_d:${day.start}`, saved.spend.daily, day.end);
      }
      if (saved.spend.month_start === month.start && saved.spend.monthly > 0) {
        this.#counters.add(`${s.prefix}spend_m:${month.start}`, saved.spend.monthly, month.end);
      }
    }
  }

  #state(name: string): State {
    let s = this.#states.get(name);
    if (s === undefined) {
      s = { prefix: `client:${name}:`, concurrent: 0, reservedTokens: 0, reservedCost: 0, totals: emptyTotals() };
      this.#states.set(name, s);
    }
    return s;
  }

  /** The first limit the request breaks, most lasting first: a spent budget outlasts any minute. */
  #check(client: Client, s: State, now: number, minute: Window, estTokens: number, estCost: number): Rejected | undefined {
    const { rpm, tpm, max_concurrent, budget } = client.config;
    const refuse = (reason: LimitReason, limit: number, used: number, requested: number, resetAt: number): Rejected => {
      this.#countRejection(s, reason);
      const retryAfterMs = reason === 'concurrency' ? 1000 : resetAt - now;
      const error = limitError({ client: client.name, reason, limit, used, requested, resetAt, retryAfterMs, headers: this.headersFor(client) });
      const retryAfter = error.headers['retry-after'];
      return { ok: false, reason, retryAfterSeconds: retryAfter === undefined ? 0 : Number(retryAfter), headers: error.headers, error };
    };
    for (const [reason, limit, window, counter] of [
      ['budget_monthly', budget.monthly, monthWindow(now), 'spend_m'],
      ['budget_daily', budget.daily, dayWindow(now), 'spend_d'],
    ] as const) {
      if (limit === null) continue;
      const spent = this.#counters.get(`${s.prefix}${counter}:${window.start}`);
      if (spent >= limit || spent + s.reservedCost + estCost > limit) return refuse(reason, limit, spent, estCost, window.end);
    }
    if (rpm !== null) {
      const used = this.#counters.get(`${s.prefix}rpm:${minute.start}`);
      if (used + 1 > rpm) return refuse('rpm', rpm, used, 1, minute.end);
    }
    if (tpm !== null) {
      const used = this.#counters.get(`${s.prefix}tpm:${minute.start}`) + s.reservedTokens;
      if (used + estTokens > tpm) return refuse('tpm', tpm, Math.ceil(used), estTokens, minute.end);
    }
    if (max_concurrent !== null && s.concurrent >= max_concurrent) {
      return refuse('concurrency', max_concurrent, s.concurrent, 1, now + 1000);
    }
    return undefined;
  }

  #countRejection(s: State, reason: LimitReason): void {
    const key = reason === 'budget_daily' || reason === 'budget_monthly' ? 'budget' : reason;
    s.totals.rejections[key]++;
  }

  #release(s: State, estTokens: number, estCost: number, actual: ActualUsage | undefined): void {
    s.concurrent = Math.max(0, s.concurrent - 1);
    // Float sums of costs drift; with nothing in flight nothing is reserved.
    s.reservedTokens = s.concurrent === 0 ? 0 : Math.max(0, s.reservedTokens - estTokens);
    s.reservedCost = s.concurrent === 0 ? 0 : Math.max(0, s.reservedCost - estCost);
    if (actual === undefined) return;
    const tokensIn = finite(actual.tokensIn);
    const tokensOut = finite(actual.tokensOut);
    const cost = finite(actual.cost);
    const now = this.#clock.now();
    if (tokensIn + tokensOut > 0) {
      const minute = minuteWindow(now);
      this.#counters.add(`${s.prefix}tpm:${minute.start}`, tokensIn + tokensOut, minute.end);
    }
    if (cost > 0) {
      const day = dayWindow(now);
      const month = monthWindow(now);
      this.#counters.add(`${s.prefix}spend_d:${day.start}`, cost, day.end);
      this.#counters.add(`${s.prefix}spend_m:${month.start}`, cost, month.end);
    }
    s.totals.tokens_in += tokensIn;
    s.totals.tokens_out += tokensOut;
    s.totals.cost_total += cost;
  }
}

function finite(n: number): number {
  return Number.isFinite(n) && n > 0 ? n : 0;
}
