// modelmesh.stick-until-failure.v1 (the default): keep using the model that last succeeded until it
// fails, then move down the priority order and stick with whichever succeeds next.
import type { PoolConfig } from '../../config/types.ts';
import type { AttemptOutcome, ModelEntry, Strategy } from '../types.ts';
import { priorityOrder } from './order.ts';

export class StickUntilFailure implements Strategy {
  readonly id = 'modelmesh.stick-until-failure.v1';
  readonly #pool: PoolConfig;
  #current: string | null = null;

  constructor(pool: PoolConfig) {
    this.#pool = pool;
  }

  order(candidates: readonly ModelEntry[]): ModelEntry[] {
    const ordered = priorityOrder(candidates, this.#pool);
    const i = this.#current === null ? -1 : ordered.findIndex((m) => m.id === this.#current);
    if (i > 0) ordered.unshift(...ordered.splice(i, 1));
    return ordered;
  }

  observe(model: ModelEntry, outcome: AttemptOutcome): void {
    if (outcome.ok) this.#current = model.id;
    else if (this.#current === model.id) this.#current = null;
  }
}
