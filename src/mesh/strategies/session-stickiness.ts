// modelmesh.session-stickiness.v1: the same session stays on the same model while that model stays
// eligible (DESIGN §6), e.g. to keep a provider-side prompt cache warm. The session id comes from the
// `x-session-id` header or the body's `user` (StrategyContext.sessionId). A new session, or one whose
// model is not eligible now (standby, missing a feature), takes the priority order; the model that then
// answers becomes the session's model. Requests without a session id use the priority order.
// Memory is bounded: an LRU of MAX_SESSIONS entries (a Map keeps insertion order; a hit re-inserts).
import type { PoolConfig } from '../../config/types.ts';
import type { AttemptOutcome, ModelEntry, Strategy, StrategyContext } from '../types.ts';
import { priorityOrder } from './order.ts';

export const MAX_SESSIONS = 10_000;

export class SessionStickiness implements Strategy {
  readonly id = 'modelmesh.session-stickiness.v1';
  private readonly pool: PoolConfig;
  private readonly maxSessions: number;
  /** session id → model id, least recently used first. */
  private readonly sessions = new Map<string, string>();

  constructor(pool: PoolConfig, maxSessions = MAX_SESSIONS) {
    this.pool = pool;
    this.maxSessions = maxSessions;
  }

  order(candidates: readonly ModelEntry[], ctx: StrategyContext): ModelEntry[] {
    const ordered = priorityOrder(candidates, this.pool);
    const session = ctx.sessionId;
    if (session === null) return ordered;
    const sticky = this.sessions.get(session);
    if (sticky === undefined) return ordered;
    this.touch(session, sticky);
    const i = ordered.findIndex((m) => m.id === sticky);
    if (i > 0) ordered.unshift(...ordered.splice(i, 1));
    return ordered;
  }

  observe(model: ModelEntry, outcome: AttemptOutcome, ctx: StrategyContext): void {
    if (!outcome.ok || ctx.sessionId === null) return;
    this.touch(ctx.sessionId, model.id);
  }

  /** The model a session is pinned to (tests, /mesh/status). */
  sessionModel(session: string): string | undefined {
    return this.sessions.get(session);
  }

  get size(): number {
    return this.sessions.size;
  }

  private touch(session: string, modelId: string): void {
    this.sessions.delete(session);
    this.sessions.set(session, modelId);
    if (this.sessions.size > this.maxSessions) {
      const oldest = this.sessions.keys().next();
      if (oldest.done !== true) this.sessions.delete(oldest.value);
    }
  }
}
