// modelmesh.latency-first.v1: the model with the lowest observed latency first, by the EWMA the router
// records for every successful attempt (`state.model(id).latency_ewma`, alpha 0.2). Models never tried yet
// go first, in priority order, so each one is measured once (exploration); models tried but never
// successful (no EWMA) go last. Ties and the unexplored keep the priority order.
import type { PoolConfig } from '../../config/types.ts';
import type { AttemptOutcome, ModelEntry, Strategy, StrategyContext } from '../types.ts';
import { priorityOrder } from './order.ts';

export class LatencyFirst implements Strategy {
  readonly id = 'modelmesh.latency-first.v1';
  readonly #pool: PoolConfig;
  /** Models that have had at least one attempt through this pool (bounded by the pool's members). */
  readonly #tried = new Set<string>();

  constructor(pool: PoolConfig) {
    this.#pool = pool;
  }

  order(candidates: readonly ModelEntry[], ctx: StrategyContext): ModelEntry[] {
    const base = priorityOrder(candidates, this.#pool);
    const key = (m: ModelEntry): number => {
      const ewma = ctx.state.model(m.id).latency_ewma;
      if (ewma !== null) return ewma;
      return this.#tried.has(m.id) ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
    };
    const keys = new Map<ModelEntry, number>();
    for (const m of base) keys.set(m, key(m));
    return base.sort((a, b) => (keys.get(a) as number) - (keys.get(b) as number) || 0);
  }

  observe(model: ModelEntry, _outcome: AttemptOutcome): void {
    this.#tried.add(model.id);
  }
}
