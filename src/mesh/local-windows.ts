// The quota and spend windows of LocalStateStore as WindowCounters see them (issue 13): the local counters by
// default (then they equal the records' own counters); shared ones make them the total of every instance.
// Kept apart from the records and holds in local-state.ts: this is the part a shared backend changes.
import type { WindowCounters } from '../lib/window-counters.ts';
import type { ModelState, ProviderState, SpendTotals, Usage, WindowTotals } from './state.ts';

/** Counter keys of the shared windows: named by what they count and when their window ends. */
const keys = {
  requests: (id: string, end: number) => `model:${id}:requests:${end}`,
  tokens: (id: string, end: number) => `model:${id}:tokens:${end}`,
  cost: (id: string, end: number) => `model:${id}:cost:${end}`,
  daily: (id: string, day: string) => `provider:${id}:spend:${day}`,
  monthly: (id: string, month: string) => `provider:${id}:spend:${month}`,
};

/**
 * A model's current quota window: its end, the counter values an operator reset subtracted, and its counter
 * keys, built once per window: the same string objects on every request keep their cached hash for the Map
 * lookups behind WindowCounters, and no key is rebuilt per request (issue 16).
 */
interface ModelWindow {
  end: number;
  base: WindowTotals;
  readonly requestsKey: string;
  readonly tokensKey: string;
  readonly costKey: string;
}

/** A provider's spend keys for its current UTC day and month, rebuilt when either changes. */
interface SpendKeys {
  readonly day: string;
  readonly month: string;
  readonly dailyKey: string;
  readonly monthlyKey: string;
}

function modelWindow(id: string, end: number): ModelWindow {
  return { end, base: { requests: 0, tokens: 0, cost: 0 }, requestsKey: keys.requests(id, end), tokensKey: keys.tokens(id, end), costKey: keys.cost(id, end) };
}

export class CounterWindows {
  readonly #counters: WindowCounters;
  /** Per model: its current quota window. */
  readonly #windows = new Map<string, ModelWindow>();
  /** Per provider: the keys of its current spend windows (bounded by the configured providers). */
  readonly #spendKeys = new Map<string, SpendKeys>();

  constructor(counters: WindowCounters) {
    this.#counters = counters;
  }

  /** max(own record, counter): a window restored from the state file (which the counters never saw) still counts. */
  windowTotals(id: string, s: ModelState): WindowTotals {
    const w = this.#windows.get(id);
    if (w === undefined) return { requests: s.window_requests, tokens: s.window_tokens, cost: s.window_cost };
    return {
      requests: Math.max(s.window_requests, this.#counters.get(w.requestsKey) - w.base.requests),
      tokens: Math.max(s.window_tokens, this.#counters.get(w.tokensKey) - w.base.tokens),
      cost: Math.max(s.window_cost, this.#counters.get(w.costKey) - w.base.cost),
    };
  }

  spendTotals(id: string, p: ProviderState): SpendTotals {
    const k = this.#spend(id, p);
    return {
      daily: Math.max(p.spend_daily, this.#counters.get(k.dailyKey)),
      monthly: Math.max(p.spend_monthly, this.#counters.get(k.monthlyKey)),
    };
  }

  /** One request's usage in the model's quota window. */
  addModelUsage(id: string, usage: Usage): void {
    let w = this.#windows.get(id);
    if (w === undefined || w.end !== usage.windowEnd) this.#windows.set(id, (w = modelWindow(id, usage.windowEnd)));
    this.#counters.add(w.requestsKey, 1, usage.windowEnd, usage.at);
    this.#counters.add(w.tokensKey, usage.tokens, usage.windowEnd, usage.at);
    this.#counters.add(w.costKey, usage.cost, usage.windowEnd, usage.at);
  }

  /** One request's cost in the provider's UTC day and month (`p` is already rolled to them). */
  addSpend(provider: string, p: ProviderState, usage: Usage): void {
    if (usage.cost > 0) {
      const k = this.#spend(provider, p);
      this.#counters.add(k.dailyKey, usage.cost, usage.dayEnd, usage.at);
      this.#counters.add(k.monthlyKey, usage.cost, usage.monthEnd, usage.at);
    }
  }

  #spend(provider: string, p: ProviderState): SpendKeys {
    let k = this.#spendKeys.get(provider);
    if (k === undefined || k.day !== p.day || k.month !== p.month) {
      k = { day: p.day, month: p.month, dailyKey: keys.daily(provider, p.day), monthlyKey: keys.monthly(provider, p.month) };
      this.#spendKeys.set(provider, k);
    }
    return k;
  }

  /** An operator reset: the shared counters cannot be taken back, so what they hold now is subtracted for the rest of the window. */
  resetWindow(id: string): void {
    const w = this.#windows.get(id);
    if (w === undefined) return;
    w.base = {
      requests: this.#counters.get(w.requestsKey), tokens: this.#counters.get(w.tokensKey), cost: this.#counters.get(w.costKey),
    };
  }
}
