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

export class CounterWindows {
  readonly #counters: WindowCounters;
  /** Per model: the end of its current quota window, and the counter values an operator reset subtracted. */
  readonly #windows = new Map<string, { end: number; base: WindowTotals }>();

  constructor(counters: WindowCounters) {
    this.#counters = counters;
  }

  /** max(own record, counter): a window restored from the state file (which the counters never saw) still counts. */
  windowTotals(id: string, s: ModelState): WindowTotals {
    const w = this.#windows.get(id);
    if (w === undefined) return { requests: s.window_requests, tokens: s.window_tokens, cost: s.window_cost };
    return {
      requests: Math.max(s.window_requests, this.#counters.get(keys.requests(id, w.end)) - w.base.requests),
      tokens: Math.max(s.window_tokens, this.#counters.get(keys.tokens(id, w.end)) - w.base.tokens),
      cost: Math.max(s.window_cost, this.#counters.get(keys.cost(id, w.end)) - w.base.cost),
    };
  }

  spendTotals(id: string, p: ProviderState): SpendTotals {
    return {
      daily: Math.max(p.spend_daily, this.#counters.get(keys.daily(id, p.day))),
      monthly: Math.max(p.spend_monthly, this.#counters.get(keys.monthly(id, p.month))),
    };
  }

  /** One request's usage in the model's quota window. */
  addModelUsage(id: string, usage: Usage): void {
    const w = this.#windows.get(id);
    if (w === undefined || w.end !== usage.windowEnd) this.#windows.set(id, { end: usage.windowEnd, base: { requests: 0, tokens: 0, cost: 0 } });
    this.#counters.add(keys.requests(id, usage.windowEnd), 1, usage.windowEnd);
    this.#counters.add(keys.tokens(id, usage.windowEnd), usage.tokens, usage.windowEnd);
    this.#counters.add(keys.cost(id, usage.windowEnd), usage.cost, usage.windowEnd);
  }

  /** One request's cost in the provider's UTC day and month (`p` is already rolled to them). */
  addSpend(provider: string, p: ProviderState, usage: Usage): void {
    if (usage.cost > 0) {
      this.#counters.add(keys.daily(provider, p.day), usage.cost, usage.dayEnd);
      this.#counters.add(keys.monthly(provider, p.month), usage.cost, usage.monthEnd);
    }
  }

  /** An operator reset: the shared counters cannot be taken back, so what they hold now is subtracted for the rest of the window. */
  resetWindow(id: string): void {
    const w = this.#windows.get(id);
    if (w === undefined) return;
    w.base = {
      requests: this.#counters.get(keys.requests(id, w.end)), tokens: this.#counters.get(keys.tokens(id, w.end)), cost: this.#counters.get(keys.cost(id, w.end)),
    };
  }
}
