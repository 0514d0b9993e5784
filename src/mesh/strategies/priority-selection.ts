// modelmesh.priority-selection.v1: strict priority order on every request (DESIGN §6). No memory: the
// first eligible model in that order is always the pick, so traffic returns to the preferred model as
// soon as it is active again.
// The order: models named in `model_priority`, then those of providers named in `provider_priority`, then
// the rest. With a `fallback_strategy`, "the rest" (models the priorities do not name) is ordered by that
// strategy instead of member order — `model_priority: [gpt-4o, claude]` + `fallback_strategy: cost-first`
// means "these two in this order, then whatever is cheapest".
import type { PoolConfig } from '../../config/types.ts';
import type { AttemptOutcome, ModelEntry, Strategy, StrategyContext } from '../types.ts';
import { priorityOrder } from './order.ts';

export class PrioritySelection implements Strategy {
  readonly id = 'modelmesh.priority-selection.v1';
  readonly #pool: PoolConfig;

  constructor(pool: PoolConfig) {
    this.#pool = pool;
  }

  order(candidates: readonly ModelEntry[], ctx: StrategyContext): ModelEntry[] {
    const ordered = priorityOrder(candidates, this.#pool);
    const fallback = ctx.pool.fallback;
    if (fallback === null || fallback === this) return ordered;
    const named = ordered.filter((m) => this.#named(m));
    if (named.length === ordered.length) return ordered;
    const rest = fallback.order(ordered.filter((m) => !this.#named(m)), ctx);
    return named.concat(rest);
  }

  /** The fallback strategy learns from the attempts on the models it ordered (latency, sessions, limits). */
  observe(model: ModelEntry, outcome: AttemptOutcome, ctx: StrategyContext): void {
    if (!this.#named(model)) ctx.pool.fallback?.observe?.(model, outcome, ctx);
  }

  #named(model: ModelEntry): boolean {
    return this.#pool.model_priority.includes(model.id) || this.#pool.provider_priority.includes(model.config.provider);
  }
}
