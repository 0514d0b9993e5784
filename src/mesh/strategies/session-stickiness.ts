// modelmesh.session-stickiness.v1: the same session stays on the same model while that model stays
// eligible (DESIGN §6), e.g. to keep a provider-side prompt cache warm. The session id comes from the
// `x-session-id` header or the body's `user` (StrategyContext.sessionId). A new session, or one whose
// model is not eligible now (standby, missing a feature), takes the priority order; the model that then
// answers becomes the session's model. Requests without a session id use the priority order.
// Pins live in a SessionPinStore (session-pins.ts): an in-process LRU by default, shared between instances
// when storage is on Redis (issue 13); the composition root injects it. The strategy tells the store which
// pin it ordered by, so the store can tell a kept pin from a new one or a move (a failover).
import type { PoolConfig } from '../../config/types.ts';
import type { AttemptOutcome, ModelEntry, Strategy, StrategyContext } from '../types.ts';
import { priorityOrder } from './order.ts';
import { LocalSessionPins, MAX_SESSIONS, type SessionPinStore } from './session-pins.ts';

export { MAX_SESSIONS };

export class SessionStickiness implements Strategy {
  readonly id = 'modelmesh.session-stickiness.v1';
  readonly #pool: PoolConfig;
  readonly #pins: SessionPinStore;
  /** The pin each request was ordered by (the context is one object per request; null: no pin then). */
  readonly #seen = new WeakMap<StrategyContext, string | null>();

  /** `pins`: the store to use, or the size of a private in-process LRU (default MAX_SESSIONS). */
  constructor(pool: PoolConfig, pins: SessionPinStore | number = MAX_SESSIONS) {
    this.#pool = pool;
    this.#pins = typeof pins === 'number' ? new LocalSessionPins(pins) : pins;
  }

  order(candidates: readonly ModelEntry[], ctx: StrategyContext): ModelEntry[] {
    const ordered = priorityOrder(candidates, this.#pool);
    const session = ctx.sessionId;
    if (session === null) return ordered;
    const sticky = this.#pins.get(this.#pool.name, session);
    this.#seen.set(ctx, sticky ?? null);
    if (sticky === undefined) return ordered;
    const i = ordered.findIndex((m) => m.id === sticky);
    if (i > 0) ordered.unshift(...ordered.splice(i, 1));
    return ordered;
  }

  observe(model: ModelEntry, outcome: AttemptOutcome, ctx: StrategyContext): void {
    if (!outcome.ok || ctx.sessionId === null) return;
    const seen = this.#seen.get(ctx);
    // Observed without an order() of this strategy (e.g. it is the fallback): compare with the pin now.
    const previous = seen === undefined ? this.#pins.peek(this.#pool.name, ctx.sessionId) : (seen ?? undefined);
    this.#pins.pin(this.#pool.name, ctx.sessionId, model.id, previous);
  }

  /** The model a session is pinned to (tests, /mesh/status). */
  sessionModel(session: string): string | undefined {
    return this.#pins.peek(this.#pool.name, session);
  }

  get size(): number {
    return this.#pins.size(this.#pool.name);
  }
}
