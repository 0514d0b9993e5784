// modelmesh.load-balanced.v1: spread requests in proportion to each model's rate-limit headroom
// (DESIGN §6). `balance_mode: absolute` weighs by requests left (x-ratelimit-remaining-requests and/or
// `rate_limit.max_rpm` minus the last minute's count); `relative` by remaining / limit. Models without
// data weigh 1 (relative) or as much as the best known model (absolute); with no data at all, or all
// weights 0, every model weighs the same.
// Decision: deterministic smooth weighted round-robin (nginx's SWRR) instead of weighted random: the
// split is exact over any window (3:1 → exactly 3 of every 4 requests), and interleaved (A,A,B,A, not
// A,A,A,B), with O(candidates) work and no randomness in tests. The rest of the order (fallback chain)
// is by weight, heaviest first.
import type { PoolConfig } from '../../config/types.ts';
import { absoluteHeadroom, recordRate, relativeHeadroom } from '../ratelimit.ts';
import type { AttemptOutcome, ModelEntry, Strategy, StrategyContext } from '../types.ts';
import { priorityOrder } from './order.ts';

export class LoadBalanced implements Strategy {
  readonly id = 'modelmesh.load-balanced.v1';
  readonly #pool: PoolConfig;
  /** SWRR running weights per model id (bounded by the pool's members). */
  readonly #running = new Map<string, number>();

  constructor(pool: PoolConfig) {
    this.#pool = pool;
  }

  /** The weight of each candidate, in the order given. */
  weights(candidates: readonly ModelEntry[], ctx: StrategyContext): number[] {
    const maxRpm = this.#pool.rate_limit.max_rpm;
    const relative = this.#pool.balance_mode === 'relative';
    const raw = candidates.map((m) => (relative ? relativeHeadroom(ctx.state, m.id, maxRpm) : absoluteHeadroom(ctx.state, m.id, maxRpm)));
    let most = 0;
    for (const w of raw) if (w !== null && w > most) most = w;
    // Unknown is treated as fresh: as much headroom as the best known model, so it gets measured.
    const unknown = relative || most === 0 ? 1 : most;
    const weights = raw.map((w) => w ?? unknown);
    if (weights.every((w) => w <= 0)) weights.fill(1);
    return weights;
  }

  order(candidates: readonly ModelEntry[], ctx: StrategyContext): ModelEntry[] {
    const base = priorityOrder(candidates, this.#pool);
    if (base.length <= 1) return base;
    const weights = this.weights(base, ctx);
    let total = 0;
    let best = 0;
    let bestValue = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < base.length; i++) {
      const id = (base[i] as ModelEntry).id;
      const w = weights[i] as number;
      const value = (this.#running.get(id) ?? 0) + w;
      this.#running.set(id, value);
      total += w;
      if (value > bestValue) {
        bestValue = value;
        best = i;
      }
    }
    const pick = base[best] as ModelEntry;
    this.#running.set(pick.id, bestValue - total);
    const rest = base.map((m, i) => ({ m, w: weights[i] as number })).filter((x) => x.m !== pick);
    rest.sort((a, b) => b.w - a.w);
    return [pick, ...rest.map((x) => x.m)];
  }

  observe(model: ModelEntry, outcome: AttemptOutcome, ctx: StrategyContext): void {
    recordRate(ctx.state, model.id, outcome, this.#pool.rate_limit.max_rpm);
  }
}
