// Runtime types shared by the registry, router, strategies and policies (kept apart to avoid import cycles).
import type { ModelConfig, PoolConfig } from '../config/types.ts';
import type { Provider } from '../providers/provider.ts';
import type { Clock } from '../lib/clock.ts';
import type { StateStore } from './state.ts';

export interface ModelEntry {
  readonly id: string;
  readonly config: ModelConfig;
  /** Full capability paths. */
  readonly capabilities: readonly string[];
  readonly provider: Provider;
}

export interface PoolEntry {
  readonly name: string;
  readonly config: PoolConfig;
  /** Resolved capability node, or null for an explicit-models-only pool. */
  readonly capability: string | null;
  /** Members in preference order: explicit `models` first, then capability members in config order. */
  readonly members: readonly ModelEntry[];
  readonly strategy: Strategy;
  /** Used when the primary strategy orders nothing (every candidate filtered by its own rules). */
  readonly fallback: Strategy | null;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
}

/** What a strategy may look at when ordering candidates for one request. */
export interface StrategyContext {
  readonly pool: PoolEntry;
  readonly state: StateStore;
  readonly clock: Clock;
  /** From `x-session-id` or the body's `user` (session-stickiness). */
  readonly sessionId: string | null;
  readonly requestId: string;
}

/** Feedback after each attempt. */
export interface AttemptOutcome {
  readonly ok: boolean;
  /** Upstream status (0 transport failure). */
  readonly status: number;
  readonly latencyMs: number;
  /** Upstream response headers when there was a response (x-ratelimit-*). */
  readonly headers: Readonly<Record<string, string | string[] | undefined>> | null;
}

/**
 * A selection strategy (DESIGN §6). One instance per pool, so per-pool memory (round-robin cursor,
 * sticky pick) lives in the instance. `order` returns the candidates to try, first = the pick.
 */
export interface Strategy {
  readonly id: string;
  order(candidates: readonly ModelEntry[], ctx: StrategyContext): ModelEntry[];
  observe?(model: ModelEntry, outcome: AttemptOutcome, ctx: StrategyContext): void;
}
