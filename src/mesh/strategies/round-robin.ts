// modelmesh.round-robin.v1: each request starts at the model after the previous pick, cycling over the
// pool's members in priority order (DESIGN §6). Models that are not eligible for a request are skipped,
// so the eligible ones alternate exactly (A,B,C,A,B,C; with B in standby: A,C,A,C). The cursor is per pool
// (one strategy instance per pool) and advances when the order is made, not when the answer arrives, so
// concurrent requests spread too. The rest of the ring, in cycle order, is the fallback chain.
import type { PoolConfig } from '../../config/types.ts';
import type { ModelEntry, Strategy, StrategyContext } from '../types.ts';
import { priorityOrder } from './order.ts';

export class RoundRobin implements Strategy {
  readonly id = 'modelmesh.round-robin.v1';
  readonly #pool: PoolConfig;
  /** Members in priority order, rebuilt only when the pool's member list changes (never per request). */
  #members: readonly ModelEntry[] | null = null;
  #ring: ModelEntry[] = [];
  /** Index in `ring` of the previous pick. */
  #cursor = -1;

  constructor(pool: PoolConfig) {
    this.#pool = pool;
  }

  order(candidates: readonly ModelEntry[], ctx: StrategyContext): ModelEntry[] {
    if (ctx.pool.members !== this.#members) {
      this.#members = ctx.pool.members;
      this.#ring = priorityOrder(ctx.pool.members, this.#pool);
    }
    const ring = this.#ring;
    const n = ring.length;
    const ordered: ModelEntry[] = [];
    let first = -1;
    for (let step = 1; step <= n; step++) {
      const i = (this.#cursor + step) % n;
      const model = ring[i] as ModelEntry;
      if (!candidates.includes(model)) continue;
      if (first === -1) first = i;
      ordered.push(model);
    }
    // Candidates outside the ring (not pool members) cannot be cycled; they go last, as given.
    if (ordered.length < candidates.length) for (const model of candidates) if (!ordered.includes(model)) ordered.push(model);
    if (first !== -1) this.#cursor = first;
    return ordered;
  }
}
