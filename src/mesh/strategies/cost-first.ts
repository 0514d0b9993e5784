// modelmesh.cost-first.v1: the cheapest eligible model first, by `pricing` input_per_1m + output_per_1m
// (USD per million tokens); the fallback chain continues in price order. Equal prices keep the priority
// order (`model_priority`, `provider_priority`, member order): the sort is stable.
import type { PoolConfig } from '../../config/types.ts';
import type { ModelEntry, Strategy } from '../types.ts';
import { priorityOrder } from './order.ts';

export function price(model: ModelEntry): number {
  const p = model.config.pricing;
  return p.input_per_1m + p.output_per_1m;
}

const byPrice = (a: ModelEntry, b: ModelEntry): number => price(a) - price(b);

export class CostFirst implements Strategy {
  readonly id = 'modelmesh.cost-first.v1';
  readonly #pool: PoolConfig;

  constructor(pool: PoolConfig) {
    this.#pool = pool;
  }

  order(candidates: readonly ModelEntry[]): ModelEntry[] {
    return priorityOrder(candidates, this.#pool).sort(byPrice);
  }
}
