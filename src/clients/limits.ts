// Per-client limits (issue 12): rpm and tpm per fixed UTC minute, spend per UTC day and month (windows.ts),
// requests in flight. Windowed counts go through WindowCounters, the seam a shared backend implements; requests
// in flight and the estimates they hold are per process. Admission is decided on estimates (prompt plus
// max_tokens, and an optional cost estimate) plus what requests in flight have reserved; the counters then
// record what the upstream reported, at release. A request admitted below a budget may finish above it: a
// budget can be overshot by the requests in flight when it is crossed, never by a request admitted after.
import type { Clock } from '../lib/clock.ts';
import { decimal } from '../lib/decimal.ts';
import type { WindowCounters } from '../lib/window-counters.ts';
import { limitError } from './limit-errors.ts';
import type { LimitReason } from './limit-errors.ts';
import type { ActualUsage, Admission, AdmitRequest, ClientUsage, Rejected } from './admission.ts';
import type { Client } from './registry.ts';
import { dayWindow, formatReset, minuteWindow, monthWindow } from './windows.ts';
import type { Window } from './windows.ts';
import { emptyTotals, readableSnapshot, readSnapshot } from './usage-snapshot.ts';
import type { ClientTotals, UsageSnapshot } from './usage-snapshot.ts';

export type { LimitReason } from './limit-errors.ts';

export type { ActualUsage, Admission, Admitted, AdmitRequest, ClientUsage, Rejected } from './admission.ts';

interface State {
  /** `client:<name>:` — counter keys are `<prefix><counter>:<window start>`. */
  prefix: string;
  // The counter keys of the current windows, rebuilt only when a window ends: the same string objects on
  // every request keep their cached hash, so the Map lookups behind WindowCounters stay cheap.
  minute: Window;
  rpmKey: string;
  tpmKey: string;
  day: Window;
  dailyKey: string;
  month: Window;
  monthlyKey: string;
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

  /**
   * Admits a request of `client` or says which limit refuses it. Call after the key and the allow-list.
   * `headersInto`: where the admission's x-ratelimit-* are written (the answer's own header object, so that no
   * copy is made per request); a new object by default. A refusal's headers are always its own.
   */
  admit(client: Client, request: AdmitRequest, headersInto?: Record<string, string>): Admission {
    const now = this.#clock.now();
    const s = this.#current(this.#state(client.name), now);
    const estTokens = finite(request.estimatedTokens);
    const estCost = finite(request.estimatedCost ?? 0);
    const refusal = this.#check(client, s, now, estTokens, estCost);
    if (refusal !== undefined) return refusal;

    this.#counters.add(s.rpmKey, 1, s.minute.end, now);
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
    return { ok: true, headers: this.headersFor(client, now, headersInto), release };
  }

