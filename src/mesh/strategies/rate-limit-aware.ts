// modelmesh.rate-limit-aware.v1: stay on a model until its known rate limit is nearly used up, then switch
// before the upstream starts answering 429 (DESIGN §6). Headroom = remaining / limit (the tighter of
// requests and tokens) from the upstream's x-ratelimit-* headers, recorded in `observe`, and/or local
// counting against `rate_limit.max_rpm` over the last minute; unknown = full. A model is "ok" while its
// headroom is at least `rate_limit.threshold`.
// - The pick: the first ok model in priority order. With `min_delta` > 0 (hysteresis) the current model
//   is kept while it is ok unless the new pick has at least `min_delta` more headroom, so two models
//   near the threshold do not alternate on every request. `min_delta: 0` is plain priority.
// - Nothing ok: the model with the most headroom (same hysteresis).
// - Decision: models under the threshold are never dropped, only ordered last (most headroom first):
//   a reading can be stale, and a possible 429 beats a certain "no model available". So this strategy
//   never returns an empty order and `fallback_strategy` is not consulted.
import type { PoolConfig } from '../../config/types.ts';
import { recordRate, relativeHeadroom } from '../ratelimit.ts';
import type { AttemptOutcome, ModelEntry, Strategy, StrategyContext } from '../types.ts';
import { priorityOrder } from './order.ts';

export class RateLimitAware implements Strategy {
  readonly id = 'modelmesh.rate-limit-aware.v1';
  readonly #pool: PoolConfig;
  /** The previous pick (hysteresis). */
  #current: string | null = null;

  constructor(pool: PoolConfig) {
    this.#pool = pool;
  }

  order(candidates: readonly ModelEntry[], ctx: StrategyContext): ModelEntry[] {
    const { threshold, min_delta: minDelta, max_rpm: maxRpm } = this.#pool.rate_limit;
    const base = priorityOrder(candidates, this.#pool);
    const rooms = base.map((m) => relativeHeadroom(ctx.state, m.id, maxRpm) ?? 1);
    const room = (i: number): number => rooms[i] as number;
    const cur = this.#current === null ? -1 : base.findIndex((m) => m.id === this.#current);
    let pick = rooms.findIndex((r) => r >= threshold);
    if (pick !== -1) {
      if (minDelta > 0 && cur !== -1 && cur !== pick && room(cur) >= threshold && room(pick) - room(cur) < minDelta) pick = cur;
    } else {
      pick = 0;
      for (let i = 1; i < rooms.length; i++) if (room(i) > room(pick)) pick = i;
      if (minDelta > 0 && cur !== -1 && cur !== pick && room(cur) > 0 && room(pick) - room(cur) < minDelta) pick = cur;
    }
    const first = base[pick];
    if (first === undefined) return base;
    this.#current = first.id;
    const ok: ModelEntry[] = [first];
    const low: number[] = [];
    for (let i = 0; i < base.length; i++) {
      if (i === pick) continue;
      if (room(i) >= threshold) ok.push(base[i] as ModelEntry);
      else low.push(i);
    }
    low.sort((a, b) => room(b) - room(a));
    for (const i of low) ok.push(base[i] as ModelEntry);
    return ok;
  }

  observe(model: ModelEntry, outcome: AttemptOutcome, ctx: StrategyContext): void {
    recordRate(ctx.state, model.id, outcome, this.#pool.rate_limit.max_rpm);
  }
}