  /**
   * The x-ratelimit-* headers for any answer to `client` (OpenAI's names), written into `headers` (a new object
   * by default) and returned; nothing is written for a client without rpm and tpm.
   */
  headersFor(client: Client, now = this.#clock.now(), headers: Record<string, string> = {}): Record<string, string> {
    if (!client.rateLimited) return headers;
    const s = this.#current(this.#state(client.name), now);
    const { rpm, tpm } = client.config;
    const reset = formatReset(s.minute.end - now);
    if (rpm !== null) headers['x-ratelimit-limit-requests'] = String(rpm);
    if (tpm !== null) headers['x-ratelimit-limit-tokens'] = String(tpm);
    if (rpm !== null) {
      headers['x-ratelimit-remaining-requests'] = decimal(Math.max(0, rpm - this.#counters.get(s.rpmKey, now)));
    }
    if (tpm !== null) {
      const used = this.#counters.get(s.tpmKey, now) + s.reservedTokens;
      headers['x-ratelimit-remaining-tokens'] = decimal(Math.max(0, Math.floor(tpm - used)));
    }
    if (rpm !== null) headers['x-ratelimit-reset-requests'] = reset;
    if (tpm !== null) headers['x-ratelimit-reset-tokens'] = reset;
    return headers;
  }

  /** Current windows and totals of a client, for the admin API (a client never seen reads as zeros). */
  usage(client: Client | string): ClientUsage {
    const name = typeof client === 'string' ? client : client.name;
    const known = this.#states.get(name);
    // A client never seen gets a throwaway state: reading must not grow the map.
    const s = this.#current(known ?? newState(name), this.#clock.now());
    const t = s.totals;
    return {
      requests_minute: this.#counters.get(s.rpmKey),
      tokens_minute: this.#counters.get(s.tpmKey),
      concurrent: s.concurrent,
      spend_daily: this.#counters.get(s.dailyKey),
      spend_monthly: this.#counters.get(s.monthlyKey),
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
    const clients: UsageSnapshot['clients'] = {};
    for (const [name, state] of this.#states) {
      const s = this.#current(state, now);
      clients[name] = {
        ...s.totals,
        rejections: { ...s.totals.rejections },
        spend: {
          day_start: s.day.start,
          daily: this.#counters.get(s.dailyKey),
          month_start: s.month.start,
          monthly: this.#counters.get(s.monthlyKey),
        },
      };
    }
    return { version: 1, taken_at: now, clients };
  }

  /**
   * Adds a snapshot's totals, and its spend where its day / month is still the current one (a snapshot of
   * yesterday frees today's budget). Call once, at start, before traffic. Malformed entries are skipped.
   */
  restore(snapshot: unknown): boolean {
    if (!readableSnapshot(snapshot)) return false;
    const now = this.#clock.now();
    for (const [name, saved] of readSnapshot(snapshot)) {
      const s = this.#current(this.#state(name), now);
      const t = s.totals;
      t.requests_total += saved.requests_total;
      t.tokens_in += saved.tokens_in;
      t.tokens_out += saved.tokens_out;
      t.cost_total += saved.cost_total;
      for (const key of ['rpm', 'tpm', 'concurrency', 'budget'] as const) t.rejections[key] += saved.rejections[key];
      if (saved.spend.day_start === s.day.start && saved.spend.daily > 0) {
        this.#counters.add(s.dailyKey, saved.spend.daily, s.day.end);
      }
      if (saved.spend.month_start === s.month.start && saved.spend.monthly > 0) {
        this.#counters.add(s.monthlyKey, saved.spend.monthly, s.month.end);
      }
    }
    return true;
  }

  #state(name: string): State {
    let s = this.#states.get(name);
    if (s === undefined) {
      s = newState(name);
      this.#states.set(name, s);
    }
    return s;
  }

  /** `s` with the keys of the windows holding `now`. */
  #current(s: State, now: number): State {
    if (now >= s.minute.start && now < s.minute.end) return s;
    s.minute = minuteWindow(now);
    s.rpmKey = `${s.prefix}rpm:${s.minute.start}`;
    s.tpmKey = `${s.prefix}tpm:${s.minute.start}`;
    if (now < s.day.start || now >= s.day.end) {
      s.day = dayWindow(now);
      s.dailyKey = `${s.prefix}spend_d:${s.day.start}`;
    }
    if (now < s.month.start || now >= s.month.end) {
      s.month = monthWindow(now);
      s.monthlyKey = `${s.prefix}spend_m:${s.month.start}`;
    }
    return s;
  }

  /** The first limit the request breaks, most lasting first: a spent budget outlasts any minute. */
  #check(client: Client, s: State, now: number, estTokens: number, estCost: number): Rejected | undefined {
    const { rpm, tpm, max_concurrent, budget } = client.config;
    const refuse = (reason: LimitReason, limit: number, used: number, requested: number, resetAt: number): Rejected => {
      this.#countRejection(s, reason);
      const retryAfterMs = reason === 'concurrency' ? 1000 : resetAt - now;
      const error = limitError({ client: client.name, reason, limit, used, requested, resetAt, retryAfterMs, headers: this.headersFor(client, now) });
      const retryAfter = error.headers['retry-after'];
      return { ok: false, reason, retryAfterSeconds: retryAfter === undefined ? 0 : Number(retryAfter), headers: error.headers, error };
    };
    const over = (limit: number, spent: number): boolean => spent >= limit || spent + s.reservedCost + estCost > limit;
    if (budget.monthly !== null) {
      const spent = this.#counters.get(s.monthlyKey, now);
      if (over(budget.monthly, spent)) return refuse('budget_monthly', budget.monthly, spent, estCost, s.month.end);
    }
    if (budget.daily !== null) {
      const spent = this.#counters.get(s.dailyKey, now);
      if (over(budget.daily, spent)) return refuse('budget_daily', budget.daily, spent, estCost, s.day.end);
    }
    if (rpm !== null) {
      const used = this.#counters.get(s.rpmKey, now);
      if (used + 1 > rpm) return refuse('rpm', rpm, used, 1, s.minute.end);
    }
    if (tpm !== null) {
      const used = this.#counters.get(s.tpmKey, now) + s.reservedTokens;
      if (used + estTokens > tpm) return refuse('tpm', tpm, Math.ceil(used), estTokens, s.minute.end);
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
    this.#current(s, now);
    if (tokensIn + tokensOut > 0) this.#counters.add(s.tpmKey, tokensIn + tokensOut, s.minute.end, now);
    if (cost > 0) {
      this.#counters.add(s.dailyKey, cost, s.day.end, now);
      this.#counters.add(s.monthlyKey, cost, s.month.end, now);
    }
    s.totals.tokens_in += tokensIn;
    s.totals.tokens_out += tokensOut;
    s.totals.cost_total += cost;
  }
}

const NO_WINDOW: Window = { start: 0, end: 0 };

function newState(name: string): State {
  return {
    prefix: `client:${name}:`,
    minute: NO_WINDOW, rpmKey: '', tpmKey: '', day: NO_WINDOW, dailyKey: '', month: NO_WINDOW, monthlyKey: '',
    concurrent: 0, reservedTokens: 0, reservedCost: 0, totals: emptyTotals(),
  };
}

function finite(n: number): number {
  return Number.isFinite(n) && n > 0 ? n : 0;
}
